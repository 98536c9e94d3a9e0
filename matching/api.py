"""Match suggestions over the API: list with filters, decide (merge / not a match) — on the
same services as the merge queue."""

from __future__ import annotations

import django_filters as df
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response
from rest_framework.views import APIView

from c360.kernel.api import IdCursorPagination, IdField, has_perms
from c360.kernel.filters import IdFilter
from matching.models import MatchSuggestion, SuggestionStatus
from parties.models import PartyKind


class SuggestionApiFilter(df.FilterSet):
    status = df.ChoiceFilter(choices=SuggestionStatus.choices)
    score_min = df.NumberFilter(field_name="score", lookup_expr="gte", help_text="Lowest cluster score.")
    score_max = df.NumberFilter(field_name="score", lookup_expr="lte", help_text="Highest cluster score.")
    source_system = df.CharFilter(method="in_source", help_text="Name of a source system of a member.")
    country = df.CharFilter(method="in_country", help_text="ISO country of a member's address.")
    kind = df.ChoiceFilter(choices=[*PartyKind.choices, ("mixed", "Mixed")])
    party = IdFilter(field_name="members__party_id", help_text="Suggestions with this party.")
    updated_since = df.IsoDateTimeFilter(
        method="since", help_text="Created or decided at or after (ISO 8601)."
    )

    class Meta:
        model = MatchSuggestion
        fields = [
            "status",
            "score_min",
            "score_max",
            "source_system",
            "country",
            "kind",
            "party",
            "updated_since",
        ]

    def in_source(self, queryset, name, value):
        from parties.models import SourceSystem

        source = SourceSystem.objects.filter(name__iexact=value.strip()).first()
        return queryset.filter(sources__contains=f",{source.pk},") if source else queryset.none()

    def in_country(self, queryset, name, value):
        return queryset.filter(countries__contains=f",{value.strip().upper()},")

    def since(self, queryset, name, value):
        from django.db.models import Q

        return queryset.filter(Q(created_at__gte=value) | Q(decided_at__gte=value))


class MemberOut(serializers.Serializer):
    party_id = serializers.IntegerField()
    score = serializers.FloatField()


class SuggestionOut(serializers.ModelSerializer):
    members = serializers.SerializerMethodField()
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True, default=None)

    class Meta:
        model = MatchSuggestion
        fields = [
            "id",
            "status",
            "score",
            "size",
            "kind",
            "members",
            "evidence",
            "risk",
            "risk_reasons",
            "created_at",
            "decided_at",
            "decided_by",
        ]

    @staticmethod
    def _members(suggestion) -> list[dict]:
        return [{"party_id": m.party_id, "score": m.score} for m in suggestion.members.all()]

    def get_members(self, suggestion) -> list[dict]:
        return MemberOut(self._members(suggestion), many=True).data


class DecisionIn(serializers.Serializer):
    decision = serializers.ChoiceField(choices=[("merge", "merge"), ("not_a_match", "not a match")])
    survivor_id = IdField(required=False, help_text="merge: the party that survives.")
    party_ids = serializers.ListField(
        child=IdField(),
        required=False,
        min_length=2,
        help_text="merge: only these members (default: all).",
    )
    party_id = IdField(required=False, help_text="not_a_match: only this member leaves the cluster.")


class SplitIn(serializers.Serializer):
    groups = serializers.ListField(
        child=serializers.ListField(child=IdField(), allow_empty=False),
        min_length=2,
        help_text="Party ids per group, e.g. [[1, 2], [3, 4]]: every member of the suggestion in "
        "exactly one group, at least two groups. Each group of two or more merges; every pair "
        "across groups is recorded as not a match.",
    )
    survivor_ids = serializers.ListField(
        child=IdField(),
        required=False,
        default=list,
        help_text="The party that survives in each merging group (default: the merge's choice).",
    )


class SuggestionViewSet(viewsets.ReadOnlyModelViewSet):
    """Match suggestions, by cursor (ordered by id); filter by status, score, source, country."""

    lookup_value_regex = "[0-9]+"  # ids in digits 0-9 only (\d would read "٣" as 3): else a 404

    serializer_class = SuggestionOut
    pagination_class = IdCursorPagination
    filterset_class = SuggestionApiFilter
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    ordering_fields = ["id", "score", "created_at"]
    permission_classes = [has_perms("matching.view_matchsuggestion")]

    def get_queryset(self):
        return MatchSuggestion.objects.select_related("decided_by").prefetch_related("members").distinct()

    @extend_schema(request=DecisionIn, responses=SuggestionOut)
    @action(
        detail=True,
        methods=["post"],
        filter_backends=[],
        permission_classes=[has_perms("matching.change_matchsuggestion")],
    )
    def decide(self, request, pk=None):
        """Merge the suggestion's parties, or say they are not a match (a steward's decision:
        audited with the API client and used as a training label)."""
        from matching.services.decisions import SuggestionClosed, suggestion_reject
        from matching.services.review import SuggestionStale, suggestion_merge
        from parties.services.merge import AlreadyHandled, MergeRefused

        suggestion = self.get_object()
        data = DecisionIn(data=request.data)
        data.is_valid(raise_exception=True)
        decision = data.validated_data["decision"]
        try:
            if decision == "merge":
                if not request.user.has_perm("parties.merge_party"):
                    raise PermissionDenied("Your role may not merge parties.")
                suggestion_merge(
                    suggestion_id=suggestion.pk,
                    user=request.user,
                    party_ids=data.validated_data.get("party_ids"),
                    survivor_id=data.validated_data.get("survivor_id"),
                )
            else:
                suggestion_reject(
                    suggestion_id=suggestion.pk,
                    user=request.user,
                    party_id=data.validated_data.get("party_id"),
                )
        except (AlreadyHandled, SuggestionClosed) as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        except SuggestionStale as exc:
            return Response(
                {"detail": f"{exc} Read it again and decide on what it says now."},
                status=status.HTTP_409_CONFLICT,
            )
        except (MergeRefused, ValueError) as exc:
            raise ValidationError({"non_field_errors": [str(exc)]}) from None
        return Response(SuggestionOut(self.get_queryset().get(pk=suggestion.pk)).data)

    @extend_schema(request=SplitIn, responses=SuggestionOut)
    @action(
        detail=True,
        methods=["post"],
        filter_backends=[],
        permission_classes=[has_perms("matching.change_matchsuggestion", "parties.merge_party")],
    )
    def split(self, request, pk=None):
        """Split the suggestion into groups: each group of two or more parties merges, every
        pair across groups is recorded as not a match (a steward's decision: audited and used
        as training labels). 409 when someone decided it first or its parties changed."""
        from matching.services.decisions import SuggestionClosed
        from matching.services.review import SuggestionStale
        from matching.services.split import SplitRefused, suggestion_split
        from parties.services.merge import AlreadyHandled, MergeRefused

        suggestion = self.get_object()
        data = SplitIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            suggestion_split(
                suggestion_id=suggestion.pk,
                groups=data.validated_data["groups"],
                survivor_ids=data.validated_data["survivor_ids"],
                user=request.user,
            )
        except SplitRefused as exc:
            raise ValidationError({"groups": [str(exc)]}) from None
        except (AlreadyHandled, SuggestionClosed) as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        except SuggestionStale as exc:
            return Response(
                {"detail": f"{exc} Read it again and decide on what it says now."},
                status=status.HTTP_409_CONFLICT,
            )
        except MergeRefused as exc:
            raise ValidationError({"non_field_errors": [str(exc)]}) from None
        return Response(SuggestionOut(self.get_queryset().get(pk=suggestion.pk)).data)


# ---------------------------------------------------------------------------------------------
# Match on entry: POST /api/v1/parties/match/


def _candidate_field(name: str) -> serializers.CharField:
    return serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=320 if name.startswith("email") else 1000 if name == "address_line1" else 255,
        help_text=f"The canonical import column {name!r}, read as an import reads it.",
    )


class MatchIn(serializers.Serializer):
    """A candidate customer in the canonical import columns (the import template's), and what
    to do with it. Fields not listed are refused (a misspelt ``emial`` would otherwise match
    on less than the client meant)."""

    source_system = serializers.CharField(
        required=False,
        max_length=100,
        help_text="The system the customer comes from: its date order and phone region apply; "
        "required with create.",
    )
    source_key = serializers.CharField(
        required=False, max_length=255, help_text="The customer's key in that system; required with create."
    )
    create = serializers.BooleanField(  # type: ignore[assignment]  # a field, not Serializer.create
        default=False,
        help_text="Also create the party (and a pending suggestion when a match reaches the review "
        "threshold). Needs the permission to add parties.",
    )
    limit = serializers.IntegerField(
        default=10, min_value=1, max_value=50, help_text="How many matches at most (default 10)."
    )

    def get_fields(self):
        from matching.services.entry import CANDIDATE_COLUMNS

        fields = super().get_fields()
        for name in CANDIDATE_COLUMNS:
            fields[name] = _candidate_field(name)
        return fields

    def validate(self, attrs):
        unknown = sorted(set(getattr(self, "initial_data", {}) or {}) - set(self.fields))
        if unknown:
            raise ValidationError(dict.fromkeys(unknown, ["unknown field."]))
        if attrs.get("create"):
            missing = {
                name: ["required when create is true."]
                for name in ("source_system", "source_key")
                if not (attrs.get(name) or "").strip()
            }
            if missing:
                raise ValidationError(missing)
        return attrs


class ComparisonOut(serializers.Serializer):
    level = serializers.CharField(help_text="How the two compare, in words.")
    weight = serializers.FloatField(required=False, help_text="The log-odds the model adds for it.")


class EvidenceOut(serializers.Serializer):
    comparisons = serializers.DictField(child=ComparisonOut(), help_text="Per comparison (cmp:given, …).")
    signals = serializers.ListField(child=serializers.CharField(), help_text="Strong signals that fired.")
    household = serializers.BooleanField(help_text="They look like two people of one household.")


class MatchOut(serializers.Serializer):
    party_id = serializers.IntegerField()
    display_name = serializers.CharField()
    kind = serializers.CharField()
    url = serializers.CharField(help_text="The party in the API.")
    score = serializers.FloatField(help_text="The probability that both are one customer.")
    band = serializers.ChoiceField(
        choices=["auto_merge", "review", "below"],
        help_text="What the thresholds make of the score: auto-merge, review, or below review.",
    )
    evidence = EvidenceOut()
    shared_keys = serializers.IntegerField(help_text="Block keys shared (a standard rule's count 3).")


class ProblemOut(serializers.Serializer):
    field = serializers.CharField()
    value = serializers.CharField()
    reason = serializers.CharField()


class LinkOut(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()


class MatchResultOut(serializers.Serializer):
    matches = MatchOut(many=True)
    model_id = serializers.IntegerField(help_text="The matcher model that scored.")
    review_threshold = serializers.FloatField()
    auto_merge_threshold = serializers.FloatField(allow_null=True)
    block_keys = serializers.IntegerField(help_text="The candidate's block keys.")
    candidates = serializers.IntegerField(help_text="Parties found through them and scored.")
    problems = ProblemOut(many=True, help_text="Values standardization could not read (kept raw).")
    created = LinkOut(allow_null=True, help_text="create: the new party.")
    suggestion = LinkOut(allow_null=True, help_text="create: the pending suggestion, if a match is likely.")


class ErrorOut(serializers.Serializer):
    detail = serializers.CharField()


class PartyMatchView(APIView):
    """Match a customer on entry: the existing parties most likely to be the same customer."""

    permission_classes = [has_perms("parties.view_party")]
    serializer_class = MatchIn

    @extend_schema(
        request=MatchIn,
        responses={200: MatchResultOut, 201: MatchResultOut, 409: ErrorOut},
        operation_id="parties_match",
    )
    def post(self, request):
        """Score a candidate customer against the stored parties with the active matcher:
        the best matches with score, band (auto-merge / review / below) and per-field
        evidence. ``create: true`` also creates the party (201) and, when a match reaches the
        review threshold, a pending suggestion of both instead of a silent duplicate. 409
        when there is no trained matcher yet, or the source already holds the key."""
        from django.urls import reverse

        from matching.services.entry import NoActiveModel, RecordExists, party_match, party_match_create
        from parties.models import SourceSystem

        data = MatchIn(data=request.data)
        data.is_valid(raise_exception=True)
        attrs = data.validated_data
        candidate = {
            k: v for k, v in attrs.items() if k not in ("source_system", "source_key", "create", "limit")
        }
        if attrs["create"] and not request.user.has_perm("parties.add_party"):
            raise PermissionDenied("Your role may not create parties (needs parties.add_party).")
        source = None
        if attrs.get("source_system"):
            source = SourceSystem.objects.filter(name__iexact=attrs["source_system"].strip()).first()
            if source is None:
                raise ValidationError(
                    {"source_system": [f"no source system named {attrs['source_system']!r}."]}
                )
        try:
            if attrs["create"]:
                assert source is not None  # MatchIn requires it with create  # noqa: S101
                result = party_match_create(
                    candidate=candidate,
                    source=source,
                    source_key=attrs["source_key"],
                    limit=attrs["limit"],
                    actor=request.user,
                )
            else:
                result = party_match(candidate=candidate, source=source, limit=attrs["limit"])
        except (NoActiveModel, RecordExists) as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)

        def party_url(pk: int) -> str:
            return request.build_absolute_uri(reverse("api:party-detail", args=[pk]))

        body = {
            "matches": [
                {
                    "party_id": m.party_id,
                    "display_name": m.display_name,
                    "kind": m.kind,
                    "url": party_url(m.party_id),
                    "score": m.score,
                    "band": m.band,
                    "evidence": m.evidence,
                    "shared_keys": m.shared_keys,
                }
                for m in result.matches
            ],
            "model_id": result.model_id,
            "review_threshold": result.review_threshold,
            "auto_merge_threshold": result.auto_merge_threshold,
            "block_keys": result.block_keys,
            "candidates": result.candidates,
            "problems": result.problems,
            "created": (
                {"id": result.created_party_id, "url": party_url(result.created_party_id)}
                if result.created_party_id
                else None
            ),
            "suggestion": (
                {
                    "id": result.suggestion_id,
                    "url": request.build_absolute_uri(
                        reverse("api:suggestion-detail", args=[result.suggestion_id])
                    ),
                }
                if result.suggestion_id
                else None
            ),
        }
        return Response(
            body, status=status.HTTP_201_CREATED if result.created_party_id else status.HTTP_200_OK
        )

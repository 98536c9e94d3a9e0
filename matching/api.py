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

"""Consents over the API: eligibility and suppression lists, a party's consents, ledger and
preferences, and privacy requests — on the same services as the pages."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.response import Response

from c360.kernel.api import IdCursorPagination, IdField, has_perms
from consents.models import (
    ActorKind,
    Channel,
    ConsentEvent,
    ConsentStatus,
    ContactFrequency,
    ContactPointConsent,
    ContactPointTypeConsent,
    DataUsePurpose,
    PrivacyPreference,
)
from consents.selectors import party_or_404
from consents.services.eligibility import (
    POINTS,
    eligible_points,
    suppression_reason,
    suppression_rows,
)
from consents.services.ledger import Actor, consent_set, preferences_set


class EligibilityQuery(serializers.Serializer):
    channel = serializers.ChoiceField(choices=[c for c in Channel.values if c in POINTS])
    purpose = serializers.SlugRelatedField(
        slug_field="code", queryset=DataUsePurpose.objects.filter(is_active=True)
    )
    on = serializers.DateField(help_text="The date the list is for (YYYY-MM-DD).")


class ContactPointRow(serializers.Serializer):
    party_id = serializers.IntegerField()
    contact_point_id = serializers.IntegerField(source="pk")
    contact_point = serializers.CharField(source="normalized")
    consent = serializers.CharField(help_text="The consent in effect: opt_in, opt_out, seen, not_seen or ''.")


class SuppressedRow(ContactPointRow):
    reason = serializers.SerializerMethodField()

    def get_reason(self, point) -> str:
        query = self.context["query"]
        return suppression_reason(point, channel=query["channel"], purpose=query["purpose"])


class _ListView(ListAPIView):
    permission_classes = [has_perms("consents.view_contactpointtypeconsent")]
    pagination_class = IdCursorPagination
    filter_backends: list = []

    def query(self) -> dict:
        if not hasattr(self, "_query"):
            query = EligibilityQuery(data=self.request.query_params)
            query.is_valid(raise_exception=True)
            self._query = query.validated_data
        return self._query

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "query": self.query()}


class EligibleList(_ListView):
    """Contact points that may be contacted for a purpose on a channel and date."""

    serializer_class = ContactPointRow

    def get_queryset(self):
        return eligible_points(**self.query())


class SuppressedList(_ListView):
    """Contact points that must not be contacted for the purpose, each with why."""

    serializer_class = SuppressedRow

    def get_queryset(self):
        return suppression_rows(**self.query())


# --- a party's consents, their history, preferences ----------------------------------------


class ChannelConsentOut(serializers.ModelSerializer):
    purpose = serializers.CharField(source="purpose.code")

    class Meta:
        model = ContactPointTypeConsent
        fields = [
            "channel",
            "purpose",
            "status",
            "effective_from",
            "effective_to",
            "captured_at",
            "capture_source",
            "capture_channel",
            "double_opt_in_at",
            "updated_at",
        ]


class PointConsentOut(serializers.ModelSerializer):
    purpose = serializers.CharField(source="purpose.code")

    class Meta:
        model = ContactPointConsent
        fields = [
            "point_kind",
            "point_id",
            "purpose",
            "status",
            "effective_from",
            "effective_to",
            "captured_at",
            "capture_source",
            "double_opt_in_at",
            "updated_at",
        ]


class PreferencesOut(serializers.ModelSerializer):
    # the party the preferences were saved on: a merged party's survivor when asked of its id
    party_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = PrivacyPreference
        fields = [
            "party_id",
            "do_not_process",
            "do_not_profile",
            "do_not_track",
            "do_not_solicit",
            "preferred_channel",
            "preferred_language",
            "contact_frequency",
            "interests",
            "updated_at",
        ]


class PartyConsentsOut(serializers.Serializer):
    party_id = serializers.IntegerField()
    channels = ChannelConsentOut(many=True)
    contact_points = PointConsentOut(many=True)
    preferences = PreferencesOut(allow_null=True)


class ConsentIn(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    purpose = serializers.SlugField(help_text="A purpose code, e.g. newsletter.")
    status = serializers.ChoiceField(choices=ConsentStatus.choices)
    capture_source = serializers.CharField(max_length=200, help_text="Where the customer said so.")
    captured_at = serializers.DateTimeField(required=False, help_text="When (default: now).")
    double_opt_in_at = serializers.DateTimeField(required=False, allow_null=True)
    effective_from = serializers.DateTimeField(required=False, allow_null=True)
    effective_to = serializers.DateTimeField(required=False, allow_null=True)
    evidence = serializers.CharField(max_length=2000, required=False, default="")


class PreferencesIn(serializers.Serializer):
    do_not_process = serializers.BooleanField(required=False)
    do_not_profile = serializers.BooleanField(required=False)
    do_not_track = serializers.BooleanField(required=False)
    do_not_solicit = serializers.BooleanField(required=False)
    preferred_channel = serializers.ChoiceField(choices=[("", "none"), *Channel.choices], required=False)
    preferred_language = serializers.CharField(max_length=16, required=False, allow_blank=True)
    contact_frequency = serializers.ChoiceField(choices=ContactFrequency.choices, required=False)
    interests = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, max_length=50
    )
    capture_source = serializers.CharField(max_length=200, help_text="Where the customer said so.")


class LedgerEntryOut(serializers.ModelSerializer):
    class Meta:
        model = ConsentEvent
        fields = [
            "id",
            "scope",
            "key",
            "previous",
            "new",
            "actor_kind",
            "actor_label",
            "import_job_id",
            "import_line",
            "capture_source",
            "evidence",
            "occurred_at",
        ]


def api_actor(request) -> Actor:
    """The ledger's actor for an API request: the token's client, or the signed-in user."""
    token = getattr(request.user, "api_token", None)
    if token is not None:
        return Actor(kind=ActorKind.API, user=request.user, label=f"API client {token.name}")
    return Actor.of_user(request.user)


def _party_consents(party_id: int) -> dict:
    return {
        "party_id": party_id,
        "channels": ContactPointTypeConsent.objects.filter(party_id=party_id)
        .select_related("purpose")
        .order_by("channel", "purpose__code"),
        "contact_points": ContactPointConsent.objects.filter(party_id=party_id)
        .select_related("purpose")
        .order_by("point_kind", "point_id", "purpose__code"),
        "preferences": PrivacyPreference.objects.filter(party_id=party_id).first(),
    }


class PartyConsentsView(GenericAPIView):
    """A party's consents per channel and per contact point, and its privacy preferences;
    ``POST`` sets one channel consent (recorded in the ledger with the API client as actor)."""

    serializer_class = ConsentIn
    filter_backends: list = []

    def get_permissions(self):
        perm = (
            "consents.change_contactpointtypeconsent"
            if self.request.method == "POST"
            else "consents.view_contactpointtypeconsent"
        )
        return [has_perms(perm)()]

    @extend_schema(responses=PartyConsentsOut)
    def get(self, request, pk: int):
        party_or_404(pk)
        return Response(PartyConsentsOut(_party_consents(pk)).data)

    @extend_schema(request=ConsentIn, responses={201: PartyConsentsOut})
    def post(self, request, pk: int):
        party_or_404(pk)
        data = ConsentIn(data=request.data)
        data.is_valid(raise_exception=True)
        # a merged party's change goes to its survivor: the answer is the survivor's consents
        row = consent_set(party_id=pk, actor=api_actor(request), **data.validated_data)
        return Response(PartyConsentsOut(_party_consents(row.party_id)).data, status=status.HTTP_201_CREATED)


class PartyPreferencesView(GenericAPIView):
    serializer_class = PreferencesIn
    filter_backends: list = []
    permission_classes = [has_perms("consents.change_privacypreference")]

    @extend_schema(request=PreferencesIn, responses=PreferencesOut)
    def patch(self, request, pk: int):
        """Change some privacy preferences (recorded in the ledger)."""
        party_or_404(pk)
        data = PreferencesIn(data=request.data, partial=False)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        source = changes.pop("capture_source")
        if not changes:
            raise ValidationError({"non_field_errors": ["name at least one preference to change"]})
        row = preferences_set(party_id=pk, changes=changes, actor=api_actor(request), capture_source=source)
        return Response(PreferencesOut(row).data)


class PartyLedgerView(ListAPIView):
    """A party's consent ledger, oldest first, by cursor."""

    serializer_class = LedgerEntryOut
    pagination_class = IdCursorPagination
    filter_backends: list = []
    permission_classes = [has_perms("consents.view_contactpointtypeconsent")]

    def get_queryset(self):
        party_or_404(self.kwargs["pk"])
        return ConsentEvent.objects.filter(party_id=self.kwargs["pk"])


# --- privacy requests -------------------------------------------------------------------------


class AccessExportView(GenericAPIView):
    """Everything held about the customer as one JSON document (recorded in its history)."""

    permission_classes = [has_perms("consents.handle_privacy_request")]
    filter_backends: list = []
    serializer_class = serializers.Serializer

    @extend_schema(responses={200: {"type": "object", "additionalProperties": True}})
    def get(self, request, pk: int):
        from django.http import HttpResponse

        from consents.services.privacy import subject_access_export_recorded

        party_or_404(pk)
        text = subject_access_export_recorded(party_id=pk, actor=request.user, via="API")
        return HttpResponse(text, content_type="application/json; charset=utf-8")


class ErasureIn(serializers.Serializer):
    request_reference = serializers.CharField(max_length=200, help_text="e.g. the ticket number")
    confirm = IdField(help_text="The party's id again, to confirm.")


class ErasureOut(serializers.Serializer):
    party_id = serializers.IntegerField()
    party_ids = serializers.ListField(child=serializers.IntegerField())
    event_id = serializers.IntegerField()
    tombstones = serializers.IntegerField()
    counts = serializers.DictField(child=serializers.IntegerField())
    files_removed = serializers.ListField(child=serializers.IntegerField())
    files_rewritten = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Import jobs whose file was rewritten without the customer's rows",
    )


class ErasureView(GenericAPIView):
    """Erase the customer (right to be forgotten): cannot be undone."""

    permission_classes = [has_perms("consents.erase_party")]
    filter_backends: list = []
    serializer_class = ErasureIn

    @extend_schema(request=ErasureIn, responses=ErasureOut)
    def post(self, request, pk: int):
        from consents.services.erasure import party_erase

        party_or_404(pk)
        data = ErasureIn(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data["confirm"] != pk:
            raise ValidationError({"confirm": [f"send {pk} to confirm the erasure of party {pk}"]})
        result = party_erase(party_id=pk, actor=request.user, reason=data.validated_data["request_reference"])
        return Response(ErasureOut(result).data)

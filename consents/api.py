"""Consents over the API: eligibility and suppression lists (the same services as the
eligibility page and its CSV downloads)."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.generics import ListAPIView

from c360.api import IdCursorPagination, has_perms
from consents.models import Channel, DataUsePurpose
from consents.services.eligibility import (
    POINTS,
    eligible_points,
    suppression_reason,
    suppression_rows,
)


class EligibilityQuery(serializers.Serializer):
    channel = serializers.ChoiceField(choices=[c for c in Channel.values if c in POINTS])
    purpose = serializers.SlugRelatedField(slug_field="code",
                                           queryset=DataUsePurpose.objects.filter(is_active=True))
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

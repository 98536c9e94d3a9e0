"""The party's consents in the API's party detail (``parties.extensions.party_api_part_register``)."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from consents.models import ContactPointTypeConsent
from parties.extensions import PartyApiPart


class ConsentSummary(serializers.Serializer):
    channel = serializers.CharField()
    purpose = serializers.CharField()
    status = serializers.CharField()
    captured_at = serializers.DateTimeField(allow_null=True)
    capture_source = serializers.CharField()


@extend_schema_field(ConsentSummary(many=True))
class PartyConsents(serializers.Field):
    """The party's channel consents (read from the prefetched rows)."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, party) -> list[dict]:
        return [
            {
                "channel": c.channel,
                "purpose": c.purpose.code,
                "status": c.status,
                "captured_at": c.captured_at,
                "capture_source": c.capture_source,
            }
            for c in party.channel_consents.all()
        ]


def _prefetch() -> list[Prefetch]:
    return [Prefetch("channel_consents", queryset=ContactPointTypeConsent.objects.select_related("purpose"))]


PARTY_API_PART = PartyApiPart(name="consents", field=PartyConsents, prefetch=_prefetch, after="memberships")

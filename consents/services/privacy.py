"""Privacy requests. The subject access export: everything held about a customer as one JSON
document — the golden record, every source record with its raw payload, contact points,
identifiers, engagements, memberships, relationships, consents and their ledger, privacy
preferences, and the merge history — including what came from parties merged into it."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone

from consents.models import ConsentEvent, ContactPointConsent, ContactPointTypeConsent, PrivacyPreference
from parties.models import (
    ContactPointAddress,
    ContactPointEmail,
    ContactPointPhone,
    ContactPointSocial,
    Engagement,
    Membership,
    Party,
    PartyEvent,
    PartyIdentification,
    PartyRelationship,
    SourceRecord,
)
from parties.selectors import party_and_merged_ids  # noqa: F401 - callers import it from here too

EXPORT_VERSION = 1


def _rows(queryset: models.QuerySet, exclude: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k not in exclude} for row in queryset.order_by("pk").values()]


def subject_access_export_recorded(*, party_id: int, actor, via: str) -> str:
    """The export as JSON text, recorded in the party's history (``via``: page or API)."""
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    from parties.services.events import access_export_event

    document = subject_access_export(party_id=party_id)
    access_export_event(party_id=party_id, actor=actor, reason=f"subject access export ({via})")
    return json.dumps(document, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)


def subject_access_export(*, party_id: int) -> dict[str, Any]:
    """Everything held about the party (and the parties merged into it), JSON-ready with
    Django's encoder."""
    ids = party_and_merged_ids(party_id)
    party = Party.objects.values().get(pk=party_id)
    return {
        "export": {
            "version": EXPORT_VERSION,
            "created_at": timezone.now(),
            "party_id": party_id,
            "includes_merged_parties": ids[1:],
        },
        "golden_record": party,
        "merged_parties": _rows(Party.objects.filter(pk__in=ids[1:])),
        "source_records": _rows(SourceRecord.objects.filter(party_id__in=ids)),
        "emails": _rows(ContactPointEmail.objects.filter(party_id__in=ids)),
        "phones": _rows(ContactPointPhone.objects.filter(party_id__in=ids)),
        "addresses": _rows(ContactPointAddress.objects.filter(party_id__in=ids)),
        "social_profiles": _rows(ContactPointSocial.objects.filter(party_id__in=ids)),
        "identifiers": _rows(PartyIdentification.objects.filter(party_id__in=ids)),
        "engagements": _rows(Engagement.objects.filter(party_id__in=ids)),
        "memberships": _rows(Membership.objects.filter(party_id__in=ids)),
        "relationships": _rows(
            PartyRelationship.objects.filter(models.Q(from_party_id__in=ids) | models.Q(to_party_id__in=ids))
        ),
        "consents": _rows(ContactPointTypeConsent.objects.filter(party_id__in=ids)),
        "contact_point_consents": _rows(ContactPointConsent.objects.filter(party_id__in=ids)),
        "privacy_preferences": _rows(PrivacyPreference.objects.filter(party_id__in=ids)),
        "consent_ledger": _rows(ConsentEvent.objects.filter(party_id__in=ids), exclude=("actor_id",)),
        "history": _rows(
            PartyEvent.objects.filter(parties__in=ids).distinct(), exclude=("actor_id", "changes")
        ),
    }

"""The party's own rows: the parties themselves, their source records, contact points,
identifiers, engagements, memberships, relationships and overrides. Rows that other records or
statistics need stay, emptied; relationships and overrides go."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Q

from consents.services.erasure.base import ERASED
from consents.services.erasure.values import PARTY_NULLED, PARTY_PERSONAL, POINT_MODELS
from parties.models import (
    ContactPointAddress,
    ContactPointPhone,
    ContactPointSocial,
    DataQualityIssue,
    Engagement,
    GoldenOverride,
    Membership,
    Party,
    PartyIdentification,
    PartyRelationship,
    SourceRecord,
    Validity,
)

EMPTIED_POINT_FIELDS = {
    ContactPointAddress: {"line1": "", "line2": "", "city": "", "region": "", "postal_code": ""},
    ContactPointPhone: {"extension": ""},
    ContactPointSocial: {"url": ""},
}


def party_rows_empty(ids: Sequence[int], now) -> dict[str, int]:
    """Empty the parties' rows; returns how many of each kind (the erasure entry's counts)."""
    counts = {}
    parties = Party.objects.filter(pk__in=ids)
    counts["parties"] = parties.update(
        erased_at=now,
        display_name="Erased customer",
        **dict.fromkeys(PARTY_PERSONAL, ""),
        **dict.fromkeys(PARTY_NULLED),
    )
    records = SourceRecord.objects.filter(party_id__in=ids)
    record_ids = list(records.values_list("pk", flat=True))
    counts["source_records"] = len(record_ids)
    for pk in record_ids:  # source keys are unique per system: each gets its own placeholder
        SourceRecord.objects.filter(pk=pk).update(
            source_key=f"erased-{pk}", raw_payload={}, standardized={}, content_hash=""
        )
    DataQualityIssue.objects.filter(source_record_id__in=record_ids).update(value=ERASED)
    erased_point = {
        "is_active": False,
        "is_primary": False,
        "validity": Validity.INVALID,
        "validity_reason": "erased on request",
    }
    for name, model in POINT_MODELS.items():
        points = model.objects.filter(party_id__in=ids)
        counts[name] = points.count()
        extra = EMPTIED_POINT_FIELDS.get(model, {})
        for pk in points.values_list("pk", flat=True):
            model.objects.filter(pk=pk).update(
                raw_value=f"erased-{pk}", normalized=f"erased-{pk}", **erased_point, **extra
            )
    identifiers = PartyIdentification.objects.filter(party_id__in=ids)
    counts["identifiers"] = identifiers.count()
    for pk in identifiers.values_list("pk", flat=True):
        PartyIdentification.objects.filter(pk=pk).update(value=f"erased-{pk}", normalized=f"erased-{pk}")
    counts["engagements"] = Engagement.objects.filter(party_id__in=ids).update(external_id="", attributes={})
    counts["memberships"] = Membership.objects.filter(party_id__in=ids).update(member_number="")
    counts["relationships"] = PartyRelationship.objects.filter(
        Q(from_party_id__in=ids) | Q(to_party_id__in=ids)
    ).delete()[0]
    counts["overrides"] = GoldenOverride.objects.filter(party_id__in=ids).delete()[0]
    return counts

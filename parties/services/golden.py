"""The golden record: each golden attribute of a party, chosen from its source records.

The rule for now is source trust rank, then the most recently updated record; configurable
per-attribute survivorship rules and steward overrides build on this (merge-queue issue).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db import transaction

from parties.models import Party, SourceRecord

if TYPE_CHECKING:
    from parties.services.records import StandardizedRow

GOLDEN_ATTRIBUTES = (
    "salutation", "given_name", "middle_name", "family_name", "name_suffix", "birth_date",
    "gender", "organization_name",
)


def golden_values(candidates: Iterable[tuple[int, StandardizedRow | dict[str, Any]]]) -> dict:
    """Pick every golden attribute from ``(trust_rank, standardized row)`` pairs given best
    first: the first non-empty value wins. Attributes no candidate has are set empty."""
    chosen: dict[str, Any] = {}
    for _rank, row in candidates:
        attributes = row.attributes if hasattr(row, "attributes") else row.get("attributes", {})
        for name in GOLDEN_ATTRIBUTES:
            if name not in chosen and attributes.get(name):
                chosen[name] = attributes[name]
    values: dict[str, Any] = {name: chosen.get(name, "") for name in GOLDEN_ATTRIBUTES}
    values["birth_date"] = date.fromisoformat(values["birth_date"]) if values["birth_date"] else None
    return values


@transaction.atomic
def party_golden_refresh(*, party_id: int) -> Party:
    """Recompute a party's golden attributes from its source records and save them.

    Safe to run any number of times: the result depends only on the source records.
    """
    party = Party.objects.select_for_update().get(pk=party_id)
    records = (
        SourceRecord.objects.filter(party=party)
        .select_related("source_system")
        .order_by("source_system__trust_rank", "-source_updated_at", "-last_seen_at", "pk")
    )
    values = golden_values((r.source_system.trust_rank, r.standardized) for r in records)
    for name, value in values.items():
        setattr(party, name, value)
    if records:
        kinds = [r.standardized.get("kind") for r in records if r.standardized.get("kind")]
        if kinds:
            party.kind = kinds[0]
    party.display_name = party.compute_display_name()
    party.save()
    return party

"""The golden record: each golden attribute of a party, chosen from its source records by the
attribute's survivorship rule, unless a steward's override says otherwise.

Rules (``SurvivorshipRule``, set per attribute by administrators; absent means trust rank):
- trust rank: the best-ranked source system's value, then the most recently updated record;
- most recent: the most recently updated record's value, then trust rank;
- most frequent: the value the most records agree on (case-insensitively), then trust rank;
- most complete: the longest value, then trust rank.
Every golden value remembers the record and rule that produced it (``golden_explain``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction

from c360.kernel.labels import field_label
from parties.models import GoldenOverride, Party, Rule, SourceRecord, SurvivorshipRule

if TYPE_CHECKING:
    from parties.services.records import StandardizedRow

GOLDEN_ATTRIBUTES = (
    "salutation",
    "given_name",
    "middle_name",
    "family_name",
    "name_suffix",
    "birth_date",
    "gender",
    "organization_name",
)
OVERRIDE = "override"
ATTRIBUTE_LABELS = {
    name: field_label(name)
    for name in (  # the site's words (c360.kernel.labels)
        "salutation",
        "given_name",
        "middle_name",
        "family_name",
        "name_suffix",
        "birth_date",
        "gender",
        "organization_name",
    )
}


@dataclass(frozen=True)
class Candidate:
    """One source record as survivorship sees it."""

    record_id: int | None
    source: str
    trust_rank: int
    updated_at: datetime | None
    attributes: Mapping[str, Any]


@dataclass(frozen=True)
class GoldenValue:
    attribute: str
    value: Any
    rule: str  # a Rule value, or OVERRIDE
    record_id: int | None = None
    source: str = ""
    updated_at: datetime | None = None
    override: GoldenOverride | None = None

    @property
    def rule_label(self) -> str:
        return "steward override" if self.rule == OVERRIDE else Rule(self.rule).label.lower()


def _trust_order(candidates: Sequence[Candidate]) -> list[Candidate]:
    by_recency = sorted(
        candidates,
        key=lambda c: (
            c.updated_at is None,
            -(c.updated_at.timestamp() if c.updated_at else 0),
            c.record_id or 0,
        ),
    )
    return sorted(by_recency, key=lambda c: c.trust_rank)


def _pick(attribute: str, rule: str, candidates: Sequence[Candidate]) -> Candidate | None:
    trusted = [c for c in _trust_order(candidates) if c.attributes.get(attribute)]
    if not trusted:
        return None
    if rule == Rule.MOST_RECENT:
        dated = [(c.updated_at, c) for c in trusted if c.updated_at]
        return max(dated, key=lambda pair: pair[0])[1] if dated else trusted[0]
    if rule == Rule.MOST_FREQUENT:
        counts = Counter(str(c.attributes[attribute]).casefold() for c in trusted)
        best = max(counts.values())
        return next(c for c in trusted if counts[str(c.attributes[attribute]).casefold()] == best)
    if rule == Rule.LONGEST:
        longest = max(len(str(c.attributes[attribute])) for c in trusted)
        return next(c for c in trusted if len(str(c.attributes[attribute])) == longest)
    return trusted[0]


def _typed(attribute: str, value: Any) -> Any:
    if attribute == "birth_date":
        if isinstance(value, date):
            return value
        return date.fromisoformat(value) if value else None
    return value or ""


def golden_compute(
    candidates: Sequence[Candidate],
    *,
    rules: Mapping[str, str] | None = None,
    overrides: Mapping[str, GoldenOverride] | None = None,
) -> dict[str, GoldenValue]:
    """Every golden attribute with the record and rule that produced it."""
    rules, overrides = rules or {}, overrides or {}
    golden: dict[str, GoldenValue] = {}
    for attribute in GOLDEN_ATTRIBUTES:
        if attribute in overrides:
            override = overrides[attribute]
            golden[attribute] = GoldenValue(
                attribute, _typed(attribute, override.value), OVERRIDE, override=override
            )
            continue
        rule = rules.get(attribute, Rule.TRUST_RANK)
        chosen = _pick(attribute, rule, candidates)
        golden[attribute] = GoldenValue(
            attribute,
            _typed(attribute, chosen.attributes[attribute] if chosen else ""),
            rule,
            record_id=chosen.record_id if chosen else None,
            source=chosen.source if chosen else "",
            updated_at=chosen.updated_at if chosen else None,
        )
    return golden


def golden_values(candidates: Iterable[tuple[int, StandardizedRow | dict[str, Any]]]) -> dict:
    """Golden attributes of a new party from ``(trust_rank, standardized row)`` pairs given
    best first (imports: one record, where every rule agrees)."""
    found = [
        Candidate(
            None, "", rank, None, row.attributes if hasattr(row, "attributes") else row.get("attributes", {})
        )
        for rank, row in candidates
    ]
    return {name: value.value for name, value in golden_compute(found).items()}


def candidates_of(records: Iterable[SourceRecord]) -> list[Candidate]:
    """Records (with ``source_system`` loaded) as survivorship candidates."""
    return [
        Candidate(
            r.pk,
            r.source_system.name,
            r.source_system.trust_rank,
            r.source_updated_at or r.last_seen_at,
            r.standardized.get("attributes") or {},
        )
        for r in records
    ]


def rules_current() -> dict[str, str]:
    return dict(SurvivorshipRule.objects.values_list("attribute", "rule"))


def golden_explain(
    *,
    party_id: int,
    extra_record_ids: Sequence[int] = (),
    overrides: Mapping[str, GoldenOverride] | None = None,
) -> dict[str, GoldenValue]:
    """The golden values of a party (plus ``extra_record_ids``: a merge preview) with the
    record and rule behind each."""
    records = SourceRecord.objects.filter(party_id=party_id) | SourceRecord.objects.filter(
        pk__in=list(extra_record_ids)
    )
    if overrides is None:
        overrides = {o.attribute: o for o in GoldenOverride.objects.filter(party_id=party_id)}
    return golden_compute(
        candidates_of(records.select_related("source_system")), rules=rules_current(), overrides=overrides
    )


@transaction.atomic
def party_golden_refresh(*, party_id: int) -> Party:
    """Recompute a party's golden attributes from its source records, rules and overrides,
    and save them. Safe to run any number of times: the result depends only on those."""
    # FOR NO KEY UPDATE, like parties_lock (merge.py), whose docstring gives the lock order
    party = Party.objects.select_for_update(no_key=connection.features.has_select_for_no_key_update).get(
        pk=party_id
    )
    records = list(SourceRecord.objects.filter(party=party).select_related("source_system"))
    golden = golden_explain(party_id=party_id)
    changed = [name for name, value in golden.items() if getattr(party, name) != value.value]
    for name, value in golden.items():
        setattr(party, name, value.value)
    kinds = [
        r.standardized.get("kind")
        for r in sorted(records, key=lambda r: (r.source_system.trust_rank, r.pk))
        if r.standardized.get("kind")
    ]
    if kinds:
        party.kind = kinds[0]
    party.display_name = party.compute_display_name()
    party.save()
    party.golden_changed = changed  # for the callers' change events
    return party

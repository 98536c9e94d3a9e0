"""What merging a review's ticked parties would give beyond the golden attributes, and what
the steward should look at before merging.

- ``golden_contact_points``: every email, phone, address, social profile and identifier the
  survivor would hold, de-duplicated the way ``parties.services.merge`` de-duplicates them
  (on each table's per-party unique key: a value the survivor already holds gains the other
  row's provenance instead of moving), with the parties and source records behind each.
- ``merge_conflicts``: birth dates, genders, salutation against gender (Herr and Frau),
  given names, identifiers of one type, addresses in different countries, an organization
  with an individual; apps add theirs (consents) through ``parties.extensions``.

Reads only: nothing here writes. ``tests/matching/test_review_preview.py`` merges the same
parties and checks the survivor holds exactly what the preview listed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models import Prefetch, UniqueConstraint

from c360.kernel.addresses import address_text, country_name
from matching.comparisons import GIVEN_LEVELS, LEGAL_REGISTRATIONS, _fold, given_level
from parties.extensions import merge_participants
from parties.models import (
    ContactPointAddress,
    ContactPointEmail,
    ContactPointPhone,
    ContactPointSocial,
    Gender,
    Party,
    PartyIdentification,
    PartyKind,
    SourceRecord,
)
from parties.services.golden import GoldenValue

# --- contact points ----------------------------------------------------------------------


def merge_key(model: type[models.Model]) -> tuple[str, ...]:
    """The fields a merge de-duplicates ``model``'s rows on: its per-party unique constraint
    (a party cannot hold two rows with one key, so the merge keeps the survivor's row and gives
    it the other row's provenance)."""
    for constraint in model._meta.constraints:
        if isinstance(constraint, UniqueConstraint) and tuple(constraint.fields[:1]) == ("party",):
            return tuple(constraint.fields[1:])
    raise LookupError(f"{model.__name__} has no per-party unique constraint")


@dataclass(frozen=True)
class Provenance:
    party_id: int
    source: str  # the source system's name; "" for a value staff entered
    source_key: str = ""

    @property
    def text(self) -> str:
        where = f"{self.source} {self.source_key}".strip() if self.source else "entered by staff"
        return f"{where} · party #{self.party_id}"


@dataclass
class GoldenPoint:
    value: str
    detail: str = ""  # "mobile", "issued by CRM", …
    primary: bool = False
    invalid: bool = False
    provenance: list[Provenance] = field(default_factory=list)

    @property
    def party_ids(self) -> list[int]:
        return sorted({p.party_id for p in self.provenance})


@dataclass
class PointGroup:
    kind: str  # "emails"
    label: str  # "Emails"
    points: list[GoldenPoint]
    inactive: int = 0  # deactivated values the survivor also keeps (not listed)


# a row the merge preview lists: a contact point or an identifier
PointRow = (
    ContactPointEmail | ContactPointPhone | ContactPointAddress | ContactPointSocial | PartyIdentification
)


def _shown(row: PointRow) -> tuple[str, str]:
    """(value, detail) as the preview shows a row."""
    if isinstance(row, ContactPointEmail):
        return row.normalized or row.raw_value, row.get_usage_display().lower()
    if isinstance(row, ContactPointPhone):
        value = row.normalized or row.raw_value
        detail = ", ".join(
            d
            for d in [
                row.get_phone_type_display().lower() if row.phone_type else "",
                row.get_usage_display().lower(),
            ]
            if d
        )
        return (f"{value} ext. {row.extension}" if row.extension else value), detail
    if isinstance(row, ContactPointAddress):
        return address_text(row), row.get_usage_display().lower()
    if isinstance(row, ContactPointSocial):
        return f"{row.network}: {row.normalized or row.raw_value}", ""
    issuer = f"issued by {row.issuer}" if row.issuer else ""
    return f"{row.get_identifier_type_display()} {row.value}", issuer


def _records_of(row: PointRow) -> list[SourceRecord]:
    if hasattr(row, "reporting_records"):
        return row.reporting_records()
    return [row.source_record] if row.source_record_id and row.source_record else []


GROUPS = (
    ("emails", "Emails", ContactPointEmail),
    ("phones", "Phones", ContactPointPhone),
    ("addresses", "Addresses", ContactPointAddress),
    ("socials", "Social profiles", ContactPointSocial),
    ("identifiers", "Identifiers", PartyIdentification),
)


def golden_contact_points(merging: Sequence[int], survivor_id: int) -> list[PointGroup]:
    """Every contact point and identifier the survivor would hold after merging ``merging``
    into ``survivor_id``, one per value as the merge keeps them (the survivor's rows first,
    then the other parties' in id order; the survivor keeps its primary value, else the first
    moved primary one becomes primary), each with every party and source record that reported
    it. Groups without a value are left out."""
    order = [survivor_id, *sorted(pid for pid in set(merging) if pid != survivor_id)]
    rank = {pid: i for i, pid in enumerate(order)}
    groups = []
    for kind, label, model in GROUPS:
        key = merge_key(model)
        contact = hasattr(model, "is_primary")
        queryset = model.objects.filter(party_id__in=order).select_related("source_record__source_system")
        if contact:
            # the django-stubs plugin checks the lookup on every model of the union, identifiers
            # included, which `contact` leaves out
            queryset = queryset.prefetch_related(
                Prefetch(  # type: ignore[misc]
                    "other_source_records", queryset=SourceRecord.objects.select_related("source_system")
                )
            )
        rows: list[PointRow] = sorted(
            queryset, key=lambda r: (rank[r.party_id], -getattr(r, "is_primary", False), r.pk)
        )
        kept: dict[tuple, tuple[PointRow, GoldenPoint]] = {}
        has_primary = contact and any(
            getattr(r, "is_primary", False) for r in rows if r.party_id == survivor_id
        )
        for row in rows:
            found = kept.get(tuple(getattr(row, f) for f in key))
            if found is None:
                value, detail = _shown(row)
                primary = False
                if contact:
                    primary = getattr(row, "is_primary", False) and (
                        row.party_id == survivor_id or not has_primary
                    )
                    has_primary = has_primary or primary
                point = GoldenPoint(
                    value=value,
                    detail=detail,
                    primary=primary,
                    invalid=getattr(row, "validity", "") == "invalid",
                )
                kept[tuple(getattr(row, f) for f in key)] = found = (row, point)
            point = found[1]
            seen = set(point.provenance)
            records: list[SourceRecord | None] = [*_records_of(row)] or [None]
            for record in records:
                item = (
                    Provenance(row.party_id, record.source_system.name, record.source_key)
                    if record
                    else Provenance(row.party_id, "")
                )
                if item not in seen:
                    seen.add(item)
                    point.provenance.append(item)
        active = [(row, point) for row, point in kept.values() if getattr(row, "is_active", True)]
        if kept:
            groups.append(PointGroup(kind, label, [p for _, p in active], inactive=len(kept) - len(active)))
    return groups


# --- conflicts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Conflict:
    kind: str  # "birth_date", "gender", "salutation", "given_name", "identifier", "country", "kind", "app"
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Said:
    """One record's value of an attribute, and whose it is."""

    value: Any
    party_id: int
    source: str

    @property
    def where(self) -> str:
        return f"party #{self.party_id}, {self.source}" if self.source else f"party #{self.party_id}"


def _said(
    records: Mapping[int, Sequence[SourceRecord]], merging: Sequence[int], attribute: str
) -> list[Said]:
    return [
        Said(value, pid, record.source_system.name)
        for pid in merging
        for record in records.get(pid, ())
        if (value := (record.standardized.get("attributes") or {}).get(attribute))
    ]


def _listing(said: Iterable[Said], show=str) -> str:
    """ "Herr (party #12, CRM), Frau (party #15, Shop; party #16, POS)"."""
    by_value: dict[str, list[str]] = {}
    for item in said:
        by_value.setdefault(show(item.value), [])
        if item.where not in by_value[show(item.value)]:
            by_value[show(item.value)].append(item.where)
    return ", ".join(f"{value} ({'; '.join(where)})" for value, where in sorted(by_value.items()))


def _gender_label(value: Any) -> str:
    return Gender(value).label.lower() if value in Gender.values else str(value)


# The gender a salutation names, in the languages the imports meet; titles (Dr., Prof.) name none.
SALUTATION_GENDER = {
    "male": "herr hr mr mister sir monsieur m. señor senor sr don signor sig heer dhr de heer pan senhor",
    "female": (
        "frau fr mrs ms miss mlle mme madame mademoiselle señora senora sra srta doña dona signora "
        "sig.ra mevrouw mevr pani senhora fräulein frl dame lady"
    ),
}
_SALUTATIONS = {word: gender for gender, words in SALUTATION_GENDER.items() for word in words.split()}


def salutation_gender(salutation: str) -> str:
    """ "male" for "Herr Dr.", "female" for "Mrs.", "" when the salutation names no gender."""
    for word in str(salutation).casefold().replace(",", " ").split():
        gender = _SALUTATIONS.get(word) or _SALUTATIONS.get(word.rstrip("."))
        if gender:
            return gender
    return ""


def _same_person_value(
    conflicts: list[Conflict], kind: str, said: list[Said], golden: GoldenValue, label: str, show=str
) -> None:
    if len({show(s.value) for s in said}) > 1:
        conflicts.append(
            Conflict(
                kind,
                f"Different {label}: {_listing(said, show)}; the golden record "
                f"keeps {show(golden.value) if golden.value else 'none'}.",
            )
        )


def _salutation_conflict(records, merging, golden: Mapping[str, GoldenValue]) -> Conflict | None:
    salutations = [s for s in _said(records, merging, "salutation") if salutation_gender(s.value)]
    genders = [s for s in _said(records, merging, "gender") if s.value in ("female", "male", "non_binary")]
    named = {salutation_gender(s.value) for s in salutations}
    if not named or (len(named) == 1 and all(g.value in named for g in genders)):
        return None
    text = f"Salutation and gender disagree: {_listing(salutations)}"
    if genders:
        text += f"; gender {_listing(genders, _gender_label)}"
    kept_salutation, kept_gender = golden["salutation"].value, golden["gender"].value
    text += (
        f". The golden record keeps {kept_salutation or 'no salutation'} and "
        f"{_gender_label(kept_gender) if kept_gender else 'no gender'}."
    )
    return Conflict("salutation", text)


def _given_name_conflict(records, merging, golden: GoldenValue) -> Conflict | None:
    said = _said(records, merging, "given_name")
    names: dict[str, str] = {}
    for item in said:
        names.setdefault(_fold(str(item.value).casefold()), item.value)
    full = [n for n in names if len(n.rstrip(".")) > 1]
    # An initial ("A.") against a name it begins ("Anna") is not another given name.
    initials = [n for n in names if len(n.rstrip(".")) <= 1 and not any(f.startswith(n[:1]) for f in full)]
    distinct = full + initials
    if len(distinct) < 2:
        return None
    listed = [s for s in said if _fold(str(s.value).casefold()) in distinct]
    text = f"Different given names: {_listing(listed)}"
    if len(distinct) == 2:
        level = given_level(distinct[0], distinct[1])  # folded, lower case: as the matcher compares
        if level == level and int(level) < len(GIVEN_LEVELS) - 1:  # not NaN, not "different"
            text += f" (the matcher reads them as: {GIVEN_LEVELS[int(level)]})"
    return Conflict("given_name", f"{text}; the golden record keeps {golden.value or 'none'}.")


# Numbers a system hands out itself (two systems' customer numbers always differ): compared
# within one issuer. Every other type names one person or company whoever issued it.
_PER_ISSUER = frozenset({"customer_number", "loyalty_number", "other"})


def _identifier_conflicts(merging: Sequence[int]) -> list[Conflict]:
    held: dict[tuple[str, str], dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    shown: dict[tuple[str, str, str], str] = {}
    labels: dict[str, str] = {}
    for row in PartyIdentification.objects.filter(party_id__in=list(merging)):
        scope = (row.identifier_type, row.issuer if row.identifier_type in _PER_ISSUER else "")
        held[scope][row.party_id].add(row.normalized)
        shown.setdefault((*scope, row.normalized), row.value)
        labels[row.identifier_type] = row.get_identifier_type_display()
    conflicts = []
    for (kind, issuer), by_party in sorted(held.items()):
        parties = sorted(by_party)
        clash = any(not by_party[a] & by_party[b] for i, a in enumerate(parties) for b in parties[i + 1 :])
        if not clash:
            continue
        listing = ", ".join(
            f"{', '.join(shown[(kind, issuer, v)] for v in sorted(by_party[pid]))} (party #{pid})"
            for pid in parties
        )
        what = f"{labels[kind].lower()}s" + (f" from {issuer}" if issuer else "")
        extra = " — two legal registrations are two companies" if kind in LEGAL_REGISTRATIONS else ""
        conflicts.append(
            Conflict("identifier", f"Different {what}: {listing}{extra}; the survivor keeps them all.")
        )
    return conflicts


def _country_conflict(merging: Sequence[int]) -> Conflict | None:
    countries: dict[int, set[str]] = defaultdict(set)
    rows = ContactPointAddress.objects.filter(party_id__in=list(merging), is_active=True).exclude(country="")
    for pid, country in rows.values_list("party_id", "country"):
        countries[pid].add(country.upper())
    parties = sorted(countries)
    if not any(not countries[a] & countries[b] for i, a in enumerate(parties) for b in parties[i + 1 :]):
        return None
    where: dict[str, list[str]] = defaultdict(list)
    for pid in parties:
        where[" and ".join(country_name(c) for c in sorted(countries[pid]))].append(f"#{pid}")
    listing = ", ".join(
        f"{name} (part{'ies' if len(ids) > 1 else 'y'} {', '.join(ids)})" for name, ids in where.items()
    )
    return Conflict("country", f"Addresses in different countries: {listing}.")


def _kind_conflict(
    parties: Mapping[int, Party], records, merging: Sequence[int], survivor_id: int
) -> Conflict | None:
    kinds = {pid: parties[pid].kind for pid in merging if pid in parties}
    if len(set(kinds.values())) < 2:
        return None
    # the merged party's kind: its best-ranked record's (``party_golden_refresh``), else the survivor's
    ranked = sorted(
        (r for pid in merging for r in records.get(pid, ())), key=lambda r: (r.source_system.trust_rank, r.pk)
    )
    result = next(
        (r.standardized.get("kind") for r in ranked if r.standardized.get("kind")),
        kinds.get(survivor_id, PartyKind.INDIVIDUAL),
    )
    organizations = [
        f"{parties[p].display_name or p} (party #{p})"
        for p, k in kinds.items()
        if k == PartyKind.ORGANIZATION
    ]
    individuals = [
        f"{parties[p].display_name or p} (party #{p})"
        for p, k in kinds.items()
        if k != PartyKind.ORGANIZATION
    ]
    are_orgs = "is an organization" if len(organizations) == 1 else "are organizations"
    are_people = "is a person" if len(individuals) == 1 else "are people"
    becomes = "an organization" if result == PartyKind.ORGANIZATION else "a person"
    return Conflict(
        "kind",
        f"An organization would merge with an individual: {', '.join(organizations)} "
        f"{are_orgs}, {', '.join(individuals)} {are_people}. The merged party would "
        f"be {becomes}.",
    )


def merge_conflicts(
    *,
    merging: Sequence[int],
    survivor_id: int,
    records: Mapping[int, Sequence[SourceRecord]],
    golden: Mapping[str, GoldenValue],
    parties: Mapping[int, Party],
) -> list[Conflict]:
    """What merging ``merging`` would put in conflict, the most telling first. ``records``:
    each party's source records (``source_system`` loaded); ``golden``: the merged golden
    record (``golden_compute``)."""
    merging = sorted(set(merging))
    if len(merging) < 2:
        return []
    conflicts: list[Conflict] = []
    found = _kind_conflict(parties, records, merging, survivor_id)
    if found:
        conflicts.append(found)
    _same_person_value(
        conflicts,
        "birth_date",
        _said(records, merging, "birth_date"),
        golden["birth_date"],
        "birth dates",
        show=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v),
    )
    _same_person_value(
        conflicts,
        "gender",
        _said(records, merging, "gender"),
        golden["gender"],
        "genders",
        show=_gender_label,
    )
    for found in (
        _salutation_conflict(records, merging, golden),
        _given_name_conflict(records, merging, golden["given_name"]),
        _country_conflict(merging),
    ):
        if found:
            conflicts.append(found)
    conflicts.extend(_identifier_conflicts(merging))
    for participant in merge_participants():
        if participant.conflicts:
            conflicts.extend(Conflict("app", text) for text in participant.conflicts(list(merging)))
    return conflicts


# --- the golden attributes as the preview shows them ------------------------------------------


@dataclass(frozen=True)
class GoldenLine:
    attribute: str
    label: str  # "Given name"
    text: str  # "Anna", "female" → "Female", a date as YYYY-MM-DD
    how: str  # "trust rank · CRM", "steward override"


def golden_lines(golden: Mapping[str, GoldenValue]) -> list[GoldenLine]:
    """The golden attributes that have a value, worded for people."""
    from parties.services.golden import ATTRIBUTE_LABELS

    lines = []
    for attribute, value in golden.items():
        if not value.value:
            continue
        if attribute == "gender":
            text = Gender(value.value).label if value.value in Gender.values else str(value.value)
        else:
            text = value.value.isoformat() if hasattr(value.value, "isoformat") else str(value.value)
        how = " · ".join(p for p in [value.rule_label, value.source] if p)
        lines.append(GoldenLine(attribute, ATTRIBUTE_LABELS.get(attribute, attribute), text, how))
    return lines

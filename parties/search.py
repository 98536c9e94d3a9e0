"""The search box: one query that finds parties by name (typo-tolerant), email, phone in any
format, identifier, source key, postal code or party id, and leads merged parties to their
survivors.

Every way of matching is an indexed lookup, tried only when the text could be one (an email
needs an "@", a phone at least six digits): the box answers in a few milliseconds with a
million parties. Names use trigram similarity on PostgreSQL (``pg_trgm`` with the GIN index of
migration 0016) and, on SQLite, a bounded candidate scan ranked in Python.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from django.db import connection, transaction
from django.db.models import BooleanField, Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL

from parties.models import (
    ContactPointAddress,
    ContactPointEmail,
    ContactPointPhone,
    Party,
    PartyStatus,
    SourceRecord,
)
from parties.services.standardize import collapse, identifier_normalize, phone_normalize

# Trigram similarity from which a name counts as a match. pg_trgm's default, 0.3, misses two
# swapped letters in each of two short words ("Jonh Smiht" ~ "John Smith" scores 0.29).
NAME_SIMILARITY = 0.25
# SQLite: names sharing the first or last two letters of a query word are ranked in Python.
_FALLBACK_CANDIDATES = 5000
_FALLBACK_RATIO = 0.7

_PARTY_ID = re.compile(r"^#?(\d{1,10})$")


@dataclass
class SearchHit:
    party: Party
    matched_on: list[str] = field(default_factory=list)
    score: float = 0.0  # 1.0 for exact matches, the name's similarity otherwise
    via: list[int] = field(default_factory=list)  # merged parties that led here

    @property
    def birth_year(self) -> int | None:
        return self.party.birth_date.year if self.party.birth_date else None

    @property
    def primary_email(self) -> str:
        emails = self.party.emails.all()
        return emails[0].normalized if emails else ""

    @property
    def city(self) -> str:
        addresses = self.party.addresses.all()
        if not addresses:
            return ""
        address = addresses[0]
        return ", ".join(v for v in (address.city, address.country) if v)

    @property
    def sources(self) -> list[str]:
        return sorted({record.source_system.name for record in self.party.source_records.all()})


@dataclass
class SearchResult:
    query: str
    hits: list[SearchHit]
    limited: bool = False  # more parties matched than are shown
    looked_for: list[str] = field(default_factory=list)


def party_find(*, q: str, limit: int = 25, default_region: str = "US") -> SearchResult:
    """Parties matching the search box's text, exact matches first, then names by similarity.
    Merged parties are replaced by their survivors (and say which merged id led there)."""
    text = collapse(q)[:200]
    result = SearchResult(query=text, hits=[])
    if not text:
        return result
    found: dict[int, SearchHit] = {}  # party id (as matched) → hit

    def add(ids: list[int], label: str, score: float = 1.0) -> None:
        for party_id in ids:
            hit = found.setdefault(party_id, SearchHit(party=Party(pk=party_id)))
            if label not in hit.matched_on:
                hit.matched_on.append(label)
            hit.score = max(hit.score, score)

    probe = limit + 1
    for label, condition in _exact_conditions(text, default_region, result.looked_for):
        add(list(Party.objects.filter(condition).values_list("pk", flat=True).distinct()[:probe]), label)
    if any(c.isalpha() for c in text) and "@" not in text:  # an email is not a name
        result.looked_for.append("name")
        for party_id, score in _names_like(text, probe):
            add([party_id], "name", score)

    hits = _resolve_survivors(found)
    hits.sort(key=lambda h: (-h.score, h.party.display_name.lower(), h.party.pk))
    result.limited = len(hits) > limit or len(found) > limit
    result.hits = hits[:limit]
    return result


def _exact_conditions(text: str, default_region: str, looked_for: list[str]) -> list[tuple[str, Q]]:
    """The exact lookups this text could be, each as a condition on Party."""
    conditions: list[tuple[str, Q]] = []
    id_match = _PARTY_ID.match(text)
    if id_match:
        looked_for.append("party id")
        conditions.append(("party id", Q(pk=int(id_match.group(1)))))
    if "@" in text:
        looked_for.append("email")
        email = text.lower()
        conditions.append(("email", Q(Exists(
            ContactPointEmail.objects.filter(party=OuterRef("pk"), normalized=email)))))
    phone = _phone_condition(text, default_region)
    if phone is not None:
        looked_for.append("phone")
        conditions.append(("phone", Q(Exists(
            ContactPointPhone.with_last9().filter(phone, party=OuterRef("pk"))))))
    if len(text) <= 100:
        looked_for.extend(["source key", "identifier"])
        conditions.append(("source key", Q(Exists(
            SourceRecord.objects.filter(party=OuterRef("pk"), source_key=text)))))
        identifier = identifier_normalize(text)
        if identifier:
            from parties.models import PartyIdentification

            conditions.append(("identifier", Q(Exists(
                PartyIdentification.objects.filter(party=OuterRef("pk"), normalized=identifier)))))
    if len(text) <= 10 and any(c.isdigit() for c in text):
        looked_for.append("postal code")
        conditions.append(("postal code", Q(Exists(ContactPointAddress.objects.filter(
            party=OuterRef("pk"), postal_code=text.upper(), is_active=True)))))
    return conditions


def _phone_condition(text: str, default_region: str) -> Q | None:
    """A number written any way: its E.164 form (parsed with the default region) exactly, or
    the last nine digits of that form, which also finds national spellings."""
    if sum(c.isdigit() for c in text) < 6 or sum(c.isalpha() for c in text) > 1:
        return None
    cleaned = phone_normalize(text, default_region)
    by_digits = ContactPointPhone.matching_digits(cleaned.normalized if not cleaned.problem else text)
    if cleaned.normalized and not cleaned.problem:
        return Q(normalized=cleaned.normalized) | (by_digits or Q(pk__in=[]))
    return by_digits


def _names_like(text: str, limit: int) -> list[tuple[int, float]]:
    """(party id, similarity) of the names most like the text, best first."""
    if connection.vendor == "postgresql":
        return _names_like_trigram(text, limit)
    return _names_like_fallback(text, limit)


def _names_like_trigram(text: str, limit: int) -> list[tuple[int, float]]:
    # The % operator uses the GIN trigram index; its threshold is a setting of the session,
    # set for this transaction only.
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL pg_trgm.similarity_threshold = %s", [NAME_SIMILARITY])
        similar = RawSQL("parties_party.display_name %% %s", [text], output_field=BooleanField())
        score = RawSQL("similarity(parties_party.display_name, %s)", [text])
        rows = (Party.objects.filter(similar).annotate(score=score)
                .order_by("-score", "pk").values_list("pk", "score")[:limit])
        return [(pk, float(s)) for pk, s in rows]


def _names_like_fallback(text: str, limit: int) -> list[tuple[int, float]]:
    lowered = text.lower()
    words = [w for w in re.split(r"\W+", lowered) if w]
    if not words:
        return []
    # A typo rarely hits both ends of a word: names sharing the first or last two letters of
    # a query word are the candidates.
    anchors = {part for word in words if len(word) >= 3 for part in (word[:2], word[-2:])} or set(words)
    condition = Q(display_name__icontains=lowered)
    for anchor in anchors:
        condition |= Q(display_name__icontains=anchor)
    candidates = Party.objects.filter(condition).values_list("pk", "display_name")[:_FALLBACK_CANDIDATES]
    scored = []
    for pk, name in candidates:
        name_lower = name.lower()
        ratio = 1.0 if lowered in name_lower else SequenceMatcher(None, lowered, name_lower).ratio()
        if ratio >= _FALLBACK_RATIO:
            scored.append((pk, ratio))
    scored.sort(key=lambda item: (-item[1], item[0]))
    return scored[:limit]


def _resolve_survivors(found: dict[int, SearchHit]) -> list[SearchHit]:
    """Load the parties, replace merged ones by their survivors and fold hits that meet."""
    if not found:
        return []
    survivors = _survivor_ids(list(found))
    hits: dict[int, SearchHit] = {}
    for party_id, hit in found.items():
        survivor_id = survivors.get(party_id, party_id)
        merged = hits.setdefault(survivor_id, SearchHit(party=Party(pk=survivor_id)))
        merged.matched_on.extend(m for m in hit.matched_on if m not in merged.matched_on)
        merged.score = max(merged.score, hit.score)
        if survivor_id != party_id:
            merged.via.append(party_id)
    parties = _search_display(Party.objects.filter(pk__in=hits)).in_bulk()
    for pk, hit in hits.items():
        hit.party = parties.get(pk, hit.party)
    return [hit for pk, hit in hits.items() if pk in parties]


def _survivor_ids(party_ids: list[int]) -> dict[int, int]:
    """Merged party id → the active party at the end of its merge chain."""
    survivors: dict[int, int] = {}
    pending = dict(Party.objects.filter(pk__in=party_ids, status=PartyStatus.MERGED)
                   .values_list("pk", "merged_into_id"))
    for _ in range(20):  # merge chains are short; the bound guards against a cycle
        if not pending:
            break
        targets = dict(Party.objects.filter(pk__in=set(pending.values()), status=PartyStatus.MERGED)
                       .values_list("pk", "merged_into_id"))
        for origin, target in pending.items():
            if target in targets:
                pending[origin] = targets[target]
            else:
                survivors[origin] = target
        pending = {o: t for o, t in pending.items() if o not in survivors}
    return survivors


def _search_display(queryset: QuerySet[Party]) -> QuerySet[Party]:
    """What a result row shows: primary email, first address, source systems."""
    return queryset.prefetch_related(
        Prefetch("emails", queryset=ContactPointEmail.objects.filter(is_active=True)
                 .order_by("-is_primary", "pk")),
        Prefetch("addresses", queryset=ContactPointAddress.objects.filter(is_active=True)
                 .order_by("-is_primary", "pk")),
        Prefetch("source_records", queryset=SourceRecord.objects.select_related("source_system")
                 .only("pk", "party_id", "source_system__name")),
    )

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

from django.db import connection, transaction
from django.db.models import BooleanField, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL

from parties.models import (
    ContactPointAddress,
    ContactPointEmail,
    ContactPointPhone,
    Party,
    SourceRecord,
)
from parties.services.standardize import collapse, identifier_normalize, phone_normalize

# Trigram similarities from which a name is a candidate: strict first, then wide. pg_trgm's
# default, 0.3, misses two swapped letters in each of two short words ("Jonh Smiht" ~ "John
# Smith" scores 0.29); the Soundex candidates catch most of those anyway.
NAME_SIMILARITY = (0.45, 0.25)
_CANDIDATES = 300  # per way of finding names; all are re-ranked by name_score
NAME_SCORE_MIN = 0.6
NAME_SCORE_GOOD = 0.75  # a candidate this good ends the search for more (two typos score ~0.78)
# SQLite: names sharing the first or last two letters of a query word are ranked in Python.
_FALLBACK_CANDIDATES = 5000

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
    shortened: bool = False  # the text was longer than QUERY_MAX and was cut


QUERY_MAX = 200


def party_find(*, q: str, limit: int = 25, default_region: str = "US") -> SearchResult:
    """Parties matching the search box's text, exact matches first, then names by similarity.
    Merged parties are replaced by their survivors (and say which merged id led there)."""
    full = collapse(q)
    text = full[:QUERY_MAX]
    result = SearchResult(query=text, hits=[], shortened=len(full) > QUERY_MAX)
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
    for label, party_ids in party_exact_lookups(text, default_region, result.looked_for):
        add(list(party_ids.order_by().distinct()[:probe]), label)
    if any(c.isalpha() for c in text) and "@" not in text:  # an email is not a name
        result.looked_for.append("name")
        for party_id, score in _names_like(text, probe):
            add([party_id], "name", score)

    hits = _resolve_survivors(found)
    hits.sort(key=lambda h: (-h.score, h.party.display_name.lower(), h.party.pk))
    result.limited = len(hits) > limit or len(found) > limit
    result.hits = hits[:limit]
    return result


def party_exact_lookups(
    text: str,
    default_region: str,
    looked_for: list[str] | None = None,
) -> list[tuple[str, QuerySet]]:
    """The exact lookups this text could be: (label, a query of party ids on the indexed table
    that holds the value — never a subquery per party, which would scan every party). The
    search box and the party list's free-text filter both use them."""
    looked_for = [] if looked_for is None else looked_for
    from parties.models import PartyIdentification

    lookups: list[tuple[str, QuerySet]] = []
    id_match = _PARTY_ID.match(text)
    if id_match:
        looked_for.append("party id")
        lookups.append(
            ("party id", Party.objects.filter(pk=int(id_match.group(1))).values_list("pk", flat=True))
        )
    if "@" in text:
        looked_for.append("email")
        lookups.append(
            (
                "email",
                ContactPointEmail.objects.filter(normalized=text.lower()).values_list("party_id", flat=True),
            )
        )
    phone = _phone_condition(text, default_region)
    if phone is not None:
        looked_for.append("phone")
        lookups.append(
            ("phone", ContactPointPhone.with_last9().filter(phone).values_list("party_id", flat=True))
        )
    if len(text) <= 100:
        looked_for.extend(["source key", "identifier"])
        lookups.append(
            ("source key", SourceRecord.objects.filter(source_key=text).values_list("party_id", flat=True))
        )
        identifier = identifier_normalize(text)
        if identifier:
            lookups.append(
                (
                    "identifier",
                    PartyIdentification.objects.filter(normalized=identifier).values_list(
                        "party_id", flat=True
                    ),
                )
            )
    if len(text) <= 10 and any(c.isdigit() for c in text):
        looked_for.append("postal code")
        lookups.append(
            (
                "postal code",
                ContactPointAddress.objects.filter(postal_code=text.upper(), is_active=True).values_list(
                    "party_id", flat=True
                ),
            )
        )
    return lookups


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
    """(party id, score) of the names most like the text, best first. The database proposes
    candidates; ``name_score`` ranks them, because trigrams alone put "Amy Simpson" before
    "Aaron Simpson" for "Araon Simposn"."""
    if connection.vendor != "postgresql":
        return _ranked(text, _name_candidates_fallback(text), limit)
    # A strict trigram threshold first: cheap, and enough for a name with one typo. Only when
    # it finds no good match is the wide threshold paid for (two typos in short words).
    candidates = dict(_name_candidates_soundex(text))
    ranked: list[tuple[int, float]] = []
    for threshold in NAME_SIMILARITY:
        candidates.update(_name_candidates_trigram(text, threshold))
        ranked = _ranked(text, list(candidates.items()), limit)
        if ranked and ranked[0][1] >= NAME_SCORE_GOOD:
            break
    return ranked


def _ranked(text: str, candidates: list[tuple[int, str]], limit: int) -> list[tuple[int, float]]:
    scored = [(pk, score) for pk, name in candidates if (score := name_score(text, name)) >= NAME_SCORE_MIN]
    scored.sort(key=lambda item: (-item[1], item[0]))
    return scored[:limit]


def _name_candidates_trigram(text: str, threshold: float) -> list[tuple[int, str]]:
    """Names with enough trigrams in common (the GIN index of migration 0016)."""
    # The % operator's threshold is a setting of the session, set for this transaction only.
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL pg_trgm.similarity_threshold = %s", [threshold])
        similar = RawSQL("parties_party.display_name %% %s", [text], output_field=BooleanField())
        similarity = RawSQL("similarity(parties_party.display_name, %s)", [text])
        return list(
            Party.objects.filter(similar)
            .annotate(similarity=similarity)
            .order_by("-similarity", "pk")
            .values_list("pk", "display_name")[:_CANDIDATES]
        )


def _name_candidates_soundex(text: str) -> list[tuple[int, str]]:
    """For two or more words: names whose family and given names sound alike (the Soundex
    index of migration 0019), the first word as given name and the last as family name, or the
    other way round."""
    words = _words(text)
    candidates: list[tuple[int, str]] = []
    if len(words) < 2:
        return candidates
    for given, family in ((words[0], words[-1]), (words[-1], words[0])):
        sounds_alike = RawSQL(
            "soundex(parties_party.family_name) = soundex(%s) "
            "AND soundex(parties_party.given_name) = soundex(%s)",
            [family, given],
            output_field=BooleanField(),
        )
        candidates.extend(
            Party.objects.filter(sounds_alike).order_by().values_list("pk", "display_name")[:_CANDIDATES]
        )
    return candidates


def _name_candidates_fallback(text: str) -> list[tuple[int, str]]:
    words = _words(text)
    if not words:
        return []
    # A typo rarely hits both ends of a word: names sharing the first or last two letters of
    # a query word are the candidates.
    anchors = {part for word in words if len(word) >= 3 for part in (word[:2], word[-2:])} or set(words)
    condition = Q(display_name__icontains=text)
    for anchor in anchors:
        condition |= Q(display_name__icontains=anchor)
    return list(Party.objects.filter(condition).values_list("pk", "display_name")[:_FALLBACK_CANDIDATES])


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^\w]+", text.lower()) if w]


def name_score(query: str, name: str) -> float:
    """How well a name matches what was typed, 0..1: each typed word against the name's most
    similar word by edit distance (a swap of two neighbours is one edit; a typed prefix of a
    word counts almost as the word), averaged over the typed words."""
    typed, words = _words(query), _words(name)
    if not typed or not words:
        return 0.0
    if query.lower() in name.lower():
        return 1.0
    total = 0.0
    for word in typed:
        best = 0.0
        for candidate in words:
            if candidate == word:
                best = 1.0
                break
            if len(word) >= 2 and candidate.startswith(word):
                best = max(best, 0.9)
                continue
            longest = max(len(word), len(candidate))
            best = max(best, 1 - _edits(word, candidate) / longest)
        total += best
    return total / len(typed)


def _edits(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions and swaps of
    two neighbouring letters each count one."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


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
    from parties.selectors import survivors_of

    return {origin: end for origin, end in survivors_of(party_ids).items() if origin != end}


def _search_display(queryset: QuerySet[Party]) -> QuerySet[Party]:
    """What a result row shows: primary email, first address, source systems."""
    return queryset.prefetch_related(
        Prefetch(
            "emails", queryset=ContactPointEmail.objects.filter(is_active=True).order_by("-is_primary", "pk")
        ),
        Prefetch(
            "addresses",
            queryset=ContactPointAddress.objects.filter(is_active=True).order_by("-is_primary", "pk"),
        ),
        Prefetch(
            "source_records",
            queryset=SourceRecord.objects.select_related("source_system").only(
                "pk", "party_id", "source_system__name"
            ),
        ),
    )

"""Realistic, messy, multi-source customer data for demos and benchmarks.

Pure Python (no Django). ``generate()`` invents ``parties`` real-world customers ("entities"),
puts each into a home source and, with probability ``duplicate_rate``, into one or two more
sources as messy duplicate copies (typos, nicknames, other phone/e-mail/address spellings, moved
addresses, missing fields, ...). Every row remembers its true ``entity_id``, so the output doubles
as ground truth for measuring the matcher (see ``truth_rows``).

The output depends only on the arguments: the same arguments give byte-identical rows. Nothing
reads the clock; dates are drawn from fixed ranges ending at the reference date 2026-06-30, all
randomness comes from ``random.Random(seed)`` and per-locale Faker instances seeded from it.
The cached Faker instances make ``generate`` unsafe to call from several threads at once.
"""

from __future__ import annotations

import random

from faker import Faker

from parties.demo.catalog import (
    _DEFAULT_STYLE,
    _STYLES,
    SOURCE_CATALOG,
    DemoData,
    DemoRow,
    SourceSpec,
    _Style,
)
from parties.demo.entities import _Copy, _email_local, _Entity, _faker, _individual
from parties.demo.names import _slug
from parties.demo.organizations import _organization
from parties.demo.places import _COUNTRIES, _COUNTRY_CODES, _COUNTRY_WEIGHTS
from parties.demo.randomness import _weighted_index
from parties.demo.rows import _Context, _raw_row
from parties.demo.touchpoints import _engagements, _memberships

__all__ = ["SOURCE_CATALOG", "DemoData", "DemoRow", "SourceSpec", "generate", "truth_rows"]

_ORG_SHARE = 0.12
_EMPLOYER_SHARE = 0.17  # of individuals; some copies land where the employer has no row
_SAME_SOURCE_SHARE = 1 / 8  # of extra copies: double registration in a source already used
_HOUSEHOLD_SHARE = 0.04  # chance that an individual moves in with the next one of its country
_COUPLE_SHARE = 0.7  # of households: the second takes the first's family name
_SHARED_LANDLINE_SHARE = 0.5  # of households where the first has a landline


def _source_key(spec: SourceSpec, style: _Style, number: int) -> str:
    if spec.key_prefix:
        return f"{spec.key_prefix}{number:0{style.key_width}d}"
    return f"{style.key_base + number:0{style.key_width}d}"


def _extra_sources(entity: _Entity, count: int, allowed: list[int], rng: random.Random) -> list[int]:
    used = [entity.home]
    extras: list[int] = []
    for _ in range(count):
        unused = [s for s in allowed if s not in used]
        others = [s for s in allowed if s != entity.home]
        if rng.random() < _SAME_SOURCE_SHARE or not others:
            choice = rng.choice(used)
        elif unused:
            choice = rng.choice(unused)
        else:
            choice = rng.choice(others)
        extras.append(choice)
        used.append(choice)
    return extras


def generate(*, parties: int, sources: int = 3, duplicate_rate: float = 0.3, seed: int = 0) -> DemoData:
    """Generate ``parties`` real-world customers spread over the first ``sources`` entries of
    SOURCE_CATALOG; each also appears in 1-2 further sources with probability
    ``duplicate_rate``. Same arguments → identical output."""
    if isinstance(parties, bool) or not isinstance(parties, int) or parties < 0:
        raise ValueError(f"parties must be an integer >= 0, got {parties!r}")
    if isinstance(sources, bool) or not isinstance(sources, int) or not 1 <= sources <= len(SOURCE_CATALOG):
        raise ValueError(f"sources must be an integer between 1 and {len(SOURCE_CATALOG)}, got {sources!r}")
    if not isinstance(duplicate_rate, int | float) or not 0 <= duplicate_rate <= 1:
        raise ValueError(f"duplicate_rate must be between 0 and 1, got {duplicate_rate!r}")

    rng = random.Random(seed)
    specs = list(SOURCE_CATALOG[:sources])
    styles = [_STYLES.get(spec.name, _DEFAULT_STYLE) for spec in specs]
    fakers: dict[str, Faker] = {}
    for code in _COUNTRY_CODES:
        fake = _faker(_COUNTRIES[code].faker_locale)
        fake.seed_instance(rng.getrandbits(64))
        fakers[code] = fake

    # 1. entities
    width = max(6, len(str(parties)))
    individual_weights = [s.individual_weight for s in styles]
    org_weights = [s.organization_weight for s in styles]
    entities: list[_Entity] = []
    for index in range(parties):
        is_org = rng.random() < _ORG_SHARE and sum(org_weights) > 0
        home = _weighted_index(rng, org_weights if is_org else individual_weights)
        region = specs[home].default_region
        if region in _COUNTRIES and rng.random() < 0.55:
            country = region
        else:
            country = rng.choices(_COUNTRY_CODES, weights=_COUNTRY_WEIGHTS)[0]
        entity = _Entity(index, f"E{index + 1:0{width}d}", is_org, country, home)
        if is_org:
            _organization(entity, fakers[country], rng)
        else:
            _individual(entity, fakers[country], rng)
        entities.append(entity)

    households = _households(entities, seed)

    # 2. employers: an organization that lives in the individual's home source
    orgs_by_home: dict[int, list[_Entity]] = {}
    for entity in entities:
        if entity.is_org:
            orgs_by_home.setdefault(entity.home, []).append(entity)
    for entity in entities:
        employers = orgs_by_home.get(entity.home)
        if entity.is_org or not employers or rng.random() >= _EMPLOYER_SHARE:
            continue
        employer = rng.choice(employers)
        entity.employer = employer.index
        if rng.random() < 0.6:
            entity.work_email = f"{_slug(entity.given)}.{_slug(entity.family)}@{employer.domain}"

    # 3. copies: the home copy plus, with probability duplicate_rate, 1-2 messy ones
    copies_by_source: list[list[_Copy]] = [[] for _ in specs]
    all_sources = list(range(len(specs)))
    org_sources = [i for i, s in enumerate(styles) if s.organization_weight > 0]
    for entity in entities:
        copies_by_source[entity.home].append(_Copy(entity, entity.home, True))
        if rng.random() < duplicate_rate:
            count = 1 if rng.random() < 0.7 else 2
            allowed = org_sources if entity.is_org else all_sources
            for source in _extra_sources(entity, count, allowed, rng):
                copies_by_source[source].append(_Copy(entity, source, False))

    # 4. source keys: shuffled within each source so that keys reveal nothing
    first_key: dict[tuple[int, int], str] = {}
    for source, copies in enumerate(copies_by_source):
        rng.shuffle(copies)
        for number, copy in enumerate(copies, start=1):
            copy.key = _source_key(specs[source], styles[source], number)
            first_key.setdefault((copy.entity.index, source), copy.key)

    # 5. rows, in (source, key) order
    rows: list[DemoRow] = []
    for source, copies in enumerate(copies_by_source):
        ctx = _Context(rng, specs[source], styles[source])
        for copy in copies:
            entity = copy.entity
            raw = _raw_row(entity, ctx, copy)
            employer_key = ""
            if entity.employer >= 0:
                employer_key = first_key.get((entity.employer, source), "")
            rows.append(
                DemoRow(
                    source=specs[source].name,
                    entity_id=entity.entity_id,
                    raw=raw,
                    engagements=_engagements(entity, ctx),
                    memberships=_memberships(entity, ctx, raw),
                    employer_key=employer_key,
                )
            )
    homes = [
        (
            (specs[a.home].name, first_key[(a.index, a.home)]),
            (specs[b.home].name, first_key[(b.index, b.home)]),
        )
        for a, b in households
    ]
    return DemoData(sources=specs, rows=rows, households=homes)


def _households(entities: list[_Entity], seed: int) -> list[tuple[_Entity, _Entity]]:
    """Pairs of individuals of one country who live together: the second moves to the first's
    address, often takes its family name (with an email to match) and sometimes shares its
    landline. They stay two customers — household members, not duplicates — which is exactly
    what a matcher must learn to tell apart. A separate random stream, so that everything else
    the seed generates stays as it was."""
    rng = random.Random(f"households-{seed}")
    by_country: dict[str, list[_Entity]] = {}
    for entity in entities:
        if not entity.is_org:
            by_country.setdefault(entity.country, []).append(entity)
    pairs = []
    for country in sorted(by_country):
        people, index = by_country[country], 0
        while index + 1 < len(people):
            if rng.random() >= _HOUSEHOLD_SHARE:
                index += 1
                continue
            first, second = people[index], people[index + 1]
            second.address = first.address
            if rng.random() < _COUPLE_SHARE and second.family != first.family:
                second.family = first.family
                if second.email:
                    domain = second.email.rpartition("@")[2]
                    second.email = f"{_email_local(second.given, second.family, rng)}@{domain}"
            if first.landline is not None and rng.random() < _SHARED_LANDLINE_SHARE:
                second.landline = first.landline
            pairs.append((first, second))
            index += 2
    return pairs


def truth_rows(data: DemoData) -> list[tuple[str, str, str]]:
    """(source name, source_key, entity_id) for every row, in row order."""
    return [(row.source, row.raw["source_key"], row.entity_id) for row in data.rows]

"""Organizations: invented company names, legal forms, web domains and registration/VAT ids."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from faker import Faker

from parties.demo.names import _fold, _slug, _typo
from parties.demo.phones import _phone_landline, _phone_mobile
from parties.demo.places import _COUNTRIES, _address
from parties.demo.randomness import _digits

if TYPE_CHECKING:  # entities imports this module; the type is only needed for annotations
    from parties.demo.entities import _Entity

_ORG_WORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    # (patterns, industries, fancy words); {L}/{L2} = family names, {I} = industry, {W} = word
    "en": (
        ("{L}", "{L} & {L2}", "{L} {I}", "{W} {I}", "{W} {I}"),
        (
            "Logistics",
            "Consulting",
            "Technologies",
            "Foods",
            "Engineering",
            "Solutions",
            "Holdings",
            "Trading",
            "Construction",
            "Software",
            "Media",
            "Health",
            "Partners",
            "Supplies",
            "Manufacturing",
        ),
        (
            "Acme",
            "Summit",
            "Pioneer",
            "Atlas",
            "Northwind",
            "Bluewater",
            "Redwood",
            "Keystone",
            "Silverline",
            "Harbor",
            "Evergreen",
            "Granite",
            "Beacon",
            "Crescent",
            "Orion",
        ),
    ),
    "de": (
        ("{L}", "{L} & {L2}", "{L} {I}", "{I} {L}", "{W} {I}"),
        (
            "Logistik",
            "Bau",
            "Maschinenbau",
            "Elektrotechnik",
            "Handel",
            "Immobilien",
            "Consulting",
            "Autohaus",
            "Metallbau",
            "Software",
            "Spedition",
            "Haustechnik",
        ),
        ("Nordstern", "Alpen", "Rhein", "Elbe", "Kronen", "Adler", "Sonnen", "Südwest"),
    ),
    "fr": (
        ("{I} {L}", "{L} et Fils", "{L} & {L2}", "{W} {I}"),
        (
            "Transports",
            "Conseil",
            "Bâtiment",
            "Distribution",
            "Services",
            "Industrie",
            "Boulangerie",
            "Électricité",
            "Menuiserie",
            "Informatique",
        ),
        ("Atlantique", "Provence", "Horizon", "Lumière", "Étoile", "Azur"),
    ),
    "nl": (
        ("{L}", "{L} & {L2}", "{L} {I}", "{W} {I}"),
        ("Transport", "Bouw", "Installatietechniek", "Advies", "Handel", "Groep", "Techniek", "Logistiek"),
        ("Noordzee", "Delta", "Polder", "Oranje", "Tulp", "Zeeland"),
    ),
    "es": (
        ("{I} {L}", "{L} y {L2}", "{L} Hermanos", "{W} {I}"),
        (
            "Construcciones",
            "Transportes",
            "Consultores",
            "Distribuciones",
            "Servicios",
            "Talleres",
            "Inversiones",
            "Suministros",
        ),
        ("Ibérica", "Mediterránea", "Atlántica", "Levante", "Cantábrica"),
    ),
}
_AND_WORDS = {"en": "and", "de": "und", "fr": "et", "nl": "en", "es": "y"}

# (canonical legal form, variants, weight)
_LEGAL_FORMS: dict[str, tuple[tuple[str, tuple[str, ...], int], ...]] = {
    "US": (
        ("Inc.", ("Inc", "Incorporated", "INC."), 5),
        ("LLC", ("L.L.C.", "Llc"), 4),
        ("Corp.", ("Corporation", "Corp"), 2),
    ),
    "GB": (("Ltd", ("Ltd.", "Limited", "LTD"), 8), ("PLC", ("plc", "Plc"), 1), ("LLP", ("L.L.P.",), 1)),
    "DE": (
        ("GmbH", ("G.m.b.H.", "Gmbh", "GMBH"), 12),
        ("AG", ("Aktiengesellschaft",), 2),
        ("GmbH & Co. KG", ("GmbH & Co KG", "GmbH u. Co. KG"), 4),
        ("e.K.", ("e. K.",), 2),
    ),
    "FR": (("SARL", ("S.A.R.L.", "Sarl"), 5), ("SAS", ("S.A.S.", "Sas"), 4), ("SA", ("S.A.",), 1)),
    "NL": (("B.V.", ("BV", "B.V", "bv"), 9), ("N.V.", ("NV",), 1)),
    "ES": (("S.L.", ("SL", "S.L", "Sociedad Limitada"), 3), ("S.A.", ("SA", "S.A"), 1)),
}


def _identifier(country: str, rng: random.Random) -> tuple[str, str]:
    """A stable organization identifier (type, canonical value)."""
    if country == "US":
        return "company_registration", f"{_digits(rng, 2, '123456789')}-{_digits(rng, 7)}"
    if country == "GB":
        if rng.random() < 0.6:
            return "vat_id", f"GB{_digits(rng, 9, '123456789')}"
        return "company_registration", f"{rng.choice(('0', '1', 'SC'))}{_digits(rng, 6)}"
    if country == "DE":
        if rng.random() < 0.7:
            return "vat_id", f"DE{_digits(rng, 9, '123456789')}"
        return "company_registration", f"HRB {_digits(rng, rng.choice((5, 6)), '123456789')}"
    if country == "FR":
        siren = _digits(rng, 9, "123456789")
        if rng.random() < 0.7:
            return "vat_id", f"FR{_digits(rng, 2)}{siren}"
        return "company_registration", siren
    if country == "NL":
        if rng.random() < 0.7:
            return "vat_id", f"NL{_digits(rng, 9, '123456789')}B01"
        return "company_registration", _digits(rng, 8, "123456789")
    letter = rng.choice("ABH")
    return "vat_id", f"ES{letter}{_digits(rng, 8)}"


def _identifier_variant(value: str, rng: random.Random) -> str:
    """The same identifier written differently: separators removed or added, lower case."""
    compact = value.replace(" ", "").replace("-", "")
    letters = len(compact) - len(compact.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    head, tail = compact[:letters], compact[letters:]
    op = rng.randrange(4)
    if op == 0:
        return compact
    if op == 1:
        return value.lower()
    if op == 2:
        grouped = " ".join(tail[i : i + 3] for i in range(0, len(tail), 3))
        return f"{head} {grouped}".strip()
    return f"{head}-{tail}" if head else f"{tail[:3]}-{tail[3:]}"


def _work_domain(family: str, lang: str, country: str, rng: random.Random) -> str:
    word = rng.choice(_ORG_WORDS[lang][1])
    return f"{_slug(family)}-{_slug(word)}{_COUNTRIES[country].tld}"


def _organization(entity: _Entity, fake: Faker, rng: random.Random) -> None:
    info = _COUNTRIES[entity.country]
    patterns, industries, words = _ORG_WORDS[info.lang]
    pattern = rng.choice(patterns)
    entity.org_base = pattern.format(
        L=fake.last_name(), L2=fake.last_name(), I=rng.choice(industries), W=rng.choice(words)
    )
    forms = _LEGAL_FORMS[entity.country]
    entity.legal_form = rng.choices(range(len(forms)), weights=[f[2] for f in forms])[0]
    tokens = [_slug(t) for t in entity.org_base.split() if _slug(t)]
    entity.domain = "-".join(tokens[:2]) + info.tld
    entity.email = f"{rng.choice(('info', 'info', 'contact', 'office', 'hello'))}@{entity.domain}"
    entity.ident_type, entity.ident_value = _identifier(entity.country, rng)
    address = _address(entity.country, rng, business=True)
    entity.address = address
    entity.landline = _phone_landline(entity.country, address.city_info, rng)
    if rng.random() < 0.15:
        entity.mobile = _phone_mobile(entity.country, address.city_info, rng)


def _org_name(entity: _Entity, messy: bool, rng: random.Random) -> str:
    form, variants, _ = _LEGAL_FORMS[entity.country][entity.legal_form]
    base = entity.org_base
    if not messy:
        return f"{base} {form}"
    lang = _COUNTRIES[entity.country].lang
    if rng.random() < 0.4:
        form = rng.choice(variants)
    elif rng.random() < 0.12:
        form = ""
    if rng.random() < 0.2 and _fold(base) != base:
        base = _fold(base)
    if rng.random() < 0.1 and "&" in base:
        base = base.replace("&", _AND_WORDS[lang])
    if rng.random() < 0.06:
        words = base.split()
        i = rng.randrange(len(words))
        words[i] = _typo(words[i], rng)
        base = " ".join(words)
    if lang == "en" and rng.random() < 0.04:
        base = f"The {base}"
    name = f"{base} {form}".strip()
    roll = rng.random()
    if roll < 0.12:
        name = name.upper()
    elif roll < 0.15:
        name = name.lower()
    return name

"""Writing one entity as one source's raw row, clean for the home copy and messy for duplicates."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime

from parties.demo.catalog import _COLUMNS, SourceSpec, _Style
from parties.demo.entities import _Copy, _Entity
from parties.demo.names import (
    _GENDER_VARIANTS,
    _GENDER_VARIANTS_DE,
    _NICKNAMES,
    _SALUTATIONS,
    _fold,
    _typo,
)
from parties.demo.organizations import _identifier_variant, _org_name
from parties.demo.phones import _NATIONAL_STYLES, _PHONE_DUP_STYLES, _PHONE_DUP_WEIGHTS, _Phone, _phone_format
from parties.demo.places import _ABBREVIATIONS, _COUNTRIES, _DE_STRASSE_VARIANTS, _US_STATES, _address
from parties.demo.randomness import _UPDATED_START, _digits, _random_datetime

_MOVED_SHARE = 0.10  # of duplicate copies: a new address in the same country


@dataclass
class _Context:
    rng: random.Random
    spec: SourceSpec
    style: _Style
    used_identifiers: set[str] = field(default_factory=set)
    counters: dict[str, int] = field(default_factory=dict)


def _write_date(value: date, spec: SourceSpec, style: _Style, messy: bool, rng: random.Random) -> str:
    day, month, year = value.day, value.month, value.year
    if messy and day <= 12 and day != month and rng.random() < 0.03:
        day, month = month, day  # a classic day/month mix-up
    padded = not (messy and rng.random() < 0.08)
    d = f"{day:02d}" if padded else str(day)
    m = f"{month:02d}" if padded else str(month)
    if spec.date_order == "YMD":
        return f"{year}-{month:02d}-{day:02d}"
    if spec.date_order == "MDY":
        sep = "-" if messy and rng.random() < 0.05 else "/"
        return f"{m}{sep}{d}{sep}{year}"
    sep = rng.choice("/.-") if messy and rng.random() < 0.1 else style.date_sep
    return f"{d}{sep}{m}{sep}{year}"


def _write_timestamp(value: datetime, style: _Style) -> str:
    if style.ts_style == "z":
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if style.ts_style == "space":
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if style.ts_style == "ms":
        millis = (value.second * 37 + value.minute * 11) % 1000  # derived, no extra randomness
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis:03d}+00:00"
    return value.isoformat()


def _country_text(country: str, style: _Style, messy: bool, rng: random.Random) -> str:
    names = _COUNTRIES[country].names
    if messy and rng.random() < 0.5:
        return rng.choice(names)
    return names[min(style.country_style, len(names) - 1)]


def _phone_text(phone: _Phone | None, ctx: _Context, messy: bool) -> str:
    if phone is None:
        return ""
    rng = ctx.rng
    if messy:
        style = rng.choices(_PHONE_DUP_STYLES, weights=_PHONE_DUP_WEIGHTS)[0]
        if phone.country != ctx.spec.default_region and style in _NATIONAL_STYLES and rng.random() < 0.7:
            style = rng.choice(("e164", "intl", "intl_trunk"))  # mostly keep the country code
    else:
        style = ctx.style.phone_style
        if phone.country != ctx.spec.default_region and style in _NATIONAL_STYLES:
            style = "intl"
    return _phone_format(phone, style, rng)


def _email_variant(entity: _Entity, rng: random.Random) -> str:
    email = entity.email or entity.work_email
    if not email:
        return ""
    local, domain = email.split("@", 1)
    roll = rng.random()
    if roll < 0.45:
        return email
    if roll < 0.55:
        return email.upper() if rng.random() < 0.6 else local.capitalize() + "@" + domain
    if roll < 0.64:
        others = [d for d in _COUNTRIES[entity.country].mail_domains if d != domain]
        return f"{local}@{rng.choice(others)}" if others else email
    if roll < 0.72 and entity.work_email:
        return entity.work_email
    if roll < 0.80 and domain == "gmail.com":
        if "." in local:
            return local.replace(".", "", 1) + "@gmail.com"
        cut = rng.randrange(1, max(2, len(local)))
        return f"{local[:cut]}.{local[cut:]}@googlemail.com"
    if roll < 0.84:
        return f"{local}+{rng.choice(('shop', 'news', 'promo', 'store'))}@{domain}"
    if roll < 0.87:
        typo_domain = {
            "gmail.com": "gmial.com",
            "hotmail.com": "hotmial.com",
            "outlook.com": "outlok.com",
            "web.de": "web.d",
        }.get(domain, domain)
        return f"{local}@{typo_domain}"
    return ""


def _address_columns(entity: _Entity, messy: bool, rng: random.Random) -> dict[str, str]:
    address = entity.address
    if address is None:
        raise RuntimeError(f"entity {entity.entity_id} has no address")
    country = entity.country
    if messy and rng.random() < _MOVED_SHARE:
        address = _address(country, rng, business=entity.is_org)
        messy = rng.random() < 0.3  # a fresh address is usually typed cleanly
    line1, line2, city = address.line1, address.line2, address.city
    region, postal = address.region, address.postal_code
    if messy:
        lang = _COUNTRIES[country].lang
        if rng.random() < 0.3:
            for pattern, short in _ABBREVIATIONS[lang]:
                line1 = pattern.sub(short, line1)
                line2 = pattern.sub(short, line2)
            if lang == "de" and rng.random() < 0.4:
                line1 = line1.replace("str.", rng.choice(_DE_STRASSE_VARIANTS))
        if rng.random() < 0.08:
            line1, city = _fold(line1), _fold(city)
        if line2 and rng.random() < 0.3:
            line2 = ""
        elif line2 and rng.random() < 0.12:
            line1, line2 = f"{line1}, {line2}", ""
        roll = rng.random()
        if roll < 0.08:
            line1, line2, city = line1.upper(), line2.upper(), city.upper()
        elif roll < 0.12:
            line1, line2, city = line1.lower(), line2.lower(), city.lower()
        if rng.random() < 0.05:
            city = _typo(city, rng)
        if rng.random() < 0.15:
            op = rng.randrange(3)
            if op == 0:
                postal = postal.replace(" ", "")
            elif op == 1:
                postal = f" {postal.replace(' ', '  ')} "
            elif country in ("GB", "NL"):
                postal = postal.lower()
            elif country == "US":
                postal = postal.lstrip("0") if postal.startswith("0") else f"{postal}-{_digits(rng, 4)}"
        if country == "US" and rng.random() < 0.2:
            region = _US_STATES.get(region, region)
        elif rng.random() < 0.2:
            region = ""
        if rng.random() < 0.04:
            line1 = line2 = city = postal = ""
    return {
        "address_line1": line1,
        "address_line2": line2,
        "city": city,
        "region": region,
        "postal_code": postal,
    }


def _names_individual(entity: _Entity, ctx: _Context, messy: bool) -> dict[str, str]:
    rng, style, omit = ctx.rng, ctx.style, ctx.style.omit
    given, middle, family = entity.given, entity.middle, entity.family
    columns = {"salutation": "", "given_name": "", "middle_name": "", "family_name": "", "full_name": ""}
    sal = _SALUTATIONS[entity.country][entity.gender]
    salutation = "Dr." if entity.salutation_dr else sal[0]
    full_only = False
    comma = False
    if messy:
        if rng.random() < 0.6:
            salutation = "" if rng.random() < 0.4 else rng.choice(sal)
        nicks = _NICKNAMES.get(given)
        if nicks and rng.random() < 0.4:
            given = rng.choice(nicks)
        if rng.random() < 0.15:
            given = _typo(given, rng)
        if rng.random() < 0.2:
            family = _typo(family, rng)
        if middle and rng.random() < 0.5:
            middle = "" if rng.random() < 0.5 else f"{middle[0]}."
        if " " in family and rng.random() < 0.35:
            family = family.split(" ")[0]  # second Spanish surname dropped
        if family[:1].islower() and rng.random() < 0.3:
            family = family[0].upper() + family[1:]  # "van Dijk" → "Van Dijk"
        if rng.random() < 0.08:
            given, family = _fold(given), _fold(family)
        if rng.random() < 0.06:
            given, family = family, given
        if "full_name" not in omit and rng.random() < 0.12:
            full_only, comma = True, rng.random() < 0.4
        roll = rng.random()
        if roll < 0.07:
            given, middle, family = given.upper(), middle.upper(), family.upper()
        elif roll < 0.11:
            given, middle, family = given.lower(), middle.lower(), family.lower()
    elif style.upper_names and rng.random() < style.upper_names:
        given, middle, family = given.upper(), middle.upper(), family.upper()
    if "given_name" in omit:
        full_only = True
    columns["salutation"] = salutation
    full = " ".join(p for p in (given, middle, family) if p)
    if full_only:
        columns["full_name"] = f"{family}, {given}" if comma else full
    else:
        columns.update(given_name=given, middle_name=middle, family_name=family, full_name=full)
    return columns


def _identifier_columns(entity: _Entity, ctx: _Context, messy: bool) -> tuple[str, str]:
    rng = ctx.rng
    if entity.is_org:
        if rng.random() < (0.65 if messy else 0.85):
            value = (
                _identifier_variant(entity.ident_value, rng)
                if messy and rng.random() < 0.5
                else entity.ident_value
            )
            return entity.ident_type, value
        return "", ""
    ident = ctx.style.ident
    if ident is None or rng.random() >= ident[1]:
        return "", ""
    kind, _, prefix, width = ident
    while True:
        value = prefix + _digits(rng, width, "123456789")
        if value not in ctx.used_identifiers:
            ctx.used_identifiers.add(value)
            return kind, value


def _raw_row(entity: _Entity, ctx: _Context, copy: _Copy) -> dict[str, str]:
    rng, spec, style = ctx.rng, ctx.spec, ctx.style
    messy = not copy.first
    raw: dict[str, str] = dict.fromkeys(_COLUMNS, "")
    raw["source_key"] = copy.key
    if entity.is_org:
        raw["party_type"] = "organization"
        raw["organization_name"] = _org_name(entity, messy, rng)
        if rng.random() < (0.75 if messy else 0.95):
            raw["email"] = entity.email
            if messy and rng.random() < 0.3:
                local = rng.choice(("accounts", "billing", "sales", "INFO", "office"))
                raw["email"] = f"{local}@{entity.domain}"
        if spec.kind == "erp" and rng.random() < 0.5:
            raw["email"] = f"{rng.choice(('accounts', 'billing', 'invoices'))}@{entity.domain}"
        main, other = entity.landline, entity.mobile
    else:
        raw["party_type"] = "" if rng.random() < style.party_type_blank else "individual"
        raw.update(_names_individual(entity, ctx, messy))
        if entity.birth is not None and not (messy and rng.random() < 0.2):
            raw["birth_date"] = _write_date(entity.birth, spec, style, messy, rng)
        gender_map = dict(style.gender_map)
        if messy and rng.random() < 0.5:
            variants = (
                _GENDER_VARIANTS_DE
                if spec.default_region == "DE" and rng.random() < 0.6
                else _GENDER_VARIANTS
            )
            raw["gender"] = rng.choice(variants[entity.gender])
        else:
            raw["gender"] = gender_map.get(entity.gender, "")
        if messy:
            raw["email"] = _email_variant(entity, rng)
        else:
            raw["email"] = entity.email or entity.work_email
        if entity.work_email and raw["email"] != entity.work_email and rng.random() < 0.5:
            raw["email_2"] = entity.work_email
        main, other = entity.mobile or entity.landline, entity.landline if entity.mobile else None
    if messy and rng.random() < 0.05:
        main, other = other, main
    if not (messy and rng.random() < 0.12):
        raw["phone"] = _phone_text(main, ctx, messy)
    raw["phone_2"] = _phone_text(other, ctx, messy)
    raw.update(_address_columns(entity, messy, rng))
    raw["country"] = _country_text(entity.country, style, messy, rng)
    raw["identifier_type"], raw["identifier_value"] = _identifier_columns(entity, ctx, messy)
    raw["updated_at"] = _write_timestamp(_random_datetime(rng, _UPDATED_START), style)
    return {column: value for column, value in raw.items() if column not in style.omit}

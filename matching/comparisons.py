"""How two customer records compare, field by field, in a few ordered levels.

Each comparison turns a pair of values into a level: 0 is the strongest agreement (same
value), the last is "different"; missing values give NaN. The levels are what the classifier
weighs (``matching.classifier``, Fellegi-Sunter weights estimated from the data and refined by
labels), and their names are what the review page shows ("nickname", "day and month swapped").
Each comparison is a dedupe ``Custom`` variable, so dedupe's own ``distances`` and ``score``
compute them too.

Records are the flat dicts of ``matching.fields.flat_record``: lower-case strings, sets as
sorted tuples, ``name`` as "given␟family" (so that swapped names can be seen).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import JaroWinkler, Levenshtein

NAME_SEPARATOR = "\x1f"
NAN = math.nan
# A party meets ~16 others in a run: its values are split and folded once, not per pair.
CACHE = 262_144


@lru_cache(maxsize=CACHE)
def _fold(text: str) -> str:
    """Accents off (Müller → muller), so that transliterated spellings meet."""
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _jw(a: str, b: str) -> float:
    return JaroWinkler.normalized_similarity(a, b)


# --- given names: nicknames ------------------------------------------------------------
# English nicknames come from the `nicknames` package (Carlton Northern's list, about 1,100
# names); the package has no other languages, so a short list of common German, French, Dutch
# and Spanish short forms is kept here.
_EUROPEAN_NICKNAMES = {
    "johannes": "hans jo johann",
    "friedrich": "fritz",
    "wolfgang": "wolf",
    "maximilian": "max",
    "matthias": "matze",
    "joachim": "achim",
    "christian": "chris",
    "katharina": "kathi katja",
    "stefanie": "steffi",
    "susanne": "susi",
    "elisabeth": "lisa sissi liesel elise",
    "franziska": "franzi",
    "dorothea": "doro thea",
    "gabriele": "gabi",
    "wilhelm": "willi",
    "alexander": "alex",
    "andreas": "andi",
    "thomas": "tom",
    "michael": "michi",
    "bernhard": "bernd",
    "catherine": "cathy",
    "christophe": "chris",
    "nicolas": "nico",
    "isabelle": "isa",
    "frederic": "fred",
    "stephanie": "steph",
    "philippe": "phil",
    "valerie": "val",
    "emmanuel": "manu",
    "alexandre": "alex",
    "hendrik": "henk",
    "cornelis": "kees",
    "jacobus": "koos jaap",
    "willem": "wim",
    "petrus": "piet",
    "theodorus": "theo",
    "gerardus": "gert",
    "johanna": "jo hanneke",
    "wilhelmina": "mien willy",
    "adrianus": "arie",
    "francisco": "paco pancho curro",
    "jose": "pepe",
    "manuel": "manolo",
    "ignacio": "nacho",
    "enrique": "quique",
    "dolores": "lola",
    "concepcion": "concha",
    "guadalupe": "lupe",
    "rosario": "charo",
    "antonio": "tono toni",
    "jesus": "chuy",
}


@lru_cache(maxsize=1)
def _nickname_groups() -> dict[str, frozenset[str]]:
    """name → the formal names it may stand for (itself included)."""
    import nicknames

    groups: dict[str, set[str]] = {}
    for triplet in nicknames.name_triplets():
        formal, short = triplet.name1.lower(), triplet.name2.lower()
        groups.setdefault(formal, {formal}).add(formal)
        groups.setdefault(short, {short}).add(formal)
    for formal, shorts in _EUROPEAN_NICKNAMES.items():
        groups.setdefault(formal, {formal}).add(formal)
        for short in shorts.split():
            groups.setdefault(short, {short}).add(formal)
    return {name: frozenset(formals) for name, formals in groups.items()}


def nickname_of(a: str, b: str) -> bool:
    """Bob/Robert, Hans/Johannes, Bob/Rob (both short for Robert)."""
    groups = _nickname_groups()
    first, second = groups.get(_fold(a)), groups.get(_fold(b))
    return bool(first and second and first & second)


def _initial(a: str, b: str) -> bool:
    """ "J." or "J" against "John"."""
    a, b = a.rstrip("."), b.rstrip(".")
    return (len(a) == 1 or len(b) == 1) and a[:1] == b[:1]


@lru_cache(maxsize=CACHE)
def _split_name(value: str) -> tuple[str, str]:
    given, _, family = value.partition(NAME_SEPARATOR)
    return _fold(given), _fold(family)


def _swapped(a: str, b: str) -> bool:
    """Given and family name exchanged ("Müller Hans" against "Hans Müller")."""
    given_a, family_a = _split_name(a)
    given_b, family_b = _split_name(b)
    if not (given_a and family_a and given_b and family_b) or (given_a, family_a) == (given_b, family_b):
        return False
    return _jw(given_a, family_b) >= 0.92 and _jw(family_a, given_b) >= 0.92


GIVEN_LEVELS = ("same", "nickname", "typo", "initial", "similar", "swapped with family name", "different")


def given_level(a: str, b: str) -> float:
    first, second = _split_name(a)[0], _split_name(b)[0]
    if not first or not second:
        return NAN
    if first == second:
        return 0
    if nickname_of(first, second):
        return 1
    similarity = _jw(first, second)
    if similarity >= 0.92:
        return 2
    if _initial(first, second):
        return 3
    if similarity >= 0.8:
        return 4
    if _swapped(a, b):
        return 5
    return 6


# name particles: "de" is not a part that makes "de Grunt" one family with "de Vries"
_PARTICLES = frozenset({"del", "della", "der", "den", "des", "van", "von", "ten", "ter", "zur", "bin", "ben"})


@lru_cache(maxsize=CACHE)
def _parts(name: str) -> frozenset[str]:
    return frozenset(
        part for part in re.split(r"[\s-]+", name) if len(part) > 2 and part not in _PARTICLES
    )  # "de", "la", "zu" are short


FAMILY_LEVELS = ("same", "typo", "similar", "different")


def family_level(a: str, b: str) -> float:
    first, second = _split_name(a)[1], _split_name(b)[1]
    if not first or not second:
        return NAN
    if first == second:
        return 0
    # a double-barrelled name against one of its parts counts as a typo-level agreement
    if _parts(first) & _parts(second):
        return 1
    similarity = _jw(first, second)
    if similarity >= 0.92:
        return 1
    if similarity >= 0.8:
        return 2
    if _swapped(a, b):
        return NAN  # the given name's comparison counts the swap, once
    return 3


BIRTH_LEVELS = ("same", "day and month swapped", "one digit off", "two digits off", "different")


def birth_level(a: str, b: str) -> float:
    """ISO dates (YYYY-MM-DD); anything else is compared as text."""
    if a == b:
        return 0
    if len(a) == len(b) == 10 and a[:4] == b[:4] and a[5:7] == b[8:10] and a[8:10] == b[5:7]:
        return 1
    distance = Levenshtein.distance(a, b)
    if distance <= 1:
        return 2
    if distance <= 2:
        return 3
    return 4


def _set_best(a: Sequence[str], b: Sequence[str], similar: Callable[[str, str], bool]) -> bool:
    return any(similar(x, y) for x in a for y in b)


EMAIL_LEVELS = (
    "same address",
    "same address, spelled from the shared name",
    "same name at another domain, or a typo",
    "different",
)
EMAIL_SEPARATOR = "\x1e"
# Mailboxes of a role, not a person: one company's branches, its staff and its customers'
# contacts share them, so a shared role mailbox says nothing about one party (it still makes
# a block key: it finds the company's own duplicates for the other comparisons to judge).
ROLE_MAILBOXES = frozenset(
    "info contact contacts office hello sales support service services admin mail email team "  # noqa: SIM905
    "enquiries enquiry inquiries inquiry billing accounts accounting finance invoices invoice "
    "orders order shop webmaster noreply no-reply help helpdesk customerservice hr jobs careers "
    "marketing press reception kontakt post buero bureau verkauf vertrieb kundenservice "
    "contacto ventas informacion accueil".split()
)


@lru_cache(maxsize=CACHE)
def role_mailbox(email: str) -> bool:
    """info@…, sales@…, kontakt@… (a "+tag" is ignored)."""
    return email.partition("@")[0].partition("+")[0] in ROLE_MAILBOXES


def _letters(text: str) -> str:
    return re.sub(r"[^a-z]", "", _fold(text.lower()))


def _spelled_from(email: str, given: str, family: str) -> bool:
    """robert.ruiz@, rruiz@, ruiz_robert@, robert@: the person's names and nothing else (no
    digits: robert.ruiz1987@ is far less often someone else's)."""
    raw = email.partition("@")[0].partition("+")[0]
    if any(c.isdigit() for c in raw):
        return False
    local = _letters(raw)
    g, f = _letters(given), _letters(family)
    if not g or not f or not local:
        return False
    for first, second in ((g, f), (f, g)):
        for a in (first, first[0]):
            for b in (second, second[0]):
                if local == a + b and (a != first[0] or b != second[0]):
                    return True
    return local in (g, f)


def _names_alike(given_a: str, family_a: str, given_b: str, family_b: str) -> bool:
    """One name however written: the same family name (or one typo) and a given name that is
    the same, a nickname of it or one typo off. Strangers of one common name share an address
    spelled from it whether or not one of them goes by "Peggy" (at 100,000 generated customers,
    Margaret and Peggy Jones at margaret.jones@gmail.com were the commonest false pair of the
    0.3-0.9 score bands)."""
    ga, fa, gb, fb = _fold(given_a), _fold(family_a), _fold(given_b), _fold(family_b)
    if not (ga and fa and gb and fb):
        return False
    if fa != fb and Levenshtein.distance(fa, fb) > 1:
        return False
    return ga == gb or nickname_of(ga, gb) or Levenshtein.distance(ga, gb) <= 1


def _email_close(x: str, y: str) -> bool:
    local_x, _, domain_x = x.partition("@")
    local_y, _, domain_y = y.partition("@")
    if local_x == local_y and len(local_x) >= 4:
        return True
    return domain_x == domain_y and Levenshtein.distance(local_x, local_y) <= 1


def email_level(a: str, b: str) -> float:
    """Email addresses with the names ("emails␟given␟family", the emails joined by \\x1e).

    A shared address spelled from the name of records whose names are alike (robert.ruiz@…
    for two Robert Ruiz, or for Bob and Robert Ruiz: ``_names_alike``) has a level of its own:
    strangers of one common name get such addresses at the same free-mail domain, so it says
    less than a shared address does by itself, and the classifier measures how much less among
    pairs of one name (``matching.classifier.CONDITIONAL_U``).
    Role mailboxes say nothing (NaN when nothing else is there to compare)."""
    emails_a, given_a, family_a = _split(a, 3)
    emails_b, given_b, family_b = _split(b, 3)
    personal_a = [e for e in emails_a.split(EMAIL_SEPARATOR) if e and not role_mailbox(e)]
    personal_b = [e for e in emails_b.split(EMAIL_SEPARATOR) if e and not role_mailbox(e)]
    if not personal_a or not personal_b:
        return NAN
    shared = set(personal_a) & set(personal_b)
    if shared:
        if _names_alike(given_a, family_a, given_b, family_b) and all(
            _spelled_from(e, given_a, family_a) or _spelled_from(e, given_b, family_b) for e in shared
        ):
            return 1
        return 0
    return 2 if _set_best(personal_a, personal_b, _email_close) else 3


PHONE_LEVELS = ("same number", "same last 8 digits, or one digit off", "different")


@lru_cache(maxsize=CACHE)
def _digits(phone: str) -> str:
    return re.sub(r"\D", "", phone)


def _phone_close(x: str, y: str) -> bool:
    dx, dy = _digits(x), _digits(y)
    if len(dx) >= 8 and len(dy) >= 8 and dx[-8:] == dy[-8:]:
        return True
    return len(dx) == len(dy) and Levenshtein.distance(dx, dy) <= 1


def phone_level(a: Sequence[str], b: Sequence[str]) -> float:
    if set(a) & set(b):
        return 0
    return 1 if _set_best(a, b, _phone_close) else 2


IDENTIFIER_LEVELS = (
    "same identifier",
    "same type, one character off",
    "same type, different value",
    "another legal registration (VAT id, company number)",
)
# An organization's registration is one legal entity's: two that differ are two companies (or
# branches), however alike their names, mailboxes and addresses. The classifier gives this level
# a fixed weight (matching.classifier.FIXED_LEVELS) rather than one estimated from the data.
LEGAL_REGISTRATIONS = frozenset({"vat_id", "company_registration", "duns"})


def identifier_level(a: Sequence[str], b: Sequence[str]) -> float:
    """Identifiers are "type:value"; pairs with no type in common say nothing (NaN)."""
    if set(a) & set(b):
        return 0
    by_type_a: dict[str, list[str]] = {}
    for item in a:
        kind, _, value = item.partition(":")
        by_type_a.setdefault(kind, []).append(value)
    common: set[str] = set()
    for item in b:
        kind, _, value = item.partition(":")
        for other in by_type_a.get(kind, ()):
            common.add(kind)
            if Levenshtein.distance(value, other) <= 1:
                return 1
    if not common:
        return NAN
    return 3 if common & LEGAL_REGISTRATIONS else 2


ADDRESS_LEVELS = (
    "same street and postal code",
    "street with a typo, same postal code or city",
    "similar street, same postal code or city",
    "same postal code, another street",
    "same city, another postal code and street",
    "another city",
    "another country",
)


@lru_cache(maxsize=CACHE)
def _split(value: str, parts: int) -> tuple[str, ...]:
    items = value.split(NAME_SEPARATOR)
    return (*items, *[""] * (parts - len(items)))[:parts]


def address_level(a: str, b: str) -> float:
    """One comparison for street, postal code, city and country ("street␟postal␟city␟country"):
    they agree together far more often than chance, so weighing them separately would count one
    shared address four times."""
    street_a, postal_a, city_a, country_a = _split(a, 4)
    street_b, postal_b, city_b, country_b = _split(b, 4)
    if country_a and country_b and country_a != country_b:
        return 6
    same_area = (postal_a and postal_a == postal_b) or (
        not (postal_a and postal_b) and city_a and city_a == city_b
    )
    if street_a and street_b and same_area:
        if street_a == street_b:
            return 0
        similarity = _jw(_fold(street_a), _fold(street_b))
        if similarity >= 0.92:
            return 1
        if similarity >= 0.8:
            return 2
    if postal_a and postal_a == postal_b:
        return 3
    if city_a and city_b and (city_a == city_b or _jw(_fold(city_a), _fold(city_b)) >= 0.88):
        return 4
    if not ((street_a or postal_a or city_a) and (street_b or postal_b or city_b)):
        return NAN  # a country alone says nothing
    return 5


HOUSEHOLD_LEVELS = ("same family name and address, another given name", "no")


def household_level(a: str, b: str) -> float:
    """Two people of one household ("given␟family␟birth␟street␟postal␟identifiers"): same family name
    and street (and postal code), another given name, and no birth date that says otherwise.
    A strong negative: the shared family name and address are explained by the household, not
    by one person. (A father and a son of one name, told apart by birth dates a generation
    apart, were tried too: on FEBRL, whose duplicates carry badly mistyped birth dates, that
    rule cost 0.4-0.7 points of recall, so it is not used.)"""
    given_a, family_a, birth_a, street_a, postal_a, ids_a = _split(a, 6)
    given_b, family_b, birth_b, street_b, postal_b, ids_b = _split(b, 6)
    if not (given_a and given_b and family_a and family_b and street_a and street_b):
        return NAN
    if ids_a and ids_b and set(ids_a.split(EMAIL_SEPARATOR)) & set(ids_b.split(EMAIL_SEPARATOR)):
        return 1  # one national id, passport, customer number: one person, whatever the name says
    if _fold(family_a) != _fold(family_b) or street_a != street_b or postal_a != postal_b:
        return 1
    if given_level(f"{given_a}{NAME_SEPARATOR}{family_a}", f"{given_b}{NAME_SEPARATOR}{family_b}") != 6:
        return 1
    if birth_a and birth_b and birth_level(birth_a, birth_b) <= 2:
        return 1
    return 0


# Legal forms left out when organization names are compared ("Acme GmbH" is "ACME").
_LEGAL_FORMS = frozenset(
    "gmbh ag kg ohg ug ek e.k. kgaa se mbh co co. & und and ltd ltd. limited inc inc. "  # noqa: SIM905
    "incorporated llc llp lp plc corp corp. corporation company sa s.a. sarl s.a.r.l. sas "
    "bv b.v. nv n.v. vof spa s.p.a. srl s.r.l. sl s.l. ab as a/s oy gbr ev e.v.".split()
)


@lru_cache(maxsize=CACHE)
def organization_core(name: str) -> str:
    words = [w for w in re.split(r"[\s,]+", _fold(name)) if w and w not in _LEGAL_FORMS]
    return " ".join(re.sub(r"[^\w&]", "", w) for w in words).strip()


ORGANIZATION_LEVELS = ("same", "same without the legal form", "similar", "different")


def organization_level(a: str, b: str) -> float:
    if a == b:
        return 0
    core_a, core_b = organization_core(a), organization_core(b)
    if core_a and core_a == core_b:
        return 1
    if core_a and core_b and _jw(core_a, core_b) >= 0.9:
        return 2
    return 3


@dataclass(frozen=True)
class Comparison:
    name: str  # the dedupe variable's name, and the key in evidence
    field: str  # the flat record's field it reads
    compare: Callable[..., float]
    levels: tuple[str, ...]
    label: str  # what the review page calls it


COMPARISONS: tuple[Comparison, ...] = (
    Comparison("cmp:given", "name", given_level, GIVEN_LEVELS, "Given name"),
    Comparison("cmp:family", "name", family_level, FAMILY_LEVELS, "Family name"),
    Comparison(
        "cmp:organization", "organization_name", organization_level, ORGANIZATION_LEVELS, "Organization"
    ),
    Comparison("cmp:birth", "birth_date", birth_level, BIRTH_LEVELS, "Birth date"),
    Comparison("cmp:email", "email", email_level, EMAIL_LEVELS, "Email"),
    Comparison("cmp:phone", "phones", phone_level, PHONE_LEVELS, "Phone"),
    Comparison("cmp:identifier", "identifiers", identifier_level, IDENTIFIER_LEVELS, "Identifier"),
    Comparison("cmp:address", "address", address_level, ADDRESS_LEVELS, "Address"),
    Comparison("cmp:household", "household", household_level, HOUSEHOLD_LEVELS, "Household"),
)


def compare_records(a: dict, b: dict) -> dict[str, float]:
    """Every comparison's level for one pair (NaN: a value is missing)."""
    levels = {}
    for comparison in COMPARISONS:
        x, y = a.get(comparison.field), b.get(comparison.field)
        levels[comparison.name] = NAN if x is None or y is None else comparison.compare(x, y)
    return levels


def household(a: dict, b: dict) -> bool:
    """Same family name and address, another given name and no agreeing birth date: two
    people of one household, not one person (a strong negative)."""
    return bool(
        a.get("household") and b.get("household") and household_level(a["household"], b["household"]) == 0
    )


# The notable levels, in words for the review page (also read from stored levels by
# matching.services.suggestions, which must not compare a pair twice).
SIGNALS: dict[tuple[str, int], str] = {
    ("cmp:given", 1): "nickname (given names)",
    ("cmp:given", 3): "initial for a given name",
    ("cmp:given", 5): "given and family name swapped",
    ("cmp:birth", 1): "birth date with day and month swapped",
    ("cmp:organization", 1): "same organization apart from the legal form",
    ("cmp:identifier", 2): "different identifiers of the same type",
    ("cmp:identifier", 3): "different legal registrations (VAT id, company number)",
    ("cmp:address", 6): "addresses in different countries",
    ("cmp:household", 0): "household: same family name and address, different person",
}


def signals(a: dict, b: dict) -> list[str]:
    """What fired between two records, in words for the review page."""
    levels = compare_records(a, b)
    return [text for (name, level), text in SIGNALS.items() if levels.get(name) == level]

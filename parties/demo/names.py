"""Personal names: nicknames, formal names, salutations, genders, transliteration and typos."""

from __future__ import annotations

import random
import re
import unicodedata

_NICKNAMES: dict[str, tuple[str, ...]] = {
    # English
    "William": ("Bill", "Will", "Billy"),
    "Robert": ("Bob", "Rob", "Bobby"),
    "Richard": ("Rick", "Dick", "Rich"),
    "James": ("Jim", "Jimmy", "Jamie"),
    "Michael": ("Mike", "Mick"),
    "Thomas": ("Tom", "Tommy"),
    "Christopher": ("Chris",),
    "Daniel": ("Dan", "Danny"),
    "Joseph": ("Joe", "Joey"),
    "Anthony": ("Tony",),
    "Jonathan": ("Jon",),
    "Nicholas": ("Nick",),
    "Alexander": ("Alex", "Xander"),
    "Benjamin": ("Ben",),
    "Matthew": ("Matt",),
    "Andrew": ("Andy", "Drew"),
    "Edward": ("Ed", "Eddie", "Ted"),
    "Charles": ("Charlie", "Chuck"),
    "Stephen": ("Steve",),
    "Timothy": ("Tim",),
    "Samuel": ("Sam",),
    "Katherine": ("Kate", "Katie", "Kathy"),
    "Elizabeth": ("Liz", "Beth", "Betty", "Lizzie"),
    "Margaret": ("Maggie", "Peggy", "Meg"),
    "Jennifer": ("Jen", "Jenny"),
    "Patricia": ("Pat", "Patty", "Trish"),
    "Susan": ("Sue",),
    "Rebecca": ("Becky", "Becca"),
    "Victoria": ("Vicky", "Tori"),
    "Deborah": ("Debbie", "Deb"),
    "Samantha": ("Sam",),
    "Jessica": ("Jess",),
    "Abigail": ("Abby",),
    # German
    "Johannes": ("Hans", "Jo"),
    "Friedrich": ("Fritz",),
    "Wolfgang": ("Wolf",),
    "Maximilian": ("Max",),
    "Matthias": ("Matze",),
    "Joachim": ("Achim",),
    "Christian": ("Chris",),
    "Katharina": ("Kathi", "Katja"),
    "Stefanie": ("Steffi",),
    "Susanne": ("Susi",),
    "Elisabeth": ("Lisa", "Sissi", "Liesel"),
    "Franziska": ("Franzi",),
    "Dorothea": ("Doro", "Thea"),
    "Gabriele": ("Gabi",),
    # French
    "Catherine": ("Cathy",),
    "Christophe": ("Chris",),
    "Nicolas": ("Nico",),
    "Isabelle": ("Isa",),
    "Frédéric": ("Fred",),
    "Stéphanie": ("Steph",),
    "Philippe": ("Phil",),
    "Valérie": ("Val",),
    "Emmanuel": ("Manu",),
    "Alexandre": ("Alex",),
    # Dutch
    "Hendrik": ("Henk",),
    "Cornelis": ("Kees",),
    "Jacobus": ("Koos", "Jaap"),
    "Willem": ("Wim",),
    "Petrus": ("Piet",),
    "Theodorus": ("Theo",),
    "Gerardus": ("Gert",),
    "Johanna": ("Jo", "Hanneke"),
    "Wilhelmina": ("Mien", "Willy"),
    "Adrianus": ("Arie",),
    # Spanish
    "Francisco": ("Paco", "Pancho", "Curro"),
    "José": ("Pepe",),
    "Manuel": ("Manolo",),
    "Ignacio": ("Nacho",),
    "Enrique": ("Quique",),
    "Dolores": ("Lola",),
    "Concepción": ("Concha",),
    "Guadalupe": ("Lupe",),
    "Rosario": ("Charo",),
    "Antonio": ("Toño", "Toni"),
    "Jesús": ("Chuy",),
}

# Formal given names (keys of _NICKNAMES) by language and gender: some entities get one of these
# so that nickname duplicates happen often enough.
_FORMAL_NAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "M": (
            "William",
            "Robert",
            "Richard",
            "James",
            "Michael",
            "Thomas",
            "Christopher",
            "Daniel",
            "Joseph",
            "Anthony",
            "Jonathan",
            "Nicholas",
            "Alexander",
            "Benjamin",
            "Matthew",
            "Andrew",
            "Edward",
            "Charles",
            "Stephen",
            "Timothy",
            "Samuel",
        ),
        "F": (
            "Katherine",
            "Elizabeth",
            "Margaret",
            "Jennifer",
            "Patricia",
            "Susan",
            "Rebecca",
            "Victoria",
            "Deborah",
            "Samantha",
            "Jessica",
            "Abigail",
        ),
    },
    "de": {
        "M": (
            "Johannes",
            "Friedrich",
            "Wolfgang",
            "Maximilian",
            "Matthias",
            "Joachim",
            "Christian",
            "Alexander",
            "Thomas",
            "Michael",
        ),
        "F": ("Katharina", "Stefanie", "Susanne", "Elisabeth", "Franziska", "Dorothea", "Gabriele"),
    },
    "fr": {
        "M": ("Christophe", "Nicolas", "Frédéric", "Philippe", "Emmanuel", "Alexandre"),
        "F": ("Catherine", "Isabelle", "Stéphanie", "Valérie", "Elisabeth"),
    },
    "nl": {
        "M": (
            "Hendrik",
            "Cornelis",
            "Jacobus",
            "Willem",
            "Petrus",
            "Theodorus",
            "Gerardus",
            "Adrianus",
            "Johannes",
        ),
        "F": ("Johanna", "Wilhelmina", "Elisabeth", "Katharina"),
    },
    "es": {
        "M": ("Francisco", "José", "Manuel", "Ignacio", "Enrique", "Antonio", "Jesús"),
        "F": ("Dolores", "Concepción", "Guadalupe", "Rosario"),
    },
}

_SALUTATIONS: dict[str, dict[str, tuple[str, ...]]] = {
    # first entry = clean form, the rest = variants seen in duplicates
    "US": {"M": ("Mr.", "Mr", "MR", "Mister"), "F": ("Ms.", "Mrs.", "Ms", "Mrs", "MS"), "X": ("Mx.", "Mx")},
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
    "F": ("w", "W", "weiblich", "F"),
    "M": ("m", "M", "männlich", "maennlich"),
    "X": ("d", "divers", "X"),
}

_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"})


def _fold(text: str) -> str:
    """German transliteration (ü → ue) and other diacritics stripped (é → e)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_TRANSLIT))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", _fold(text).lower())


_KEYBOARD_NEIGHBOURS = {
    "a": "qsz",
    "b": "vgn",
    "c": "xdv",
    "d": "sfe",
    "e": "wrd",
    "f": "dgr",
    "g": "fht",
    "h": "gjy",
    "i": "uok",
    "j": "hku",
    "k": "jli",
    "l": "kop",
    "m": "nj",
    "n": "bmh",
    "o": "ipl",
    "p": "ol",
    "q": "wa",
    "r": "etf",
    "s": "adw",
    "t": "ryg",
    "u": "yij",
    "v": "cfb",
    "w": "qes",
    "x": "zsc",
    "y": "tuh",
    "z": "xas",
}


def _typo(text: str, rng: random.Random) -> str:
    """One keyboard slip: adjacent letters swapped, a letter dropped, doubled or mistyped."""
    if len(text) < 3:
        return text
    op = rng.randrange(4)
    i = rng.randrange(1, len(text) - 1)
    if op == 0 and text[i] != text[i + 1]:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if op == 1:
        return text[:i] + text[i + 1 :]
    if op == 2:
        return text[:i] + text[i] + text[i:]
    lower = text[i].lower()
    wrong = rng.choice(_KEYBOARD_NEIGHBOURS.get(lower, "aeiou"))
    if text[i].isupper():
        wrong = wrong.upper()
    return text[:i] + wrong + text[i + 1 :]

"""Countries, cities, streets, addresses and postal codes."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from parties.demo.randomness import _digits


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
    return tuple(_City(name, region, tuple(prefixes.split()), area) for name, region, prefixes, area in rows)


_COUNTRIES: dict[str, _Country] = {
    "US": _Country(
        "US",
        "en_US",
        "en",
        "USD",
        ("US", "USA", "United States", "United States", "U.S.A.", "United States of America"),
        _cities(
            ("San Francisco", "CA", "941", "415"),
            ("New York", "NY", "100 101", "212"),
            ("Brooklyn", "NY", "112", "718"),
            ("Chicago", "IL", "606", "312"),
            ("Boston", "MA", "021", "617"),
            ("Seattle", "WA", "981", "206"),
            ("Austin", "TX", "787", "512"),
            ("Denver", "CO", "802", "303"),
            ("Atlanta", "GA", "303", "404"),
            ("Miami", "FL", "331", "305"),
            ("Los Angeles", "CA", "900", "213"),
            ("Portland", "OR", "972", "503"),
            ("Phoenix", "AZ", "850", "602"),
            ("Dallas", "TX", "752", "214"),
            ("Minneapolis", "MN", "554", "612"),
            ("Philadelphia", "PA", "191", "215"),
            ("Nashville", "TN", "372", "615"),
            ("San Diego", "CA", "921", "619"),
            ("Columbus", "OH", "432", "614"),
            ("Raleigh", "NC", "276", "919"),
            ("Salt Lake City", "UT", "841", "801"),
            ("Newark", "NJ", "071", "973"),
        ),
        (
            "gmail.com",
            "gmail.com",
            "gmail.com",
            "yahoo.com",
            "outlook.com",
            "hotmail.com",
            "icloud.com",
            "aol.com",
            "comcast.net",
        ),
        ".com",
        30,
    ),
    "GB": _Country(
        "GB",
        "en_GB",
        "en",
        "GBP",
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
        (
            "gmail.com",
            "gmail.com",
            "hotmail.co.uk",
            "yahoo.co.uk",
            "btinternet.com",
            "outlook.com",
            "icloud.com",
            "sky.com",
        ),
        ".co.uk",
        18,
    ),
    "DE": _Country(
        "DE",
        "de_DE",
        "de",
        "EUR",
        ("DE", "DEU", "Germany", "Deutschland", "GERMANY", "Deutschland"),
        _cities(
            ("Berlin", "Berlin", "10 12 13", "30"),
            ("Hamburg", "Hamburg", "20 22", "40"),
            ("München", "Bayern", "80 81", "89"),
            ("Köln", "Nordrhein-Westfalen", "50 51", "221"),
            ("Frankfurt am Main", "Hessen", "60", "69"),
            ("Stuttgart", "Baden-Württemberg", "70", "711"),
            ("Düsseldorf", "Nordrhein-Westfalen", "40", "211"),
            ("Leipzig", "Sachsen", "04", "341"),
            ("Dresden", "Sachsen", "01", "351"),
            ("Hannover", "Niedersachsen", "30", "511"),
            ("Nürnberg", "Bayern", "90", "911"),
            ("Bremen", "Bremen", "28", "421"),
        ),
        ("gmail.com", "web.de", "web.de", "gmx.de", "gmx.net", "t-online.de", "outlook.de", "posteo.de"),
        ".de",
        20,
    ),
    "FR": _Country(
        "FR",
        "fr_FR",
        "fr",
        "EUR",
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
        (
            "gmail.com",
            "gmail.com",
            "orange.fr",
            "free.fr",
            "laposte.net",
            "hotmail.fr",
            "sfr.fr",
            "wanadoo.fr",
            "yahoo.fr",
        ),
        ".fr",
        12,
    ),
    "NL": _Country(
        "NL",
        "nl_NL",
        "nl",
        "EUR",
        ("NL", "NLD", "Netherlands", "Nederland", "The Netherlands", "Holland"),
        _cities(
            ("Amsterdam", "Noord-Holland", "10", "20"),
            ("Rotterdam", "Zuid-Holland", "30", "10"),
            ("Den Haag", "Zuid-Holland", "25", "70"),
            ("Utrecht", "Utrecht", "35", "30"),
            ("Eindhoven", "Noord-Brabant", "56", "40"),
            ("Groningen", "Groningen", "97", "50"),
            ("Tilburg", "Noord-Brabant", "50", "13"),
            ("Haarlem", "Noord-Holland", "20", "23"),
            ("Nijmegen", "Gelderland", "65", "24"),
            ("Leiden", "Zuid-Holland", "23", "71"),
        ),
        (
            "gmail.com",
            "gmail.com",
            "hotmail.nl",
            "ziggo.nl",
            "kpnmail.nl",
            "outlook.com",
            "live.nl",
            "planet.nl",
        ),
        ".nl",
        10,
    ),
    "ES": _Country(
        "ES",
        "es_ES",
        "es",
        "EUR",
        ("ES", "ESP", "Spain", "España", "Espana", "SPAIN"),
        _cities(
            ("Madrid", "Madrid", "280", "91"),
            ("Barcelona", "Cataluña", "080", "93"),
            ("Valencia", "Comunidad Valenciana", "460", "96"),
            ("Sevilla", "Andalucía", "410", "95"),
            ("Zaragoza", "Aragón", "500", "976"),
            ("Málaga", "Andalucía", "290", "95"),
            ("Bilbao", "País Vasco", "480", "94"),
            ("Murcia", "Región de Murcia", "300", "968"),
            ("Palma", "Islas Baleares", "070", "971"),
            ("Valladolid", "Castilla y León", "470", "983"),
        ),
        ("gmail.com", "gmail.com", "hotmail.es", "yahoo.es", "telefonica.net", "outlook.es", "movistar.es"),
        ".es",
        10,
    ),
}
_COUNTRY_CODES: tuple[str, ...] = tuple(_COUNTRIES)
_COUNTRY_WEIGHTS: tuple[int, ...] = tuple(c.weight for c in _COUNTRIES.values())

_US_STATES = {
    "CA": "California",
    "NY": "New York",
    "IL": "Illinois",
    "MA": "Massachusetts",
    "WA": "Washington",
    "TX": "Texas",
    "CO": "Colorado",
    "GA": "Georgia",
    "FL": "Florida",
    "OR": "Oregon",
    "AZ": "Arizona",
    "MN": "Minnesota",
    "PA": "Pennsylvania",
    "TN": "Tennessee",
    "OH": "Ohio",
    "NC": "North Carolina",
    "UT": "Utah",
    "NJ": "New Jersey",
}


_STREETS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "US": (
        (
            "Main",
            "Oak",
            "Maple",
            "Cedar",
            "Pine",
            "Elm",
            "Washington",
            "Lake",
            "Hill",
            "Park",
            "Church",
            "Walnut",
            "Sunset",
            "Lincoln",
            "Jefferson",
            "Highland",
            "Madison",
            "Franklin",
            "Ridge",
            "Spring",
            "Market",
            "Mission",
            "Valley",
            "Chestnut",
            "River",
        ),
        (
            "Street",
            "Street",
            "Street",
            "Avenue",
            "Avenue",
            "Road",
            "Drive",
            "Lane",
            "Boulevard",
            "Court",
            "Place",
            "Way",
        ),
    ),
    "GB": (
        (
            "High",
            "Station",
            "Church",
            "Victoria",
            "Green",
            "Manor",
            "Park",
            "Queens",
            "Kings",
            "Mill",
            "London",
            "Albert",
            "York",
            "George",
            "Grange",
            "Windsor",
            "Springfield",
            "Chapel",
            "Orchard",
            "Meadow",
        ),
        (
            "Street",
            "Street",
            "Road",
            "Road",
            "Road",
            "Lane",
            "Avenue",
            "Close",
            "Gardens",
            "Crescent",
            "Terrace",
            "Way",
        ),
    ),
    "DE": (
        (
            "Haupt",
            "Bahnhof",
            "Schul",
            "Garten",
            "Dorf",
            "Berg",
            "Kirch",
            "Linden",
            "Wald",
            "Goethe",
            "Schiller",
            "Mozart",
            "Birken",
            "Mühlen",
            "Sonnen",
            "Rosen",
            "Ahorn",
            "Eichen",
            "Friedrich-Ebert-",
            "Beethoven",
            "Markt",
            "Feld",
            "Wiesen",
            "Tannen",
        ),
        ("straße", "straße", "straße", "straße", "weg", "weg", "platz", "allee", "gasse", "ring"),
    ),
    "FR": (
        (
            "de la Paix",
            "Victor Hugo",
            "Jean Jaurès",
            "Voltaire",
            "Pasteur",
            "de la République",
            "du Moulin",
            "de l'Église",
            "des Lilas",
            "Gambetta",
            "du Général de Gaulle",
            "de la Gare",
            "des Écoles",
            "Émile Zola",
            "Jules Ferry",
            "Saint-Michel",
            "des Tilleuls",
            "de Verdun",
            "Nationale",
            "du Château",
        ),
        ("rue", "rue", "rue", "rue", "avenue", "avenue", "boulevard", "place", "chemin", "allée", "impasse"),
    ),
    "NL": (
        (
            "Kerk",
            "Dorps",
            "School",
            "Molen",
            "Wilhelmina",
            "Juliana",
            "Beatrix",
            "Oranje",
            "Nieuwe ",
            "Emma",
            "Prins Hendrik",
            "Spoor",
            "Hoog",
            "Linden",
            "Eiken",
            "Heren",
            "Keizers",
            "Prinsen",
            "Markt",
            "Stations",
        ),
        ("straat", "straat", "straat", "weg", "weg", "laan", "laan", "plein", "gracht", "kade", "singel"),
    ),
    "ES": (
        (
            "Mayor",
            "de Alcalá",
            "Gran Vía",
            "del Sol",
            "de la Constitución",
            "de Cervantes",
            "Real",
            "de San Juan",
            "de Goya",
            "de Serrano",
            "de la Paz",
            "del Carmen",
            "Nueva",
            "de Santiago",
            "de Colón",
            "de Andalucía",
            "de la Libertad",
            "del Prado",
        ),
        ("Calle", "Calle", "Calle", "Calle", "Avenida", "Avenida", "Plaza", "Paseo", "Camino"),
    ),
}

_ABBREVIATIONS: dict[str, tuple[tuple[re.Pattern[str], str], ...]] = {
    "en": tuple(
        (re.compile(rf"\b{full}\b"), short)
        for full, short in (
            ("Street", "St."),
            ("Avenue", "Ave"),
            ("Road", "Rd"),
            ("Drive", "Dr."),
            ("Lane", "Ln"),
            ("Boulevard", "Blvd"),
            ("Court", "Ct"),
            ("Place", "Pl."),
            ("Apartment", "Apt"),
            ("Suite", "Ste"),
            ("Crescent", "Cres."),
            ("Close", "Cl."),
            ("Terrace", "Terr."),
            ("Gardens", "Gdns"),
            ("Floor", "Fl."),
        )
    ),
    "de": (
        (re.compile("straße"), "str."),
        (re.compile("Straße"), "Str."),
        (re.compile("platz"), "pl."),
        (re.compile("Aufgang"), "Aufg."),
    ),
    "fr": tuple(
        (re.compile(rf"\b{full}\b"), short)
        for full, short in (
            ("rue", "r."),
            ("avenue", "av."),
            ("boulevard", "bd"),
            ("place", "pl."),
            ("chemin", "ch."),
            ("allée", "all."),
            ("impasse", "imp."),
            ("Bâtiment", "Bât."),
            ("Appartement", "Appt"),
        )
    ),
    "nl": ((re.compile("straat"), "str."), (re.compile("laan"), "ln.")),
    "es": tuple(
        (re.compile(rf"\b{full}\b"), short)
        for full, short in (
            ("Calle", "C/"),
            ("Avenida", "Avda."),
            ("Plaza", "Pza."),
            ("Paseo", "Pº"),
            ("Camino", "Cmno."),
            ("Piso", "P."),
            ("Puerta", "Pta."),
        )
    ),
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
        inward = rng.choice("0123456789") + "".join(rng.choice("ABDEFGHJLNPQRSTUWXYZ") for _ in range(2))
        return f"{prefix} {inward}"
    if country == "NL":
        return prefix + _digits(rng, 2) + " " + "".join(rng.choice("ABCDEGHJKLMNPRTVWXZ") for _ in range(2))
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
            line2 = rng.choice(
                (
                    f"Apt {rng.randint(1, 40)}",
                    f"Apt. {rng.randint(1, 9)}{rng.choice('ABCD')}",
                    f"Unit {rng.randint(1, 300)}",
                    f"#{rng.randint(100, 999)}",
                )
            )
    elif country == "GB":
        line1 = f"{rng.randint(1, 250)} {base} {kind}"
        if business and rng.random() < 0.5:
            line2 = rng.choice((f"Unit {rng.randint(1, 30)}", f"Floor {rng.randint(1, 12)}"))
        elif rng.random() < 0.2:
            line2 = rng.choice(
                (
                    f"Flat {rng.randint(1, 40)}",
                    f"Flat {rng.randint(1, 9)}{rng.choice('ABC')}",
                    f"Apartment {rng.randint(1, 60)}",
                )
            )
    elif country == "DE":
        suffix = rng.choice("abc") if rng.random() < 0.08 else ""
        line1 = f"{base}{kind} {rng.randint(1, 180)}{suffix}"
        if line1.startswith("Friedrich-Ebert-"):
            line1 = line1.replace(f"-{kind}", f"-{kind.capitalize()}", 1)
        if rng.random() < (0.3 if business else 0.1):
            line2 = rng.choice(
                (
                    f"{rng.randint(1, 6)}. OG",
                    "Hinterhaus",
                    "Aufgang B",
                    f"App. {rng.randint(1, 40)}",
                    "Gebäude C",
                )
            )
    elif country == "FR":
        number = f"{rng.randint(1, 150)}{' bis' if rng.random() < 0.06 else ''}"
        line1 = f"{number}{',' if rng.random() < 0.3 else ''} {kind} {base}"
        if rng.random() < (0.3 if business else 0.15):
            line2 = rng.choice(
                (
                    f"Bâtiment {rng.choice('ABCD')}",
                    f"Appartement {rng.randint(1, 60)}",
                    "Résidence les Tilleuls",
                    f"Escalier {rng.choice('ABC')}",
                )
            )
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
            line2 = rng.choice(
                (
                    f"{rng.randint(1, 9)}º {rng.choice('ABCD')}",
                    f"Piso {rng.randint(1, 9)}, Puerta {rng.randint(1, 4)}",
                    f"Bajo {rng.choice('AB')}",
                    f"{rng.randint(1, 9)}º Izq.",
                )
            )
    return _Address(line1, line2, city.name, city.region, _postal_code(country, city, rng), city)

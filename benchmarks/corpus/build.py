"""Build the labelled development corpus ``dev.jsonl`` (deterministic: same seed, same file).

Records are support chats, feedback forms, CRM notes, e-mails and event logs in English, German,
French and Spanish, written from hand-made templates. Slots in a template are filled from hand-written
lists below (not from the gazetteers the detectors use, so the corpus measures generalisation), and
every labelled slot records its span. Slots named ``neg_*`` insert hard negatives — version strings,
request UUIDs, commit hashes, SKUs, Luhn-invalid card numbers, order dates — that carry no label.

Format (one JSON object per line)::

    {"id": "en-0001", "lang": "en", "kind": "chat", "text": "...",
     "spans": [{"start": 12, "end": 24, "type": "PERSON"}]}

Offsets are Unicode code points, ``end`` exclusive. Labelling conventions: a PERSON span is the name
without its title ("Frau Dr. [Schmidt]"); a STREET_ADDRESS span runs from the house number or street
to the town when a town follows; a DATE_OF_BIRTH span is the date alone. Run: ``python benchmarks/corpus/build.py``.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import string
import sys
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from templates import NEGATIVE_ONLY, TEMPLATES

OUT = Path(__file__).resolve().parent / "dev.jsonl"
SEED = 20260601

FIRST = {
    "en": [
        "Emily",
        "Oliver",
        "Grace",
        "Harry",
        "Chloe",
        "Liam",
        "Sophie",
        "Noah",
        "Ava",
        "Ethan",
        "Megan",
        "Callum",
        "Isla",
        "Declan",
        "Priya",
        "Marcus",
        "Hannah",
        "Jake",
        "Zoe",
        "Tobias",
        "Abigail",
        "Rhys",
        "Naomi",
        "Gavin",
        "Imogen",
        "Travis",
        "Leah",
        "Connor",
        "Bethany",
        "Darnell",
        "Siobhan",
        "Kwame",
        "Mei",
        "Aaliyah",
        "Finn",
        "Rosalind",
        "Ewan",
        "Tamsin",
        "Brandon",
        "Keisha",
    ],
    "de": [
        "Lukas",
        "Leonie",
        "Jonas",
        "Hannah",
        "Felix",
        "Marie",
        "Maximilian",
        "Lea",
        "Paul",
        "Johanna",
        "Niklas",
        "Katharina",
        "Florian",
        "Sabine",
        "Jürgen",
        "Ursula",
        "Dieter",
        "Annika",
        "Timo",
        "Svenja",
        "Björn",
        "Anke",
        "Malte",
        "Frauke",
        "Kerstin",
        "Uwe",
        "Heike",
        "Torsten",
        "Mehmet",
        "Ayşe",
        "Dragan",
        "Wiebke",
        "Henrik",
        "Gesine",
        "Ole",
        "Jannik",
        "Rüdiger",
        "Elke",
        "Vanessa",
        "Cem",
    ],
    "fr": [
        "Camille",
        "Lucas",
        "Chloé",
        "Hugo",
        "Manon",
        "Louis",
        "Léa",
        "Mathis",
        "Inès",
        "Théo",
        "Juliette",
        "Antoine",
        "Clémence",
        "Maxime",
        "Océane",
        "Baptiste",
        "Margaux",
        "Quentin",
        "Élodie",
        "Thibault",
        "Anaïs",
        "Romain",
        "Solène",
        "Yannick",
        "Gaëlle",
        "Benoît",
        "Aurélie",
        "Karim",
        "Nadia",
        "Jean-Baptiste",
        "Marie-Claire",
        "François",
        "Hélène",
        "Gilles",
        "Brigitte",
        "Loïc",
        "Amandine",
        "Rachid",
        "Sylvie",
    ],
    "es": [
        "Lucía",
        "Hugo",
        "Martina",
        "Pablo",
        "Sofía",
        "Álvaro",
        "Valeria",
        "Daniel",
        "Paula",
        "Adrián",
        "Carmen",
        "Javier",
        "Elena",
        "Sergio",
        "Nerea",
        "Iker",
        "Ainhoa",
        "Rocío",
        "Guillermo",
        "Alba",
        "Íñigo",
        "Marta",
        "Raúl",
        "Beatriz",
        "Gonzalo",
        "Leire",
        "Rodrigo",
        "Montserrat",
        "Joaquín",
        "Itziar",
        "Enrique",
        "Candela",
        "Xavier",
        "Begoña",
        "Andrés",
        "Jimena",
        "Mateo",
        "Noelia",
        "Fernando",
        "Yolanda",
    ],
}
LAST = {
    "en": [
        "Thompson",
        "Walsh",
        "Okafor",
        "Patel",
        "Fitzgerald",
        "Harrington",
        "Nguyen",
        "Kowalski",
        "Brennan",
        "Ashworth",
        "Whitfield",
        "MacLeod",
        "Oyelaran",
        "Pemberton",
        "Castillo",
        "Davies",
        "Hughes",
        "Sullivan",
        "O'Brien",
        "Kaur",
        "Lindqvist",
        "Bradshaw",
        "Moreau",
        "Chadwick",
        "Delaney",
        "Ferreira",
        "Holloway",
        "Iqbal",
        "Jenkins",
        "Kingsley",
        "Lawson",
        "Merriweather",
        "Novak",
        "Prescott",
        "Quigley",
        "Radcliffe",
        "Strickland",
        "Tennant",
        "Underwood",
        "Vasquez",
    ],
    "de": [
        "Schneider",
        "Hoffmann",
        "Becker",
        "Schulze",
        "Krüger",
        "Wagner",
        "Zimmermann",
        "Lehmann",
        "Köhler",
        "Hartmann",
        "Brandt",
        "Schröder",
        "Vogt",
        "Lorenz",
        "Kaiser",
        "Friedrich",
        "Jankowski",
        "Yılmaz",
        "Petrović",
        "Dietrich",
        "Kühn",
        "Pohl",
        "Engel",
        "Seidel",
        "Haas",
        "Busch",
        "Sommerfeld",
        "Steinbach",
        "Oberhuber",
        "Gruber",
        "Wittmann",
        "Eichhorn",
        "Brückner",
        "Rademacher",
        "Ostermann",
        "Kowalczyk",
        "Hinrichs",
        "Bergmann",
        "Nowak",
        "Albrecht",
    ],
    "fr": [
        "Lefèvre",
        "Moreau",
        "Girard",
        "Bonnet",
        "Dubois",
        "Lambert",
        "Fontaine",
        "Rousseau",
        "Chevalier",
        "Mercier",
        "Blanchard",
        "Gauthier",
        "Perrin",
        "Marchand",
        "Faure",
        "Dumont",
        "Garnier",
        "Legrand",
        "Benali",
        "Nguyen",
        "Brunet",
        "Roussel",
        "Picard",
        "Lemaire",
        "Carpentier",
        "Barbier",
        "Arnaud",
        "Renaud",
        "Giraud",
        "Colin",
        "Vidal",
        "Caron",
        "Leclerc",
        "Masson",
        "Poirier",
        "Haddad",
        "Boyer",
        "Lacroix",
        "Meunier",
        "Tessier",
    ],
    "es": [
        "García",
        "Fernández",
        "González",
        "Rodríguez",
        "López",
        "Martínez",
        "Sánchez",
        "Pérez",
        "Gómez",
        "Martín",
        "Jiménez",
        "Ruiz",
        "Hernández",
        "Díaz",
        "Moreno",
        "Muñoz",
        "Álvarez",
        "Romero",
        "Navarro",
        "Torres",
        "Domínguez",
        "Vázquez",
        "Ramos",
        "Gil",
        "Serrano",
        "Blanco",
        "Molina",
        "Castro",
        "Ortega",
        "Rubio",
        "Marín",
        "Sanz",
        "Iglesias",
        "Medina",
        "Garrido",
        "Cortés",
        "Castillo",
        "Santos",
        "Lozano",
        "Guerrero",
    ],
}
PARTICLED = {
    "en": ["Van der Berg", "De Souza", "O'Connell", "McAllister"],
    "de": ["von Bülow", "von der Heide", "van Dijk", "zu Salm"],
    "fr": ["de la Fontaine", "Le Goff", "d'Aubigné", "du Pont"],
    "es": ["de la Fuente", "del Río", "García-Márquez", "de los Santos"],
}
TITLES = {
    "en": ["Mr", "Mrs", "Ms", "Dr.", "Mr.", "Ms."],
    "de": ["Herr", "Frau", "Frau Dr.", "Herrn"],
    "fr": ["M.", "Mme", "Madame", "Monsieur"],
    "es": ["Sr.", "Sra.", "don", "doña", "Señora"],
}
STREETS = {
    "en": [
        "Baker Street",
        "Elm Grove",
        "Maple Avenue",
        "Kingsley Road",
        "Oak Lane",
        "Harbour View",
        "Station Road",
        "Willow Crescent",
        "Pine Street",
        "Cedar Drive",
        "Church Lane",
        "Victoria Road",
        "Mill Lane",
        "Lakeshore Boulevard",
        "Sunset Blvd",
        "Park Place",
    ],
    "de": [
        "Hauptstraße",
        "Goethestraße",
        "Lindenallee",
        "Am Mühlbach",
        "Karl-Marx-Straße",
        "Bahnhofstr.",
        "Berliner Straße",
        "Schillerweg",
        "Rosengasse",
        "Kirchplatz",
        "Uhlandstraße",
        "Am Rosengarten",
        "Friedrichstraße",
        "Hafenstraße",
        "Eichendorffring",
        "Alte Poststraße",
    ],
    "fr": [
        "rue de la Paix",
        "avenue Victor Hugo",
        "boulevard Saint-Michel",
        "rue des Lilas",
        "place de la République",
        "chemin des Vignes",
        "allée des Tilleuls",
        "rue du Moulin",
        "impasse des Roses",
        "avenue Jean Jaurès",
        "quai de la Loire",
        "rue Pasteur",
    ],
    "es": [
        "Calle Mayor",
        "Avenida de la Constitución",
        "Calle de Alcalá",
        "Paseo de Gracia",
        "Plaza Mayor",
        "Calle del Sol",
        "C/ Gran Vía",
        "Avda. de América",
        "Calle Real",
        "Camino de Ronda",
        "Calle San Vicente",
        "Ronda de Segovia",
    ],
}
CITIES = {
    "en": [
        ("London", "SW1A 2AA"),
        ("Manchester", "M1 4BT"),
        ("Leeds", "LS1 5DL"),
        ("Bristol", "BS1 6QF"),
        ("Springfield, IL", "62704"),
        ("Portland, OR", "97205"),
        ("Austin, TX", "78701"),
        ("Boston, MA", "02108"),
        ("Edinburgh", "EH1 1YZ"),
    ],
    "de": [
        ("Berlin", "10115"),
        ("München", "80331"),
        ("Hamburg", "20095"),
        ("Köln", "50667"),
        ("Frankfurt am Main", "60311"),
        ("Leipzig", "04109"),
        ("Wien", "1010"),
        ("Zürich", "8001"),
        ("Freiburg im Breisgau", "79098"),
    ],
    "fr": [
        ("Paris", "75002"),
        ("Lyon", "69003"),
        ("Marseille", "13001"),
        ("Toulouse", "31000"),
        ("Nantes", "44000"),
        ("Lille", "59000"),
        ("Bordeaux", "33000"),
        ("Strasbourg", "67000"),
    ],
    "es": [
        ("Madrid", "28013"),
        ("Barcelona", "08007"),
        ("Sevilla", "41004"),
        ("Valencia", "46002"),
        ("Bilbao", "48001"),
        ("Málaga", "29015"),
        ("Zaragoza", "50001"),
        ("Granada", "18009"),
    ],
}
MONTHS = {
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    "de": [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ],
    "fr": [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
    "es": [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ],
}
DOMAINS = [
    "example.com",
    "example.org",
    "example.net",
    "mail.example.com",
    "example.co.uk",
    "example.de",
    "example.fr",
    "example.es",
]


class Persona:
    def __init__(self, rng: random.Random, lang: str) -> None:
        pool = lang if rng.random() < 0.85 else rng.choice(list(FIRST))
        self.first = rng.choice(FIRST[pool])
        self.last = rng.choice(PARTICLED[pool]) if rng.random() < 0.12 else rng.choice(LAST[pool])
        if lang == "es" and rng.random() < 0.4:
            self.last += " " + rng.choice(LAST["es"])
        self.lang = lang


def _ascii(s: str) -> str:
    table = str.maketrans("áàâäãåéèêëíìîïóòôöõúùûüñçßøœæ'’ ", "aaaaaaeeeeiiiiooooouuuuncsoeaa--")
    return s.lower().translate(table).replace("--", "-")


def luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    for d in string.digits:
        cand = body + d
        total = 0
        for i, ch in enumerate(reversed(cand)):
            v = int(ch) * (2 if i % 2 else 1)
            total += v - 9 if v > 9 else v
        if total % 10 == 0:
            return cand
    raise AssertionError


def iban(country: str, bban: str) -> str:
    rearranged = bban + country + "00"
    num = int("".join(str(int(c, 36)) for c in rearranged))
    return f"{country}{98 - num % 97:02d}{bban}"


def group4(s: str) -> str:
    return " ".join(s[i : i + 4] for i in range(0, len(s), 4))


# -- slot fillers: (rng, persona) -> text --------------------------------------------------------------


def f_name_full(r: random.Random, p: Persona) -> str:
    return f"{p.first} {p.last}"


def f_name_first(r: random.Random, p: Persona) -> str:
    return p.first


def f_name_title(r: random.Random, p: Persona) -> tuple[str, str]:
    """The title is written but not labelled: it says a name follows, it is not the name."""
    t = r.choice(TITLES[p.lang])
    return f"{t} ", (p.last if r.random() < 0.7 else f"{p.first} {p.last}")


def f_name_any(r: random.Random, p: Persona) -> str | tuple[str, str]:
    x = r.random()
    if x < 0.55:
        return f_name_full(r, p)
    if x < 0.75:
        return f_name_title(r, p)
    if x < 0.85:
        return f"{p.last}, {p.first}"
    if x < 0.93:
        return f"{p.first[0]}. {p.last}"
    return f"{p.first.upper()} {p.last.upper()}"


def f_email(r: random.Random, p: Persona) -> str:
    first, last = _ascii(p.first), _ascii(p.last.split()[0])
    local = r.choice(
        [
            f"{first}.{last}",
            f"{first[0]}{last}",
            f"{first}_{last}{r.randint(1, 99)}",
            f"{last}.{first}",
            f"{first}{r.randint(70, 99)}",
            f"{first}+shop",
        ]
    )
    return f"{local}@{r.choice(DOMAINS)}"


PHONE_FORMATS = {
    "en": [
        "+44 20 7946 {a}",
        "020 7946 {a}",
        "07700 900{b}",
        "+44 7700 900{b}",
        "(415) 555-0{b}",
        "415-555-0{b}",
        "+1 212 555 0{b}",
        "+1 (646) 555-0{b}",
    ],
    "de": [
        "+49 30 {c}",
        "030 {c}",
        "0151 {d}",
        "+49 (0)89 {c}",
        "0221/{c}",
        "+49 170 {d}",
        "089-{c}",
        "+43 1 {c}",
        "+41 44 {e}",
    ],
    "fr": ["+33 1 {f}", "01 {f}", "06 {f}", "+33 6 {f}", "07.{g}", "04 {f}"],
    "es": ["+34 912 {h}", "912 {h}", "+34 612 {h}", "612 {h}", "93 {i}", "+34 93 {i}", "654-{j}"],
}


def f_phone(r: random.Random, p: Persona) -> str:
    fmt = r.choice(PHONE_FORMATS[p.lang])
    d = lambda n: "".join(r.choice(string.digits) for _ in range(n))  # noqa: E731
    pairs = lambda sep: sep.join(d(2) for _ in range(4))  # noqa: E731
    return fmt.format(
        a=f"0{d(3)}",
        b=f"{r.randint(100, 999)}"[:3],
        c=f"{r.randint(2, 9)}{d(6)}",
        d=f"{r.randint(1, 9)}{d(7)}",
        e=f"{r.randint(2, 9)}{d(2)} {d(2)} {d(2)}",
        f=pairs(" "),
        g=pairs("."),
        h=f"{d(3)} {d(3)}",
        i=f"{r.randint(2, 4)}{d(2)} {d(2)} {d(2)}",
        j=f"{d(3)}-{d(3)}",
    )


def f_address(r: random.Random, p: Persona) -> str:
    lang = p.lang
    street = r.choice(STREETS[lang])
    city, code = r.choice(CITIES[lang])
    num = r.randint(1, 240)
    with_city = r.random() < 0.7
    if lang == "en":
        unit = r.choice(["", "", f"Flat {r.randint(1, 12)}, ", f"Apt {r.randint(1, 30)}B, "])
        if with_city:
            return f"{unit}{num} {street}, {city} {code}"
        return f"{unit}{num} {street}"
    if lang == "de":
        suffix = r.choice(["", "", "a", "b"])
        return f"{street} {num}{suffix}, {code} {city}" if with_city else f"{street} {num}{suffix}"
    if lang == "fr":
        bis = r.choice(["", "", " bis", " ter"])
        return f"{num}{bis} {street}, {code} {city}" if with_city else f"{num}{bis}, {street}"
    floor = r.choice(["", f", {r.randint(1, 8)}º {r.choice('ABCD')}", f", {r.randint(1, 6)}º izda."])
    sep = r.choice([" ", ", ", ", nº "])
    return f"{street}{sep}{num}{floor}, {code} {city}" if with_city else f"{street}{sep}{num}{floor}"


def f_dob(r: random.Random, p: Persona) -> str:
    y, m, d = r.randint(1948, 2006), r.randint(1, 12), r.randint(1, 28)
    month = MONTHS[p.lang][m - 1]
    formats = {
        "en": [
            f"{d:02d}/{m:02d}/{y}",
            f"{m}/{d}/{y}",
            f"{month} {d}, {y}",
            f"{d} {month} {y}",
            f"{y}-{m:02d}-{d:02d}",
            f"{d}th {month} {y}" if d not in (1, 2, 3, 21, 22, 23) else f"{d} {month} {y}",
            f"{month[:3]} {d} {y}",
        ],
        "de": [
            f"{d:02d}.{m:02d}.{y}",
            f"{d}.{m}.{y}",
            f"{d}. {month} {y}",
            f"{y}-{m:02d}-{d:02d}",
            f"{d:02d}.{m:02d}.{str(y)[2:]}",
        ],
        "fr": [
            f"{d:02d}/{m:02d}/{y}",
            f"{d} {month} {y}",
            f"{'1er' if d == 1 else d} {month} {y}",
            f"{y}-{m:02d}-{d:02d}",
        ],
        "es": [
            f"{d:02d}/{m:02d}/{y}",
            f"{d} de {month} de {y}",
            f"{d}-{m:02d}-{y}",
            f"{d} {month} {y}",
            f"{y}-{m:02d}-{d:02d}",
        ],
    }
    return r.choice(formats[p.lang])


def f_ip(r: random.Random, p: Persona) -> str:
    x = r.random()
    if x < 0.35:
        return f"192.0.2.{r.randint(1, 254)}"
    if x < 0.55:
        return f"198.51.100.{r.randint(1, 254)}"
    if x < 0.7:
        return f"203.0.113.{r.randint(1, 254)}"
    if x < 0.85:
        return f"{r.choice([81, 85, 91, 176, 217, 62])}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"
    return (
        r.choice(["2001:db8::", "2001:db8:85a3::8a2e:370:", "2001:0db8:0000:0000:0000:ff00:0042:"])
        + f"{r.randint(1, 0xFFFF):x}"
    )


def f_card(r: random.Random, p: Persona) -> str:
    brand = r.choice(["visa", "visa", "mc", "amex", "mc2"])
    if brand == "visa":
        n = luhn_complete("4" + str(r.randint(10000, 99999)), 16, r)
    elif brand == "mc":
        n = luhn_complete(str(r.randint(51, 55)) + str(r.randint(1000, 9999)), 16, r)
    elif brand == "mc2":
        n = luhn_complete(str(r.randint(2221, 2720)), 16, r)
    else:
        n = luhn_complete(r.choice(["34", "37"]) + str(r.randint(1000, 9999)), 15, r)
        return r.choice([f"{n[:4]} {n[4:10]} {n[10:]}", n])
    return r.choice([group4(n), n, "-".join(n[i : i + 4] for i in range(0, 16, 4))])


def f_iban(r: random.Random, p: Persona) -> str:
    d = lambda k: "".join(r.choice(string.digits) for _ in range(k))  # noqa: E731
    country = {
        "en": r.choice(["GB", "IE"]),
        "de": r.choice(["DE", "DE", "AT"]),
        "fr": r.choice(["FR", "BE"]),
        "es": "ES",
    }[p.lang]
    bban = {
        "GB": lambda: "NWBK" + d(14),
        "IE": lambda: "AIBK" + d(14),
        "DE": lambda: d(18),
        "AT": lambda: d(16),
        "FR": lambda: d(10) + "0" + d(10) + d(2),
        "BE": lambda: d(12),
        "ES": lambda: d(20),
    }[country]()
    value = iban(country, bban)
    return group4(value) if r.random() < 0.6 else value


def f_cookie(r: random.Random, p: Persona) -> str:
    x = r.random()
    if x < 0.4:
        return f"GA1.{r.randint(1, 3)}.{r.randint(100000000, 2147483647)}.{r.randint(1500000000, 1760000000)}"
    if x < 0.55:
        return f"fb.1.{r.randint(1500000000000, 1760000000000)}.{r.randint(100000000, 1999999999)}"
    return str(uuid.UUID(int=r.getrandbits(128), version=4))


def f_device(r: random.Random, p: Persona) -> str:
    x = r.random()
    if x < 0.45:
        return str(uuid.UUID(int=r.getrandbits(128), version=4)).upper()
    if x < 0.8:
        return str(uuid.UUID(int=r.getrandbits(128), version=4))
    return f"{r.getrandbits(64):016x}"


def f_hashed_email(r: random.Random, p: Persona) -> str:
    data = f_email(r, p).encode()
    return r.choice([hashlib.sha256, hashlib.sha256, hashlib.md5, hashlib.sha1])(data).hexdigest()


def f_user_id(r: random.Random, p: Persona) -> str:
    return r.choice(
        [
            f"{r.randint(100000, 9999999)}",
            f"KD-{r.randint(2015, 2026)}-{r.randint(1, 99999):05d}",
            f"C{r.randint(10000, 999999)}",
            f"u_{''.join(r.choice(string.ascii_lowercase + string.digits) for _ in range(8))}",
            f"CUST-{r.randint(1000, 99999)}",
            f"{r.randint(10, 99)}-{r.randint(100000, 999999)}",
        ]
    )


def f_order_id(r: random.Random, p: Persona) -> str:
    return r.choice(
        [
            f"{r.randint(100000, 99999999)}",
            f"A-{r.randint(10000, 99999)}",
            f"ORD-{r.randint(100000, 999999)}",
            f"{r.randint(100, 999)}-{r.randint(1000000, 9999999)}-{r.randint(1000000, 9999999)}",
            f"FR{r.randint(10000000, 99999999)}",
            f"PED{r.randint(100000, 999999)}",
        ]
    )


# -- hard negatives ---------------------------------------------------------------------------------


def n_version(r: random.Random, p: Persona) -> str:
    return r.choice(
        [
            f"{r.randint(1, 16)}.{r.randint(0, 20)}.{r.randint(0, 30)}",
            f"v{r.randint(1, 5)}.{r.randint(0, 9)}.{r.randint(0, 20)}",
            f"10.0.{r.randint(17000, 22631)}.{r.randint(100, 4000)}",
            f"{r.randint(1, 4)}.{r.randint(0, 9)}.{r.randint(0, 9)}.{r.randint(1, 99)}",
        ]
    )


def n_uuid(r: random.Random, p: Persona) -> str:
    return str(uuid.UUID(int=r.getrandbits(128), version=4))


def n_commit(r: random.Random, p: Persona) -> str:
    return f"{r.getrandbits(160):040x}" if r.random() < 0.5 else f"{r.getrandbits(28):07x}"


def n_sha256(r: random.Random, p: Persona) -> str:
    return f"{r.getrandbits(256):064x}"


def n_sku(r: random.Random, p: Persona) -> str:
    return r.choice(
        [
            f"SKU-{r.randint(1000, 99999)}",
            f"{r.choice(['TS', 'HD', 'BK'])}-{r.randint(100, 999)}-{r.choice(['BL', 'RD', 'XL'])}",
            f"{r.randint(1000000000000, 9999999999999)}",
            f"ART{r.randint(10000, 99999)}",
        ]
    )


def n_bad_card(r: random.Random, p: Persona) -> str:
    good = luhn_complete("4" + str(r.randint(10000, 99999)), 16, r)
    bad = good[:-1] + str((int(good[-1]) + r.randint(1, 9)) % 10)
    return group4(bad) if r.random() < 0.5 else bad


def n_date(r: random.Random, p: Persona) -> str:
    p2 = Persona(r, p.lang)
    p2.lang = p.lang
    s = f_dob(r, p2)
    return re.sub(r"19[4-9]\d|200\d", str(r.randint(2019, 2026)), s)


def n_time(r: random.Random, p: Persona) -> str:
    return f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}"


def n_ts(r: random.Random, p: Persona) -> str:
    return f"2026-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}T{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}Z"


def n_ticket(r: random.Random, p: Persona) -> str:
    return str(r.randint(10000, 999999))


def n_amount(r: random.Random, p: Persona) -> str:
    return (
        f"{r.randint(5, 2500)},{r.randint(0, 99):02d}"
        if p.lang != "en"
        else f"{r.randint(5, 2500)}.{r.randint(0, 99):02d}"
    )


def n_qty(r: random.Random, p: Persona) -> str:
    return str(r.randint(2, 40))


def n_tracking(r: random.Random, p: Persona) -> str:
    return r.choice(
        [
            f"1Z{r.randint(100, 999)}AA{r.randint(10000000, 99999999)}",
            f"JJD{r.randint(10**17, 10**18 - 1)}",
            f"{r.randint(10**11, 10**12 - 1)}",
        ]
    )


def n_hex16(r: random.Random, p: Persona) -> str:
    return f"{r.getrandbits(64):016x}"


def n_product(r: random.Random, p: Persona) -> str:
    return r.choice(
        [
            "Model X200",
            "Pro 14",
            "Series 7",
            "AirFlow 3000",
            "Galaxy Tab S9",
            "ThinkPad T14",
            "Vivo 22",
            "Mate 40",
            "Aspire 5",
            "Nova 9",
        ]
    )


def n_city(r: random.Random, p: Persona) -> str:
    return r.choice(CITIES[p.lang])[0].split(",")[0]


def n_port(r: random.Random, p: Persona) -> str:
    return f"{r.randint(1, 9)}.{r.randint(0, 9)}.{r.randint(0, 9)}"


def n_build(r: random.Random, p: Persona) -> str:
    return str(r.randint(10**6, 10**9))


SLOTS: dict[str, tuple[Any, str | None]] = {
    "name": (f_name_any, "PERSON"), "name_full": (f_name_full, "PERSON"), "first": (f_name_first, "PERSON"),
    "name_title": (f_name_title, "PERSON"), "email": (f_email, "EMAIL"), "phone": (f_phone, "PHONE"),
    "address": (f_address, "STREET_ADDRESS"), "dob": (f_dob, "DATE_OF_BIRTH"), "ip": (f_ip, "IP_ADDRESS"),
    "card": (f_card, "CREDIT_CARD"), "iban": (f_iban, "IBAN"), "cookie": (f_cookie, "COOKIE_ID"),
    "device": (f_device, "DEVICE_ID"), "hashed_email": (f_hashed_email, "HASHED_EMAIL"),
    "user_id": (f_user_id, "USER_ID"), "order_id": (f_order_id, "USER_ID"),
    "neg_version": (n_version, None), "neg_uuid": (n_uuid, None), "neg_commit": (n_commit, None),
    "neg_sha256": (n_sha256, None), "neg_sku": (n_sku, None), "neg_bad_card": (n_bad_card, None),
    "neg_date": (n_date, None), "neg_time": (n_time, None), "neg_ts": (n_ts, None), "neg_ticket": (n_ticket, None),
    "neg_amount": (n_amount, None), "neg_qty": (n_qty, None), "neg_tracking": (n_tracking, None),
    "neg_hex16": (n_hex16, None), "neg_product": (n_product, None), "neg_city": (n_city, None),
    "neg_build": (n_build, None), "neg_port": (n_port, None),
}  # fmt: skip
SLOT = re.compile(r"\{(\w+)\}")


def render(template: str, rng: random.Random, lang: str) -> tuple[str, list[dict[str, Any]]]:
    persona = Persona(rng, lang)
    others: dict[str, Persona] = {}
    out: list[str] = []
    spans: list[dict[str, Any]] = []
    pos = 0
    cursor = 0
    for m in SLOT.finditer(template):
        literal = template[cursor : m.start()]
        out.append(literal)
        pos += len(literal)
        key = m.group(1)
        who = persona
        if key.endswith("2"):  # a second person in the same record: {name2}, {email2}
            key = key[:-1]
            who = others.setdefault("2", Persona(rng, lang))
        fill, label = SLOTS[key]
        value = fill(rng, who)
        if isinstance(value, tuple):  # (unlabelled prefix, labelled value)
            prefix, value = value
            out.append(prefix)
            pos += len(prefix)
        out.append(value)
        if label is not None:
            spans.append({"start": pos, "end": pos + len(value), "type": label})
        pos += len(value)
        cursor = m.end()
    out.append(template[cursor:])
    return "".join(out), spans


def build(per_lang: int = 160) -> list[dict[str, Any]]:
    rng = random.Random(SEED)
    records: list[dict[str, Any]] = []
    for lang in ("en", "de", "fr", "es"):
        pool = TEMPLATES[lang]
        for i in range(per_lang):
            kind, template = pool[i % len(pool)] if i < len(pool) else rng.choice(pool)
            text, spans = render(template, rng, lang)
            records.append(
                {"id": f"{lang}-{i + 1:04d}", "lang": lang, "kind": kind, "text": text, "spans": spans}
            )
        for j, (kind, template) in enumerate(NEGATIVE_ONLY[lang]):
            text, spans = render(template, rng, lang)
            records.append(
                {"id": f"{lang}-n{j + 1:03d}", "lang": lang, "kind": kind, "text": text, "spans": spans}
            )
    return records


def main() -> None:
    records = build()
    with OUT.open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    spans = sum(len(r["spans"]) for r in records)
    print(f"wrote {len(records)} records, {spans} spans to {OUT}")


if __name__ == "__main__":
    main()

"""Street addresses as they are written in English, German, French and Spanish.

Each language has its own order: "221B Baker Street, London NW1 6XE", "Hauptstraße 5, 10115 Berlin",
"12 rue de la Paix, 75002 Paris", "Calle Mayor 3, 2º B, 28013 Madrid". The patterns anchor on street
type words (Street, -straße, rue, Calle …) and house numbers, and extend over a postcode and town when
they follow. A label ("Address:", "Anschrift:", "Dirección:") followed by text with a number catches the
formats the patterns miss.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

from consentgate.classify.findings import EntityType, Finding

UP = "A-ZÀ-ÖØ-ÞŒŠŽ"
CAP = rf"[{UP}][\w'’.-]*"
CAPW = rf"[{UP}][^\W\d_]*(?:['’-][^\W\d_]+)*"

SP = r"[^\S\n]"  # a space or tab, never a line break


def _words(text: str) -> list[str]:
    return text.split("|")


# Core English street types and their abbreviations; Faker's USPS-style suffix lists add the rest
# (Forks, Junction, Meadows …), which count only with a town and postcode or a unit after them.
EN_CORE = _words(
    "Street|St|Avenue|Ave|Av|Road|Rd|Lane|Ln|Drive|Dr|Boulevard|Blvd|Court|Ct|Way|Place|Pl|Terrace|Ter|"
    "Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Close|Crescent|Cres|Row|Gardens|Gdns|Grove|Mews|Walk|"
    "Trail|Trl|Alley|Plaza|Loop|Hill|Green|Rise|View|Heights|Path|Pike|Ridge|Hollow|Creek|Estate|Wharf"
)
EN_UNIT = (
    rf"(?:Apt|Apartment|Suite|Ste|Unit|Flat|Studio|Fl|Floor|Room|Rm|Bldg|Building)\.?{SP}*\#?{SP}*[\w-]{{1,6}}"
    rf"|\#{SP}?\d{{1,5}}"
)
US_ZIP = rf"(?:[A-Z]{{2}}|[A-Z]{{4}}|{CAPW}){SP}+\d{{5}}(?:-\d{{4}})?"
UK_POSTCODE = rf"[A-Z]{{1,2}}\d[A-Z\d]?{SP}?\d[A-Z]{{2}}\b"
TOWN = rf"{CAPW}(?:{SP}+{CAPW}){{0,2}}"
US_TAIL = rf",?{SP}+{TOWN},?{SP}+{US_ZIP}"
UK_TAIL = rf",?{SP}+{TOWN},?{SP}+{UK_POSTCODE}"
CITY_TAIL = rf",{SP}+{TOWN}(?={SP}*(?:[.;\n)]|$))"
PO_BOX = re.compile(
    rf"\b(?:P\.?{SP}?O\.?{SP}?Box|Postfach|Boîte postale|BP|Apartado(?: de correos)?){SP}+\d{{1,6}}\b"
)

DE_SUFFIX = _words(
    "straße|strasse|str.|weg|gasse|allee|platz|ring|damm|ufer|chaussee|steig|pfad|markt|berg|hof|"
    "graben|wall|stieg|kamp|twiete|zeile|garten|höhe|brücke|brink|anger|winkel|redder|deich|promenade|"
    "park|feld|tor|bogen|grund|blick|hang|aue|siedlung"
)
DE_WORD = _words(
    "Straße|Strasse|Str.|Weg|Gasse|Allee|Platz|Ring|Damm|Ufer|Chaussee|Steig|Pfad|Markt|Promenade"
)
DE_NUMBER = rf"{SP}+\d{{1,4}}{SP}?[a-zA-Z]?(?:{SP}?[-/]{SP}?\d{{1,4}}{SP}?[a-z]?)*(?![\d.,:]\d|\w)"
DE_TAIL = (
    rf"(?:,?{SP}+(?:D-|A-|CH-)?\d{{4,5}}{SP}+{CAPW}(?:(?:{SP}|[/-])+"
    rf"(?:am|an{SP}+der|im|in|bei|ob{SP}+der|vor{SP}+der)?{SP}*{CAPW}){{0,2}})"
)
DE_PREP = re.compile(
    rf"(?<![\w-])(?:Am|An{SP}+der|An{SP}+den|Auf{SP}+der|Auf{SP}+dem|Im|In{SP}+der|In{SP}+den|Zum|Zur|"
    rf"Unter{SP}+den|Hinter{SP}+der|Vor{SP}+dem|Bei{SP}+der|Alte|Alter|Neue|Neuer|Große|Kleine)"
    rf"{SP}+{CAPW}(?:{SP}+{CAPW})?{DE_NUMBER}{DE_TAIL}"
)

FR_CORE = _words(
    "rue|avenue|av.|ave|bd|boulevard|blvd|place|pl.|chemin|ch.|allée|allee|impasse|imp.|quai|route|"
    "rte|cours|square|passage|voie|rond-point|promenade|sentier|faubourg|fg|parvis|esplanade|cité|"
    "résidence|lieu-dit|hameau|montée|traverse|villa|lotissement|clos|domaine|chaussée|drève"
)
FR_LINK = r"(?:de|du|des|la|le|les|aux|au|sur|sous|en|et|à|l['’]|d['’])"
FR_NAME = rf"(?:(?:{FR_LINK})(?:{SP}+|(?<=['’]))|(?:{CAPW}|\d{{1,2}}(?:er|e)?|[{UP}]\.){SP}*){{1,7}}"
FR_TAIL = (
    rf"(?:,?{SP}+(?:F-)?\d{{5}}{SP}+{CAPW}(?:(?:{SP}|-)+(?:sur|sous|en|le|la|les|de|du|d['’])?"
    rf"(?:{SP}|-)*{CAPW}){{0,3}}(?:{SP}+(?i:cedex)(?:{SP}+\d{{1,2}})?)?)"
)

ES_CORE = _words(
    "calle|c/|c.|avenida|avda.|avda|av.|avd.|paseo|pº|p.º|plaza|pza.|pza|pl.|camino|carretera|ctra.|ctra|"
    "ronda|travesía|travesia|glorieta|vía|via|rambla|callejón|urbanización|urb.|pasaje|bulevar|"
    "costanilla|cuesta|carrer|passeig|avinguda|calzada|colonia|col."
)
ES_LINK = r"(?:de|del|la|las|los|el|y|e|san|santa|d['’]|l['’])"
ES_NAME = rf"(?:(?:{ES_LINK}){SP}+|(?:{CAPW}|\d{{1,2}}{SP}+de{SP}+{CAPW}){SP}*){{1,6}}"
ES_NUMBER = (
    rf",?{SP}*(?:n[º°o]\.?{SP}*|núm\.?{SP}*|número{SP}+|num\.{SP}*)?(?:\d{{1,4}}(?:{SP}?[A-Za-z])?(?![\w])|s/n)"
    rf"(?:,?{SP}*(?:\d{{1,2}}{SP}?[º°ª]{SP}?-?{SP}?[A-Za-z0-9]?(?![\w])|(?:piso|planta|puerta|pta\.?|esc\.?|"
    rf"escalera|bajo|portal|bloque|apt\.?|apto\.?|interior|int\.?|edif\.?|depto\.?|dpto\.?|"
    rf"izq(?:da)?\.?|dcha\.?|derecha|izquierda){SP}*[\w]{{0,3}}\.?))*"
)
ES_TAIL = (
    rf"(?:,?{SP}+(?:C\.?P\.?{SP}*)?\d{{5}},?{SP}+{CAPW}"
    rf"(?:(?:{SP}|-)+(?:de{SP}+|del{SP}+|la{SP}+)?{CAPW}){{0,3}}(?:{SP}*\({CAPW}\))?"
    rf"|,{SP}*{TOWN},{SP}*(?:[A-Z]{{2,4}}{SP}+)?\d{{5}}(?:-\d{{4}})?)"
)


def _alt(words: Iterable[str]) -> str:
    """A regex alternation of literal words, longest first (so "Streets" wins over "Street")."""
    return "|".join(re.escape(w) for w in sorted(set(words), key=lambda w: (-len(w), w)))


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[re.Pattern[str], str, float]]:
    vocab = street_vocabulary()
    en_core, en_all = _alt(EN_CORE), _alt(vocab["en"])
    en_head = (
        rf"(?<![\w/-])(?:(?:{EN_UNIT}),?{SP}+)?\d{{1,5}}[A-Za-z]?(?:-\d{{1,5}})?{SP}+"
        rf"(?:(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)\.?{SP}+)?"
        rf"(?:(?:{CAPW}|\d{{1,3}}(?:st|nd|rd|th)){SP}+){{1,3}}"
    )
    en = re.compile(
        rf"{en_head}(?:{en_core})\b\.?(?:,?{SP}+(?:{EN_UNIT}))?(?:{US_TAIL}|{UK_TAIL}|{CITY_TAIL})?"
    )
    # Any street type, but only with a unit, or a town and postcode, after it.
    en_more = re.compile(
        rf"{en_head}(?:{en_all})\b\.?(?:(?:,?{SP}+(?:{EN_UNIT}))(?:{US_TAIL}|{UK_TAIL})?|{US_TAIL}|{UK_TAIL})"
    )
    # British flats without a house number: "Flat 8, Wilkinson Loop, Joanberg, N97 2AJ".
    uk_unit = re.compile(
        rf"(?<![\w/-])(?:{EN_UNIT}),?{SP}+(?:\d{{1,5}}[A-Za-z]?{SP}+)?(?:{CAPW}{SP}+){{1,3}}(?:{en_all})\b"
        rf"(?:{UK_TAIL}|{US_TAIL}|{CITY_TAIL})"
    )
    de_suffix = _alt([w.lower() for w in vocab["de"]])
    de_word = _alt(DE_WORD + [w for w in vocab["de"] if w[:1].isupper()])
    de = re.compile(
        rf"""(?<![\w-])(?:
          {CAPW}(?:-{CAPW})*-?(?i:{de_suffix})
        | (?:{CAPW}{SP}+){{1,2}}(?:{de_word})
        | (?:{CAPW}-)+(?:{de_word})
        | (?:[{UP}]\.-)?(?:{CAPW}-)+(?:{de_word})
        | (?:Straße|Platz){SP}+de[rs]{SP}+{CAPW}(?:{SP}+\d{{1,2}}\.{SP}+{CAPW})?
        ){DE_NUMBER}{DE_TAIL}?""",
        re.X,
    )
    fr_types = _alt(vocab["fr"])
    fr = re.compile(
        rf"(?<![\w-])\d{{1,4}}(?:{SP}?(?:bis|ter|quater|[A-D])\b)?,?{SP}+(?i:{fr_types}){SP}+{FR_NAME}{FR_TAIL}?"
    )
    # No house number, then the postcode and town must follow: "rue de Thibault, 08733 Mahe".
    fr_nonum = re.compile(rf"(?<![\w-])(?i:{fr_types}){SP}+{FR_NAME},?{FR_TAIL}")
    # Belgian and Swiss order: "Rue de la Loi 16, 1000 Bruxelles".
    fr_be = re.compile(
        rf"(?<![\w-])(?i:{fr_types}){SP}+{FR_NAME}{SP}*\d{{1,4}}[a-z]?,?{SP}+\d{{4}}{SP}+{CAPW}"
    )
    es = re.compile(rf"(?<![\w-])(?i:{_alt(vocab['es'])}){SP}*{ES_NAME}{ES_NUMBER}{ES_TAIL}?")
    return [
        (en, "address_en", 0.85),
        (en_more, "address_en", 0.8),
        (uk_unit, "address_en_unit", 0.8),
        (de, "address_de", 0.85),
        (DE_PREP, "address_de_prep", 0.8),
        (fr, "address_fr", 0.85),
        (fr_nonum, "address_fr", 0.75),
        (fr_be, "address_fr_be", 0.8),
        (es, "address_es", 0.85),
        (PO_BOX, "po_box", 0.7),
    ]


@lru_cache(maxsize=1)
def street_vocabulary() -> dict[str, list[str]]:
    """Street-type words per pattern group: ours plus the lists Faker keeps per locale."""
    out = {
        "en": list(EN_CORE),
        "de": list(DE_SUFFIX) + list(DE_WORD),
        "fr": list(FR_CORE),
        "es": list(ES_CORE),
    }
    sources = {
        "en": [("en_US", "street_suffixes"), ("en_GB", "street_suffixes"), ("en_AU", "street_suffixes"),
               ("en_CA", "street_suffixes")],
        "de": [(loc, attr) for loc in ("de_DE", "de_AT", "de_CH")
               for attr in ("street_suffixes_long", "street_suffixes_short")],
        "fr": [("fr_FR", "street_prefixes"), ("fr_CH", "street_prefixes")],
        "es": [("es_ES", "street_prefixes"), ("es_MX", "street_prefixes"), ("es_AR", "street_prefixes")],
    }  # fmt: skip
    for group, refs in sources.items():
        for locale, attr in refs:
            try:
                provider = importlib.import_module(f"faker.providers.address.{locale}").Provider
            except (ImportError, AttributeError):  # pragma: no cover - a Faker release without it
                continue
            values = getattr(provider, attr, ())
            words = [str(w) for w in (values.keys() if isinstance(values, dict) else values)]
            out[group].extend(w.strip() for w in words if (w.strip() and w != "Street") or group == "en")
    return {g: sorted(set(ws)) for g, ws in out.items()}


LABEL = re.compile(
    r"(?i:\b(?:address|home address|shipping address|billing address|delivery address|postal address|"
    r"adresse|anschrift|lieferadresse|rechnungsadresse|wohnadresse|adresse de livraison|"
    r"adresse de facturation|adresse postale|dirección|direccion|domicilio|dirección de envío|"
    r"i live at|i live in|we live at|ich wohne in der|ich wohne in|ich wohne|wohne in der|j'habite au|"
    r"j'habite à|j'habite|vivo en la|vivo en|moved to|umgezogen nach|déménagé au)\b)[^\S\n]*[:\-]?[^\S\n]*"
    r"(?:(?:to|is|auf|lautet|ist|à|au|est|es|en|a)[^\S\n]+)?"
)
LABEL_VALUE = re.compile(
    r"[^\n;|]{6,90}?(?=[^\S\n]*(?:\n|;|\||$|\.[^\S\n]|[^\S\n](?:and|und|et|y|but|aber|mais|pero)[^\S\n]))"
)


# Per pattern: the trigger group whose words it needs, and how far before / after such a word a match
# can start / end. Patterns run only inside these windows (merged), never over the whole text.
_WINDOWS = {
    "address_en": ("en", 70, 90),
    "address_en_unit": ("en", 60, 80),
    "address_de": ("de", 45, 80),
    "address_fr": ("fr", 20, 130),
    "address_fr_be": ("fr", 2, 130),
    "address_es": ("es", 2, 150),
    "po_box": ("box", 12, 20),
}
_POSTCODE_CITY = re.compile(rf"(?<!\d)\d{{4,5}}[^\S\n]+[{UP}]")


def addresses(text: str, triggers: Iterable[tuple[str, int, int]]) -> Iterator[Finding]:
    """Street addresses near trigger words: ``triggers`` are ``(group, start, end)`` of street words
    (see :data:`consentgate.classify.lexicon.STREET_TRIGGERS`)."""
    by_group: dict[str, list[tuple[int, int]]] = {}
    for group, start, end in triggers:
        by_group.setdefault(group, []).append((start, end))
    n = len(text)
    for pattern, rule, score in _patterns():
        if rule == "address_de_prep":  # "Am Mühlbach 3, 79100 Freiburg": anchored on the postcode
            spans = [(m.start() - 70, m.end() + 40) for m in _POSTCODE_CITY.finditer(text)]
        else:
            group, before, after = _WINDOWS[rule]
            spans = [(s - before, e + after) for s, e in by_group.get(group, ())]
        for lo, hi in _merge(spans, n):
            for m in pattern.finditer(text, lo, hi):
                start, end = m.start(), m.end()
                while end > start and text[end - 1] in " ,.-":
                    end -= 1
                if text[end - 1 : end + 1] in ("r.", "d.", "t.") and rule == "address_de":
                    end += 1  # "Hauptstr." keeps its dot
                yield Finding(start, end, EntityType.STREET_ADDRESS, score, rule)
    for lo, hi in _merge([(s - 2, e + 30) for s, e in by_group.get("label", ())], n):
        for m in LABEL.finditer(text, lo, hi):
            v = LABEL_VALUE.match(text, m.end())
            if v is not None and any(c.isdigit() for c in v.group()) and "@" not in v.group():
                value = v.group().rstrip(" ,.")
                yield Finding(
                    v.start(), v.start() + len(value), EntityType.STREET_ADDRESS, 0.6, "address_label"
                )


def _merge(spans: list[tuple[int, int]], n: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(spans):
        lo, hi = max(0, lo), min(n, hi)
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out

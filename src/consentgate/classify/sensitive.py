"""Special categories of personal data (GDPR Art. 9): which a column's name or text speaks of.

Art. 9(1) lists racial or ethnic origin, political opinions, religious or philosophical beliefs,
trade union membership, genetic data, biometric data for identification, health, and sex life or
sexual orientation. A column is *sensitive* when its name names one of them (``diagnosis``,
``religion``, ``gewerkschaft``) or when its free text mentions one often enough.
"""

from __future__ import annotations

import re

from consentgate.classify.context import lower_same_length

ART9_COLUMN_WORDS: dict[str, str] = {}
for _category, _words in {
    "health": "health|medical|diagnosis|diagnoses|diagnose|condition|disease|illness|medication|"
    "prescription|allergy|allergies|disability|pregnancy|pregnant|treatment|symptom|symptoms|icd10|icd|"
    "gesundheit|krankheit|diagnose|medikament|behinderung|schwangerschaft|santé|sante|maladie|"
    "diagnostic|traitement|handicap|salud|enfermedad|diagnóstico|diagnostico|medicación|discapacidad|"
    "embarazo|patient|patient_notes|blood_type|bmi",
    "ethnic_origin": "ethnicity|ethnic|race|racial|ethnie|herkunft|origine_ethnique|etnia|raza",
    "political_opinion": "political|politics|party_affiliation|party|politische|partei|politique|parti|"
    "político|politico|partido",
    "religion": "religion|religious|faith|belief|beliefs|denomination|konfession|religion|croyance|"
    "religión|creencia",
    "trade_union": "union|trade_union|union_member|gewerkschaft|syndicat|sindicato",
    "genetic": "genetic|genome|dna|genotype|genetisch|génétique|genético",
    "biometric": "biometric|fingerprint|face_embedding|faceprint|iris|voiceprint|biometrisch|"
    "fingerabdruck|biométrique|empreinte|biométrico|huella",
    "sex_life": "sexual_orientation|orientation|sex_life|sexuality|sexualität|sexuelle|orientation_sexuelle|"
    "orientación_sexual|sexualidad",
}.items():
    for _w in _words.split("|"):
        ART9_COLUMN_WORDS[_w] = _category

# Terms in free text that reveal a special category (kept short and specific on purpose).
ART9_TEXT = re.compile(
    r"\b(?:diabetes|diabetic|hiv|aids|cancer|chemotherapy|chemo|depression|anxiety disorder|"
    r"schizophrenia|bipolar|epilepsy|asthma|pregnant|pregnancy|miscarriage|dementia|alzheimer|"
    r"krebs|schwanger|depressionen|cancer|enceinte|dépression|embarazada|depresión|"
    r"muslim|catholic|jewish|christian|hindu|buddhist|muslimisch|katholisch|jüdisch|musulman|"
    r"catholique|juif|musulmán|católico|judío|gay|lesbian|bisexual|transgender|schwul|lesbisch|"
    r"homosexuel|homosexual|trade union|gewerkschaftsmitglied|syndiqué|sindicalista)\b"
)
_TEXT_CATEGORY = {
    "health": ("diabet", "hiv", "aids", "cancer", "chemo", "depress", "anxiety", "schizo", "bipolar",
               "epilep", "asthma", "pregnan", "miscarr", "dementia", "alzheimer", "krebs", "schwanger",
               "enceinte", "embarazada", "dépression", "depresión"),
    "religion": ("muslim", "catholic", "jewish", "christian", "hindu", "buddhist", "katholisch", "jüdisch",
                 "musulman", "catholique", "juif", "musulmán", "católico", "judío"),
    "sex_life": ("gay", "lesbian", "bisexual", "transgender", "schwul", "lesbisch", "homosex"),
    "trade_union": ("trade union", "gewerkschaft", "syndiqué", "sindicalista"),
}  # fmt: skip


def column_category(name: str) -> str | None:
    """The Art. 9 category a column name speaks of, if any."""
    words = [w for w in re.split(r"[^a-zà-ÿ0-9]+", _snake(name)) if w]
    joined = "_".join(words)
    for candidate in (joined, *words):
        if candidate in ART9_COLUMN_WORDS:
            return ART9_COLUMN_WORDS[candidate]
    for n in (2, 3):
        for i in range(len(words) - n + 1):
            key = "_".join(words[i : i + n])
            if key in ART9_COLUMN_WORDS:
                return ART9_COLUMN_WORDS[key]
    return None


def text_categories(text: str) -> set[str]:
    """Art. 9 categories that terms in a free text reveal."""
    found: set[str] = set()
    for m in ART9_TEXT.finditer(lower_same_length(text)):
        term = m.group()
        for category, stems in _TEXT_CATEGORY.items():
            if any(term.startswith(s) or s in term for s in stems):
                found.add(category)
    return found


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()

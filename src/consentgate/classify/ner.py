"""An optional named-entity model, used only where the user has one installed.

consentgate never downloads a model: :func:`load_ner` loads an installed spaCy package
(``en_core_web_sm``) or a model directory, and refuses with a clear message otherwise. The rule-based
detectors reach their targets without it; a model adds recall on names written in ways no rule knows.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from consentgate.classify.findings import EntityType, Finding
from consentgate.errors import BadInput

PERSON_LABELS = frozenset({"PERSON", "PER"})


class NerModel:
    """A loaded spaCy pipeline; reports its PERSON/PER entities as findings with rule ``ner``."""

    def __init__(self, nlp: Any, name: str) -> None:
        self._nlp = nlp
        self.name = name

    def persons(self, text: str, lang: str | None = None) -> list[Finding]:
        del lang  # one model serves every language it was trained on
        doc = self._nlp(text)
        return [
            Finding(ent.start_char, ent.end_char, EntityType.PERSON, 0.7, "ner")
            for ent in doc.ents
            if ent.label_ in PERSON_LABELS and len(ent.text.strip()) > 1
        ]


def load_ner(name_or_path: str) -> NerModel:
    """Load an installed spaCy model package or model directory; never fetch one."""
    if importlib.util.find_spec("spacy") is None:
        raise BadInput("an NER model needs spaCy: pip install spacy, then install a model package")
    import spacy

    path = Path(name_or_path)
    if not path.exists() and not spacy.util.is_package(name_or_path):
        raise BadInput(
            f"spaCy model {name_or_path!r} is not installed and consentgate does not download models; "
            "install the model package yourself or pass a model directory"
        )
    nlp = spacy.load(path if path.exists() else name_or_path, exclude=["lemmatizer", "parser", "tagger"])
    return NerModel(nlp, name_or_path)

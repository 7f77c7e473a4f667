"""The optional NER model: loaded only where installed, never downloaded."""

from __future__ import annotations

from pathlib import Path

import pytest
import spacy

from consentgate.classify import Scanner
from consentgate.classify.ner import load_ner
from consentgate.errors import BadInput


def test_a_missing_model_is_refused_not_downloaded() -> None:
    with pytest.raises(BadInput, match="does not download"):
        load_ner("xx_no_such_model_sm")


def test_a_model_directory_adds_person_entities(tmp_path: Path) -> None:
    # A tiny pipeline made here (an entity ruler), saved and loaded like any installed model.
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "PERSON", "pattern": [{"LOWER": "zyx"}, {"LOWER": "qwerty"}]}])  # type: ignore[attr-defined]
    nlp.to_disk(tmp_path / "model")
    ner = load_ner(str(tmp_path / "model"))
    text = "please forward this to Zyx Qwerty at anna@example.com"
    without = {f.type.value for f in Scanner().scan(text)}
    with_ner = [(f.type.value, text[f.start : f.end], f.rule) for f in Scanner(ner=ner).scan(text)]
    assert "PERSON" not in without
    assert ("PERSON", "Zyx Qwerty", "ner") in with_ner
    assert ("EMAIL", "anna@example.com", "email") in with_ner

"""The scorer, and a floor on the development corpus (below the measured figures in docs/benchmarks.md)."""

from __future__ import annotations

from pathlib import Path

from consentgate.classify import Scanner
from consentgate.classify.scoring import evaluate, load_corpus, score

CORPUS = Path(__file__).resolve().parents[2] / "benchmarks" / "corpus" / "dev.jsonl"


def test_overlap_and_exact_matching() -> None:
    gold = [[(0, 10, "PERSON"), (20, 30, "EMAIL")]]
    pred = [[(0, 4, "PERSON"), (5, 10, "PERSON"), (20, 30, "PHONE"), (40, 45, "EMAIL")]]
    report = score(gold, pred)
    person, email = report.overlap["PERSON"], report.overlap["EMAIL"]
    assert (person.precision, person.recall) == (1.0, 1.0)  # both pieces overlap the gold name
    assert report.exact["PERSON"].f1 == 0.0
    assert (email.precision, email.recall) == (0.0, 0.0)  # the type must match too
    assert report.overlap["PHONE"].precision == 0.0
    micro = report.micro()
    assert (micro.tp_pred, micro.n_pred, micro.tp_gold, micro.n_gold) == (2, 4, 1, 2)


def test_corpus_is_well_formed() -> None:
    records = load_corpus(CORPUS)
    assert len(records) >= 600
    assert {r["lang"] for r in records} == {"en", "de", "fr", "es"}
    assert len({r["id"] for r in records}) == len(records)
    assert sum(1 for r in records if not r["spans"]) >= 20  # records with hard negatives only
    for r in records:
        for s in r["spans"]:
            assert 0 <= s["start"] < s["end"] <= len(r["text"])
            assert r["text"][s["start"] : s["end"]].strip() == r["text"][s["start"] : s["end"]]


def test_dev_corpus_floor(scanner: Scanner) -> None:
    records = load_corpus(CORPUS)
    report = evaluate(
        records, lambda text, lang: [(f.start, f.end, f.type.value) for f in scanner.scan(text, lang)]
    )
    assert report.micro("overlap").f1 >= 0.95
    assert report.micro("exact").f1 >= 0.90
    for kind in ("EMAIL", "IP_ADDRESS", "CREDIT_CARD", "IBAN"):
        assert report.overlap[kind].recall >= 0.97, kind
    for kind in ("PERSON", "STREET_ADDRESS", "DATE_OF_BIRTH"):
        assert report.overlap[kind].f1 >= 0.93, kind
    for kind, counts in report.overlap.items():
        assert counts.f1 >= 0.9, kind

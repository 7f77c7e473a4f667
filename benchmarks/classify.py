"""Classification benchmark (issue 6): consentgate's detectors vs Microsoft Presidio, same corpus, same run.

For every entity type: precision, recall and F1 with overlap matching (a prediction counts when it
overlaps a gold span of the same type) and with exact matching; overall micro figures; and throughput
in characters per second (single process, texts scanned one by one, loading excluded).

Presidio runs with its default recognizers (``presidio-analyzer``). Its NER needs a spaCy model; the
script uses ``en_core_web_sm`` when that package is installed and otherwise a blank English spaCy
pipeline (tokenizer only), so Presidio then runs on its pattern recognizers alone — nothing is ever
downloaded. Presidio's entity names are mapped onto ours (``EMAIL_ADDRESS`` → ``EMAIL``,
``IBAN_CODE`` → ``IBAN``, ``LOCATION`` → ``STREET_ADDRESS``, ``DATE_TIME`` → ``DATE_OF_BIRTH``, …);
its other entities (URL, US_SSN, …) are dropped. Its default configuration registers English only, so
every record is analysed as English.

Run: .venv/bin/python benchmarks/classify.py [--corpus FILE.jsonl] [--no-presidio] [--repeat N]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT / "benchmarks" / "corpus" / "dev.jsonl"
OUT = ROOT / "benchmarks" / "out" / "classify.json"

from consentgate.classify import Scanner  # noqa: E402
from consentgate.classify.findings import EntityType  # noqa: E402
from consentgate.classify.scoring import Report, Span, gold_spans, load_corpus, score  # noqa: E402

TYPES = [t.value for t in EntityType]
PRESIDIO_MAP = {
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "IP_ADDRESS": "IP_ADDRESS",
    "CREDIT_CARD": "CREDIT_CARD",
    "IBAN_CODE": "IBAN",
    "PERSON": "PERSON",
    "LOCATION": "STREET_ADDRESS",
    "DATE_TIME": "DATE_OF_BIRTH",
}
# Types both systems have a recognizer for (Presidio's LOCATION and DATE_TIME count as addresses and
# birth dates): the fairest single comparison.
SHARED = sorted(set(PRESIDIO_MAP.values()))
Predict = Callable[[str, str | None], list[Span]]


def consentgate_predictor() -> tuple[Predict, str]:
    scanner = Scanner()
    scanner.scan("warm-up: Anna Schmidt, anna@example.com")  # loads gazetteers and the automaton

    def predict(text: str, lang: str | None) -> list[Span]:
        return [(f.start, f.end, f.type.value) for f in scanner.scan(text, lang)]

    return predict, "consentgate rules + gazetteers (no model)"


def presidio_predictor() -> tuple[Predict, str]:
    import spacy
    import tldextract
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    # Presidio's e-mail recognizer calls tldextract, whose default instance fetches the public suffix
    # list over the network; use the snapshot shipped inside the package instead.
    tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    model = "en_core_web_sm" if spacy.util.is_package("en_core_web_sm") else None

    class _Engine(SpacyNlpEngine):
        def load(self) -> None:
            self.nlp = {"en": spacy.load(model) if model else spacy.blank("en")}

    engine = _Engine(models=[{"lang_code": "en", "model_name": model or "blank:en"}])
    engine.load()
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=engine)
    analyzer = AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["en"])
    analyzer.analyze("warm-up: Anna Schmidt, anna@example.com", language="en")

    def predict(text: str, lang: str | None) -> list[Span]:
        del lang
        out = []
        for r in analyzer.analyze(text, language="en"):
            mapped = PRESIDIO_MAP.get(r.entity_type)
            if mapped is not None:
                out.append((r.start, r.end, mapped))
        return out

    label = f"Presidio {_version('presidio-analyzer')} default recognizers"
    label += f" + spaCy {model}" if model else " (pattern recognizers only: no spaCy model installed)"
    return predict, label


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


def run(records: Sequence[dict[str, Any]], predict: Predict, repeat: int) -> tuple[Report, float]:
    texts = [(str(r["text"]), r.get("lang")) for r in records]
    chars = sum(len(t) for t, _ in texts)
    best = float("inf")
    predicted: list[list[Span]] = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        predicted = [predict(t, lang) for t, lang in texts]
        best = min(best, time.perf_counter() - t0)
    report = score([gold_spans(r) for r in records], predicted, TYPES)
    return report, chars / best


def table(name: str, report: Report, cps: float) -> str:
    lines = [f"\n{name}", f"{'type':16} {'P':>6} {'R':>6} {'F1':>6} {'exactF1':>8} {'gold':>5}"]
    for t in TYPES:
        c = report.overlap.get(t)
        if c is None:
            continue
        e = report.exact[t]
        lines.append(f"{t:16} {c.precision:6.3f} {c.recall:6.3f} {c.f1:6.3f} {e.f1:8.3f} {c.n_gold:5d}")
    m, x = report.micro("overlap"), report.micro("exact")
    lines.append(f"{'micro (overlap)':16} {m.precision:6.3f} {m.recall:6.3f} {m.f1:6.3f} {x.f1:8.3f}")
    c, cx = report.micro("overlap", SHARED), report.micro("exact", SHARED)
    lines.append(f"{'micro, shared*':16} {c.precision:6.3f} {c.recall:6.3f} {c.f1:6.3f} {cx.f1:8.3f}")
    lines.append(f"throughput: {cps:,.0f} characters/s   (* {', '.join(SHARED)})")
    return "\n".join(lines)


def _summary(report: Report) -> dict[str, Any]:
    return {
        **report.as_json(),
        "overlap_micro_shared": report.micro("overlap", SHARED).as_json(),
        "exact_micro_shared": report.micro("exact", SHARED).as_json(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="labelled JSONL corpus")
    ap.add_argument("--no-presidio", action="store_true", help="score consentgate alone")
    ap.add_argument("--repeat", type=int, default=3, help="timing repetitions (best is kept)")
    ap.add_argument("--out", type=Path, default=OUT, help="where to write the JSON results")
    args = ap.parse_args()

    records = load_corpus(args.corpus)
    chars = sum(len(r["text"]) for r in records)
    results: dict[str, Any] = {
        "corpus": str(args.corpus.relative_to(ROOT) if args.corpus.is_relative_to(ROOT) else args.corpus),
        "records": len(records),
        "characters": chars,
        "gold_spans": sum(len(r["spans"]) for r in records),
        "machine": f"{platform.machine()}, python {platform.python_version()}",
    }
    print(
        f"corpus {results['corpus']}: {len(records)} records, {chars:,} characters, "
        f"{results['gold_spans']} spans"
    )

    predict, label = consentgate_predictor()
    report, cps = run(records, predict, args.repeat)
    print(table(label, report, cps))
    results["shared_types"] = SHARED
    results["consentgate"] = {"label": label, "chars_per_s": round(cps), **_summary(report)}

    if not args.no_presidio:
        if importlib.util.find_spec("presidio_analyzer") is None:
            sys.exit("presidio-analyzer is not installed: `make install` (dev extra) installs it")
        p_predict, p_label = presidio_predictor()
        p_report, p_cps = run(records, p_predict, max(1, args.repeat - 2))
        print(table(p_label, p_report, p_cps))
        results["presidio"] = {"label": p_label, "chars_per_s": round(p_cps), **_summary(p_report)}
        results["speedup"] = round(cps / p_cps, 1)
        print(f"\nconsentgate is {cps / p_cps:.1f}x Presidio's characters/s")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results written to {args.out}")


if __name__ == "__main__":
    main()

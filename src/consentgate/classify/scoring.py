"""Score predicted spans against a labelled corpus: per-type precision, recall and F1.

Two matchings are reported. *Overlap*: a predicted span is correct when it overlaps a gold span of the
same type, and a gold span is found when some predicted span of its type overlaps it (so one long
prediction covering "Hauptstraße 5, 10115 Berlin" and a gold span on the street alone agree).
*Exact*: start, end and type must all be equal.

The corpus format is JSON Lines: ``{"id", "lang", "text", "spans": [{"start", "end", "type"}]}`` with
offsets in Unicode code points, end exclusive.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Span = tuple[int, int, str]


@dataclass
class Counts:
    tp_pred: int = 0  # predicted spans that match
    n_pred: int = 0
    tp_gold: int = 0  # gold spans that are found
    n_gold: int = 0

    @property
    def precision(self) -> float:
        return self.tp_pred / self.n_pred if self.n_pred else 1.0 if not self.n_gold else 0.0

    @property
    def recall(self) -> float:
        return self.tp_gold / self.n_gold if self.n_gold else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, other: Counts) -> None:
        self.tp_pred += other.tp_pred
        self.n_pred += other.n_pred
        self.tp_gold += other.tp_gold
        self.n_gold += other.n_gold

    def as_json(self) -> dict[str, Any]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "predicted": self.n_pred,
            "gold": self.n_gold,
        }


@dataclass
class Report:
    overlap: dict[str, Counts] = field(default_factory=dict)
    exact: dict[str, Counts] = field(default_factory=dict)

    def micro(self, mode: str = "overlap", types: Iterable[str] | None = None) -> Counts:
        table = self.overlap if mode == "overlap" else self.exact
        total = Counts()
        for t, c in table.items():
            if types is None or t in types:
                total.add(c)
        return total

    def as_json(self) -> dict[str, Any]:
        return {
            "overlap": {t: c.as_json() for t, c in sorted(self.overlap.items())},
            "exact": {t: c.as_json() for t, c in sorted(self.exact.items())},
            "overlap_micro": self.micro("overlap").as_json(),
            "exact_micro": self.micro("exact").as_json(),
        }


def load_corpus(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def gold_spans(record: Mapping[str, Any]) -> list[Span]:
    return [(int(s["start"]), int(s["end"]), str(s["type"])) for s in record["spans"]]


def score(
    gold: Sequence[Sequence[Span]], predicted: Sequence[Sequence[Span]], types: Iterable[str] | None = None
) -> Report:
    """Compare per-record gold and predicted spans; ``types`` restricts which types are scored."""
    wanted = set(types) if types is not None else None
    report = Report()
    for g_spans, p_spans in zip(gold, predicted, strict=True):
        g = [s for s in g_spans if wanted is None or s[2] in wanted]
        p = [s for s in p_spans if wanted is None or s[2] in wanted]
        for kind in {s[2] for s in g} | {s[2] for s in p}:
            gk = [s for s in g if s[2] == kind]
            pk = [s for s in p if s[2] == kind]
            ov = report.overlap.setdefault(kind, Counts())
            ex = report.exact.setdefault(kind, Counts())
            ov.n_gold += len(gk)
            ex.n_gold += len(gk)
            ov.n_pred += len(pk)
            ex.n_pred += len(pk)
            ov.tp_pred += sum(1 for a in pk if any(a[0] < b[1] and b[0] < a[1] for b in gk))
            ov.tp_gold += sum(1 for b in gk if any(a[0] < b[1] and b[0] < a[1] for a in pk))
            exact = {(a[0], a[1]) for a in pk} & {(b[0], b[1]) for b in gk}
            ex.tp_pred += len(exact)
            ex.tp_gold += len(exact)
    return report


def evaluate(
    records: Sequence[Mapping[str, Any]],
    predict: Callable[[str, str | None], Sequence[Span]],
    types: Iterable[str] | None = None,
) -> Report:
    gold = [gold_spans(r) for r in records]
    predicted = [list(predict(str(r["text"]), r.get("lang"))) for r in records]
    return score(gold, predicted, types)

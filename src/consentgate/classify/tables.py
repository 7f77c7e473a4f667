"""Classify whole inputs: every table under a path, every column of each, and a level per table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from consentgate.classify.columns import ColumnReport, classify_column
from consentgate.classify.findings import LEVEL_ORDER, Level
from consentgate.classify.readers import DEFAULT_SAMPLE_ROWS, Sample, samples
from consentgate.classify.scanner import Scanner

# Called after each column: (table label, column name, columns done in this table, columns in it).
ColumnProgress = Callable[[str, str, int, int], None]


@dataclass
class TableReport:
    name: str
    source: str
    total_rows: int
    sampled_rows: int
    columns: list[ColumnReport] = field(default_factory=list)

    @property
    def level(self) -> Level:
        levels = [c.level for c in self.columns]
        return max(levels, key=lambda lv: LEVEL_ORDER[lv], default=Level.NON_PERSONAL)

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "rows": self.total_rows,
            "sampled_rows": self.sampled_rows,
            "sampled": self.sampled_rows < self.total_rows,
            "level": self.level.value,
            "columns": {c.name: c.as_json() for c in self.columns},
        }


@dataclass
class Classification:
    path: str
    tables: list[TableReport]

    @property
    def level(self) -> Level:
        return max((t.level for t in self.tables), key=lambda lv: LEVEL_ORDER[lv], default=Level.NON_PERSONAL)

    def as_json(self) -> dict[str, Any]:
        single = len(self.tables) == 1
        columns = {
            (c.name if single else f"{t.name}.{c.name}"): c.as_json() for t in self.tables for c in t.columns
        }
        return {
            "path": self.path,
            "level": self.level.value,
            "columns": columns,
            "tables": {t.name: t.as_json() for t in self.tables},
        }


def classify_sample(sample: Sample, scanner: Scanner, progress: ColumnProgress | None = None) -> TableReport:
    report = TableReport(sample.name, sample.source, sample.total_rows, sample.sampled_rows)
    names = list(sample.columns)
    for i, name in enumerate(names, start=1):
        report.columns.append(
            classify_column(name, sample.columns[name], sample.dtypes.get(name, ""), scanner)
        )
        if progress is not None:
            progress(sample.name, name, i, len(names))
    return report


def classify_path(
    path: Path,
    *,
    sample_rows: int = DEFAULT_SAMPLE_ROWS,
    scanner: Scanner | None = None,
    progress: ColumnProgress | None = None,
) -> Classification:
    """Classify every table under ``path`` (a file, a directory or a DuckDB database)."""
    scanner = scanner or Scanner()
    tables = [classify_sample(s, scanner, progress) for s in samples(path, sample_rows)]
    return Classification(str(path), tables)

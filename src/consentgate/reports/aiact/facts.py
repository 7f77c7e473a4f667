"""What consentgate knows about a model: its training runs, the policy sources that fed them, and
the size of the datasets they read.

A model is every training run whose ``model`` is the name asked for, or that name followed by a
version: a separator (``-``, ``_``, ``.``, ``:``, ``@``, ``/`` or a space) and then ``v`` and a digit,
or a digit (``support-bot-v7``, ``support-bot:2``, ``support-bot@1.2``; not ``support-bot-large``,
another model).

Which sources fed a run, most precise first: the source the run named (``FilterOptions(source=…)``,
kept in its manifest); else the sources whose ``location`` or parquet ``store.path`` is one of the
run's datasets; else the sources the policy allows for the run's purpose (what may have fed it: the
summary says so in its ``from``). A run that matches none leaves its sources unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from consentgate.errors import BadInput, NotFound
from consentgate.pipeline.manifest import fingerprint_content
from consentgate.pipeline.training import fingerprint_dataset
from consentgate.policy.models import SourceOrigin, StoreType
from consentgate.reports.aiact.sizes import DatasetSize, measure
from consentgate.store.runs import RunRecord, RunStore

if TYPE_CHECKING:
    from consentgate.policy import Policy, Source
    from consentgate.store.engine import Engine

_VERSION = r"[-_.:@/ ](?:[vV]?\d).*"


def is_version_of(model: str, name: str) -> bool:
    return model == name or re.fullmatch(re.escape(name) + _VERSION, model) is not None


@dataclass(frozen=True, slots=True)
class Dataset:
    """One dataset the runs read, and its size when it could be measured as it was used."""

    name: str
    runs: tuple[str, ...]
    size: DatasetSize | None
    problem: str | None  # why it was not measured, in words


@dataclass
class ModelFacts:
    name: str
    runs: list[RunRecord]
    sources: dict[str, Source] = field(default_factory=dict)  # id → source, in policy order
    matched: dict[str, list[str]] = field(default_factory=dict)  # source id → how it was matched
    unmatched_runs: list[str] = field(default_factory=list)  # runs no declared source explains
    # run id → (its sources, whether they are certain: named or its dataset, not just allowed)
    per_run: dict[str, tuple[frozenset[str], bool]] = field(default_factory=dict)
    datasets: list[Dataset] = field(default_factory=list)

    @property
    def versions(self) -> list[str]:
        return sorted({r.model for r in self.runs if r.model})

    @property
    def run_ids(self) -> list[str]:
        return [r.run_id for r in self.runs]

    def runs_text(self) -> str:
        return f"training runs {', '.join(self.run_ids)} (TrainingRun)"

    def sources_text(self, ids: list[str] | None = None) -> str:
        chosen = ids if ids is not None else list(self.sources)
        return "; ".join(f"{sid}: {', '.join(self.matched[sid])}" for sid in chosen)


def gather(engine: Engine, policy: Policy, name: str, *, policy_dir: Path | None = None) -> ModelFacts:
    """The model's runs (oldest first), their sources and datasets; :class:`NotFound` without runs."""
    runs = [r for r in RunStore(engine).runs(kind="training") if r.model and is_version_of(r.model, name)]
    if not runs:
        known = sorted({r.model for r in RunStore(engine).runs(kind="training") if r.model})
        listed = ", ".join(known[:20]) if known else "none recorded"
        raise NotFound(
            f"no training run recorded a model {name!r} (or a version of it); models with runs: {listed}"
        )
    runs.sort(key=lambda r: (r.started_at, r.run_id))
    facts = ModelFacts(name, runs)
    base = policy_dir or Path()
    for run in runs:
        _match_sources(facts, policy, run, base)
    facts.sources = {s.id: s for s in policy.sources if s.id in facts.matched}
    facts.datasets = _datasets(runs, base)
    return facts


def _match_sources(facts: ModelFacts, policy: Policy, run: RunRecord, base: Path) -> None:
    settings = run.manifest.get("settings") or {}
    named = settings.get("source")
    if isinstance(named, str) and any(s.id == named for s in policy.sources):
        facts.matched.setdefault(named, []).append(f"named by run {run.run_id}")
        facts.per_run[run.run_id] = (frozenset({named}), True)
        return
    paths = {_resolve(str(d.get("name")), base) for d in _dataset_entries(run)}
    by_path = [s for s in policy.sources if paths & _source_paths(s, base)]
    for s in by_path:
        facts.matched.setdefault(s.id, []).append(f"dataset of run {run.run_id}")
    if by_path:
        facts.per_run[run.run_id] = (frozenset(s.id for s in by_path), True)
        return
    allowed = [s for s in policy.sources if run.purpose in s.purposes]
    for s in allowed:
        facts.matched.setdefault(s.id, []).append(f"allowed for purpose {run.purpose} of run {run.run_id}")
    if allowed:
        facts.per_run[run.run_id] = (frozenset(s.id for s in allowed), False)
    else:
        facts.unmatched_runs.append(run.run_id)


def _source_paths(source: Source, base: Path) -> set[Path]:
    found = set()
    if source.location:
        found.add(_resolve(source.location, base))
    if source.store is not None and source.store.type is StoreType.PARQUET and source.store.path:
        found.add(_resolve(source.store.path, base))
    return found


def _resolve(name: str, base: Path) -> Path:
    """A dataset as the run named it: relative to where the run ran (the current directory, which
    is all a manifest can tell), else to the policy's folder."""
    path = Path(name)
    if not path.is_absolute() and not path.exists() and (base / path).exists():
        path = base / path
    return path.resolve()


def _dataset_entries(run: RunRecord) -> list[dict[str, Any]]:
    entries = run.manifest.get("dataset") or []
    return [e for e in entries if isinstance(e, dict) and e.get("name")]


def _datasets(runs: list[RunRecord], base: Path) -> list[Dataset]:
    """Each distinct dataset once (by where it is and what it was), measured when it still is what
    the run read: a changed or missing file would give a size the model never saw."""
    seen: dict[tuple[Path, str | None], tuple[dict[str, Any], list[str], RunRecord]] = {}
    for run in runs:
        for entry in _dataset_entries(run):
            key = (_resolve(str(entry["name"]), base), entry.get("fingerprint"))
            seen.setdefault(key, (entry, [], run))[1].append(run.run_id)
    out = []
    for (path, recorded), (entry, run_ids, run) in seen.items():
        name = str(entry["name"])
        problem = _unchanged(path, entry, recorded)
        size = None
        if problem is None:
            settings = run.manifest.get("settings") or {}
            skip = {c for c in (settings.get("subject_column"), settings.get("flag_column")) if c}
            try:
                size = measure(path, skip)
            except BadInput as exc:
                problem = exc.message
        out.append(Dataset(name, tuple(run_ids), size, problem))
    return out


def _unchanged(path: Path, entry: dict[str, Any], recorded: str | None) -> str | None:
    name = entry["name"]
    if recorded is None or "://" in str(name):
        return f"dataset {name} was not a local file when the run read it, so it cannot be measured here"
    if not path.exists():
        return f"dataset {name} is no longer at {path}"
    now = fingerprint_content(path) if entry.get("filter_run") else fingerprint_dataset(path)["fingerprint"]
    if now != recorded:
        return f"dataset {name} changed since the run read it (fingerprint {recorded}, now {now})"
    return None


def origin_of(source: Source) -> tuple[SourceOrigin | None, str]:
    """The source's origin and how it is known: declared in the policy, or — for a source the policy
    marks as personal data of its users (``personal: true`` or a ``user.`` category) — its users'."""
    if source.origin is not None:
        return source.origin, f"policy source {source.id} (origin: {source.origin.value})"
    if source.personal or any(c.startswith("user.") for c in source.categories):
        why = "personal: true" if source.personal else "user.* categories"
        return SourceOrigin.USER, f"policy source {source.id} (no origin declared; {why}: its users' data)"
    return None, f"policy source {source.id} declares no origin"

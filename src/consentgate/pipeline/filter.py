"""Gate 2, the dataset filter: drop records whose subject may not be used, and write a manifest.

Two entry points, the same semantics (:mod:`consentgate.pipeline.plan`) on every engine:

- :func:`filter_records` for data in memory (a pyarrow Table or Dataset, a Polars DataFrame or
  LazyFrame, a pandas DataFrame, a DuckDB relation, a Spark DataFrame): returns data of the same
  kind and the manifest;
- :func:`filter_files` for Parquet files or dataset directories: writes one Parquet file (Spark: a
  directory of part files) and returns the manifest.
"""

from __future__ import annotations

import glob
import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as pads

from consentgate.errors import BadInput
from consentgate.pipeline.engines import DEFAULT_ENGINE, Engine, engine_for, load
from consentgate.pipeline.manifest import (
    SAMPLE_ROWS,
    Manifest,
    build_manifest,
    fingerprint_content,
    fingerprint_files,
    fingerprint_sample,
    new_run_id,
)
from consentgate.pipeline.plan import (
    FilterOptions,
    FilterPlan,
    ProgressFn,
    make_plan,
    no_progress,
)
from consentgate.pipeline.snapshot import Snapshot


@dataclass(frozen=True)
class FilterResult:
    """The filtered data (same kind as the input) and the run's manifest."""

    data: Any
    manifest: Manifest


def filter_records(
    data: Any,
    snapshot: Snapshot,
    options: FilterOptions,
    *,
    purpose: str | None = None,
    manifest_path: Path | None = None,
) -> FilterResult:
    """Filter in-memory data with the engine its type belongs to."""
    started = datetime.now(UTC)
    run_id = new_run_id()
    name = engine_for(data)
    engine = load(name)
    plan = _plan(snapshot, purpose, options)
    plan = plan.check_schema(engine.schema(data))
    if plan.needs_subject_scan:
        plan = plan.with_suppressed(_suppressed(plan, engine.subjects(data, plan)))
    out, counts = engine.filter_data(data, plan)
    fingerprint = fingerprint_sample(engine.head(data, SAMPLE_ROWS), counts.input)
    manifest = build_manifest(
        run_id=run_id,
        engine=name,
        plan=plan,
        counts=counts,
        fingerprint=fingerprint,
        description=f"in-memory {type(data).__module__.split('.')[0]} {type(data).__name__}",
        started_at=started,
    )
    if manifest_path is not None:
        manifest.write(manifest_path)
    return FilterResult(out, manifest)


def filter_files(
    input: Path | str,
    output: Path,
    snapshot: Snapshot,
    options: FilterOptions,
    *,
    engine: str = DEFAULT_ENGINE,
    purpose: str | None = None,
    manifest_path: Path | None = None,
    progress: ProgressFn = no_progress,
) -> Manifest:
    """Filter Parquet input (a file, a directory of files, or a glob) into ``output``.

    The output appears only when the run succeeds (written under a temporary name, then renamed).
    """
    started = datetime.now(UTC)
    run_id = new_run_id()
    root, paths = input_files(input)
    output = Path(output)
    _check_output(output, paths)
    eng: Engine = load(engine)
    plan = _plan(snapshot, purpose, options)
    plan = plan.check_schema(_files_schema(paths))
    fingerprint = fingerprint_files(root, paths)  # before reading: the state the run started from
    if plan.needs_subject_scan:
        plan = plan.with_suppressed(_suppressed(plan, eng.subjects_in_files(paths, plan)))
    tmp = output.with_name(f".{output.name}.{run_id[:8]}.tmp")
    try:
        counts = eng.filter_files(paths, tmp, plan, progress)
        if tmp.is_dir() and output.is_file():
            output.unlink()  # a directory cannot replace a file in one rename
        os.replace(tmp, output)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
    manifest = build_manifest(
        run_id=run_id,
        engine=eng.NAME,
        plan=plan,
        counts=counts,
        fingerprint=fingerprint,
        description=f"{len(paths)} Parquet file(s) under {input}",
        started_at=started,
        output=str(output),
        input_files=[str(p) for p in paths],
    )
    manifest = replace(manifest, output_fingerprint=fingerprint_content(output))
    if manifest_path is not None:
        manifest.write(manifest_path)
    return manifest


def input_files(spec: Path | str) -> tuple[Path, list[Path]]:
    """The Parquet files an input names, sorted: a file, a directory (recursively; hidden and
    ``_``-prefixed files such as Spark's ``_SUCCESS`` skipped) or a glob pattern."""
    text = str(spec)
    path = Path(text)
    if path.is_file():
        return path, [path]
    if path.is_dir():
        files = sorted(
            p
            for p in path.rglob("*.parquet")
            if p.is_file() and not any(part.startswith((".", "_")) for part in p.relative_to(path).parts)
        )
        if not files:
            raise BadInput(f"{text}: the directory holds no .parquet files")
        return path, files
    if any(ch in text for ch in "*?["):
        files = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
        if not files:
            raise BadInput(f"{text}: the pattern matches no files")
        return Path(os.path.commonpath([str(f.parent) for f in files])), files
    raise BadInput(f"{text}: no such file or directory")


# -- internals -------------------------------------------------------------------------------------


def _plan(snapshot: Snapshot, purpose: str | None, options: FilterOptions) -> FilterPlan:
    if purpose is not None and purpose != snapshot.meta.purpose:
        raise BadInput(
            f"the snapshot is for purpose {snapshot.meta.purpose!r}, not {purpose!r}; "
            f"make one with `consentgate snapshot --purpose {purpose}`",
            purpose=purpose,
        )
    return make_plan(snapshot, options)


def _suppressed(plan: FilterPlan, arrays: Iterable[pa.Array]) -> set[str]:
    assert plan.suppression is not None
    found: set[str] = set()
    for arr in arrays:
        found |= plan.suppression.matching(s for s in arr.to_pylist() if s)
    return found


def _files_schema(paths: Sequence[Path]) -> pa.Schema:
    try:
        return pads.dataset([str(p) for p in paths], format="parquet").schema
    except (pa.ArrowInvalid, OSError) as exc:
        raise BadInput(f"cannot read the input as Parquet: {exc}") from None


def _check_output(output: Path, inputs: Sequence[Path]) -> None:
    out = output.resolve()
    for p in inputs:
        r = p.resolve()
        if r == out or out in r.parents:
            raise BadInput(f"the output {output} would overwrite the input {p}")
    if not output.parent.exists():
        raise BadInput(f"the output's directory {output.parent} does not exist")
    if output.is_dir():
        # Never delete a directory on the user's behalf (it may hold more than an earlier output).
        raise BadInput(f"the output {output} is an existing directory; remove it or choose another name")

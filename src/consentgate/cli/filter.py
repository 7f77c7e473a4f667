"""``consentgate filter``: the dataset gate on the command line.

The pipeline needs the ``pipeline`` extra (pyarrow and the engines); it is imported inside the
command, so the rest of the CLI starts fast and works without it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from consentgate.cli._lineage import check_fresh, emit_lineage, no_ledger_to_compare, record_filter
from consentgate.cli._shared import CliEnv, env_of, parse_at
from consentgate.cli.options import (
    AtOpt,
    EngineName,
    EngineOpt,
    FlagColumnOpt,
    InputOpt,
    MaxStalenessOpt,
    NoSubjectChoice,
    NoSubjectOpt,
    PurposeOpt,
    SnapshotFileOpt,
    SourceOpt,
    SubjectColumnOpt,
    SuppressionKeyFileOpt,
    SuppressionOpt,
    filter_options,
    input_progress,
    snapshot_file_at,
)
from consentgate.errors import BadInput
from consentgate.store.engine import missing_sqlite_file

if TYPE_CHECKING:
    from consentgate.pipeline import Manifest


def filter_(
    ctx: typer.Context,
    purpose: PurposeOpt,
    subject_column: SubjectColumnOpt,
    input: InputOpt,
    output: Annotated[
        Path,
        typer.Option(
            metavar="OUT",
            help="Where the kept records go (one Parquet file; Spark: a directory), "
            "e.g. `--output clean.parquet`.",
        ),
    ],
    engine: EngineOpt = EngineName.duckdb,
    manifest: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE.json",
            help="Also write the run's manifest here, e.g. `--manifest run.json`.",
            show_default=False,
        ),
    ] = None,
    source: SourceOpt = None,
    snapshot_file: SnapshotFileOpt = None,
    at: AtOpt = None,
    no_subject: NoSubjectOpt = NoSubjectChoice.auto,
    flag_column: FlagColumnOpt = None,
    suppression: SuppressionOpt = None,
    suppression_key_file: SuppressionKeyFileOpt = None,
    max_staleness: MaxStalenessOpt = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print the manifest as JSON on stdout, e.g. for `jq .counts`."),
    ] = False,
) -> None:
    """Drop the records whose subject may not be used for a purpose; write a manifest of the run.

    Records drop when their subject is not allowed (unknown subjects get the decision of a person
    with no events), when their flag column is true, when their subject is under an erasure
    suppression, and, per --no-subject, when they carry no subject id.

    A --snapshot behind the ledger is used with a warning saying by how many events and how long;
    beyond --max-staleness it is refused (exit 7). The run is stored in the ledger's `runs` (kind
    filter) with the sha256 of its output, so training runs can trace the file back to it.

    Example:

        consentgate filter --purpose train_support_chatbot --subject-column user_id \\
            --input chats/ --output clean.parquet --manifest run.json
    """
    from consentgate.pipeline import build_snapshot, filter_files
    from consentgate.pipeline.manifest import write_json
    from consentgate.pipeline.staleness import MaxStaleness
    from consentgate.pipeline.suppression import ledger_suppression

    env = env_of(ctx)
    limit = MaxStaleness.parse(max_staleness) if max_staleness is not None else None
    options = filter_options(
        subject_column, flag_column, no_subject, source, suppression, suppression_key_file
    )
    options = options.with_source_from(env.policy()) if source is not None else options
    sup = options.suppression
    if snapshot_file is not None:
        snap = snapshot_file_at(snapshot_file, at)
        if missing_sqlite_file(env.settings.db) is None:
            sup = ledger_suppression(env.ledger().engine, sup)
        elif limit is not None:
            raise no_ledger_to_compare(env, snapshot_file, limit)
        elif sup is None:
            raise BadInput(
                f"ledger {env.settings.db} does not exist, and its erasure suppressions must be checked: "
                "pass --db PATH (env CONSENTGATE_DB), or, where the ledger cannot be reached, "
                "--suppression FILE with --suppression-key-file"
            )
    else:
        snap = build_snapshot(env.policy(), env.ledger(must_exist=True), purpose, parse_at(at))
        sup = ledger_suppression(env.ledger().engine, sup)
    reachable = missing_sqlite_file(env.settings.db) is None
    what = f"snapshot {snapshot_file}" if snapshot_file is not None else "the snapshot"
    found = check_fresh(env, env.ledger(), snap, what, limit) if reachable else None
    with input_progress(env.err, input, f"filtering with {engine.value}") as report:
        result = filter_files(
            input,
            output,
            snap,
            replace(options, suppression=sup),
            engine=engine.value,
            purpose=purpose,
            progress=report,
        )
    result, stored = record_filter(env, result, found if reachable else None)
    if manifest is not None:
        write_json(manifest, stored)
    emit_lineage(env, stored)
    if as_json:
        env.emit_json(stored)
    else:
        _describe_run(env, result)


def _describe_run(env: CliEnv, m: Manifest) -> None:
    c = m.counts
    dropped = ", ".join(f"{n} {r}" for r, n in c.to_json()["dropped"].items() if n) or "none"
    text = Text()
    text.append(f"{m.output}: ", style="bold")
    text.append(f"kept {c.kept} of {c.input} records; dropped {c.dropped} ({dropped}) ")
    text.append(f"[{m.engine}, snapshot head {m.snapshot['head_seq']}, run {m.run_id}]", style="dim")
    env.out.print(text)

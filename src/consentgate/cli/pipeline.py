"""``snapshot`` and ``filter``: the dataset gates on the command line.

The pipeline needs the ``pipeline`` extra (pyarrow and the engines); it is imported inside the
commands, so the rest of the CLI starts fast and works without it.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from consentgate.cli._jsonl import BIG_FILE_BYTES, make_progress
from consentgate.cli._shared import CliEnv, env_of, missing_sqlite_file, parse_at
from consentgate.errors import BadInput

if TYPE_CHECKING:
    from consentgate.ledger.store import Ledger
    from consentgate.pipeline import Manifest, Snapshot
    from consentgate.pipeline.staleness import MaxStaleness, Staleness
    from consentgate.pipeline.suppression import Suppression, SuppressionList


class EngineName(StrEnum):
    duckdb = "duckdb"
    polars = "polars"
    arrow = "arrow"
    pandas = "pandas"
    spark = "spark"


class NoSubjectChoice(StrEnum):
    auto = "auto"
    keep = "keep"
    drop = "drop"


PurposeOpt = Annotated[
    str,
    typer.Option(
        metavar="PURPOSE", help="Purpose id from the policy, e.g. `--purpose train_support_chatbot`."
    ),
]
MaxStalenessOpt = Annotated[
    str | None,
    typer.Option(
        metavar="LIMIT",
        envvar="CONSENTGATE_MAX_STALENESS",
        help="Refuse (exit 7) a --snapshot further behind the ledger than this: a number of events, a "
        "duration (s, m, h, d) or both, e.g. `--max-staleness 100`, `--max-staleness 10m` or "
        "`--max-staleness 100,10m`. Without it a stale snapshot is used with a warning.",
        show_default=False,
    ),
]
AtOpt = Annotated[
    str | None,
    typer.Option(
        metavar="ISO_TIME",
        help="Decide as of this time, ISO 8601 with a zone (default now), e.g. `--at 2026-07-01T00:00:00Z`.",
        show_default=False,
    ),
]


def snapshot(
    ctx: typer.Context,
    purpose: PurposeOpt,
    out: Annotated[
        Path,
        typer.Option(
            metavar="FILE.parquet",
            help="Where to write the snapshot (replaced atomically), e.g. `--out consent.parquet`.",
        ),
    ],
    at: AtOpt = None,
    previous: Annotated[
        Path | None,
        typer.Option(
            "--from",
            metavar="PREV.parquet",
            help="Bring this earlier snapshot up to date by reading only newer events (may be the same "
            "file as --out), e.g. `--from consent.parquet`.",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print the snapshot's metadata as JSON, e.g. for `jq .head_seq`."),
    ] = False,
) -> None:
    """Write every known identifier's decision for a purpose to Parquet (one row per subject and alias).

    Each row holds key, person, allowed, basis, region, reason, evidence_event and valid_until; the
    file's metadata names the ledger head (seq and hash), the time and the policy it reflects.

    Example:

        consentgate snapshot --purpose train_support_chatbot --out consent.parquet

        consentgate snapshot --purpose train_support_chatbot --from consent.parquet --out consent.parquet
    """
    from consentgate.pipeline import Snapshot, build_snapshot

    env = env_of(ctx)
    policy = env.policy()
    ledger = env.ledger(must_exist=True)
    prev = Snapshot.read(previous) if previous is not None else None
    snap = build_snapshot(policy, ledger, purpose, parse_at(at), previous=prev)
    snap.write(out)
    if as_json:
        env.emit_json({**snap.meta.to_json(), "file": str(out)})
    else:
        _describe_snapshot(env, snap, out)


def filter_(
    ctx: typer.Context,
    purpose: PurposeOpt,
    subject_column: Annotated[
        str,
        typer.Option(
            metavar="COLUMN", help="The column holding subject ids, e.g. `--subject-column user_id`."
        ),
    ],
    input: Annotated[
        str,
        typer.Option(
            "--input",
            metavar="IN",
            help="A Parquet file, a directory of them, or a glob, e.g. `--input events/` or "
            "`--input 'events/*.parquet'`.",
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            metavar="OUT",
            help="Where the kept records go (one Parquet file; Spark: a directory), "
            "e.g. `--output clean.parquet`.",
        ),
    ],
    engine: Annotated[
        EngineName, typer.Option(help="Engine that does the work, e.g. `--engine polars`.")
    ] = EngineName.duckdb,
    manifest: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE.json",
            help="Also write the run's manifest here, e.g. `--manifest run.json`.",
            show_default=False,
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            metavar="SOURCE_ID",
            help="The policy's source the data comes from; decides --no-subject auto, "
            "e.g. `--source support-chats`.",
            show_default=False,
        ),
    ] = None,
    snapshot_file: Annotated[
        Path | None,
        typer.Option(
            "--snapshot",
            metavar="FILE.parquet",
            help="Use this snapshot instead of deciding from the ledger now, "
            "e.g. `--snapshot consent.parquet`.",
            show_default=False,
        ),
    ] = None,
    at: AtOpt = None,
    no_subject: Annotated[
        NoSubjectChoice,
        typer.Option(
            help="Records without a subject id: keep, drop, or auto (keep only if --source is declared "
            "`personal: false`), e.g. `--no-subject drop`.",
        ),
    ] = NoSubjectChoice.auto,
    flag_column: Annotated[
        str | None,
        typer.Option(
            metavar="COLUMN",
            help="Boolean column whose true rows drop as do_not_train (default: `do_not_train` when "
            "present), e.g. `--flag-column opted_out_of_training`.",
            show_default=False,
        ),
    ] = None,
    suppression: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE.json",
            envvar="CONSENTGATE_SUPPRESSION",
            help="Erasure suppression list (keyed hashes) to enforce, e.g. `--suppression suppressed.json`.",
            show_default=False,
        ),
    ] = None,
    suppression_key_file: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            envvar="CONSENTGATE_SUPPRESSION_KEY_FILE",
            help="File holding the suppression list's HMAC key, "
            "e.g. `--suppression-key-file /run/secrets/sup`.",
            show_default=False,
        ),
    ] = None,
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
    from consentgate.pipeline import Snapshot, build_snapshot, filter_files, input_files
    from consentgate.pipeline.manifest import write_json
    from consentgate.pipeline.staleness import MaxStaleness
    from consentgate.pipeline.suppression import ledger_suppression

    env = env_of(ctx)
    limit = MaxStaleness.parse(max_staleness) if max_staleness is not None else None
    src = None
    if source is not None:
        src = env.policy().require_source(source)
    sup: SuppressionList | None = _suppression(suppression, suppression_key_file)
    if snapshot_file is not None:
        if at is not None:
            raise typer.BadParameter("--at decides from the ledger; a --snapshot already has its time")
        snap = Snapshot.read(snapshot_file)
        if missing_sqlite_file(env.settings.db) is None:
            sup = ledger_suppression(env.ledger().engine, sup)
        elif limit is not None:
            raise _no_ledger_to_compare(env, snapshot_file, limit)
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
    _, files = input_files(input)
    big = sum(f.stat().st_size for f in files) >= BIG_FILE_BYTES
    with make_progress(env.err, enabled=big) as progress:
        task = progress.add_task(f"filtering with {engine.value}", total=None)

        def report(done: int, total: int | None) -> None:
            progress.update(task, completed=done, total=total)

        result = filter_files(
            input,
            output,
            snap,
            subject_column=subject_column,
            engine=engine.value,
            purpose=purpose,
            flag_column=flag_column,
            no_subject=no_subject.value,
            source=src,
            suppression=sup,
            progress=report,
        )
    result, stored = _record_filter(env, result, found if reachable else None)
    if manifest is not None:
        write_json(manifest, stored)
    emit_lineage(env, stored)
    if as_json:
        env.emit_json(stored)
    else:
        _describe_run(env, result)


# -- helpers ---------------------------------------------------------------------------------------


def check_fresh(
    env: CliEnv, ledger: Ledger, snap: Snapshot, what: str, limit: MaxStaleness | None
) -> Staleness:
    """How far ``snap`` is behind the ledger: refused beyond ``limit`` (StaleData, exit 7), else a
    warning on stderr when it is behind at all."""
    import warnings

    from consentgate.pipeline.staleness import enforce, snapshot_staleness

    found = snapshot_staleness(ledger, snap, what=what)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # said below, in the CLI's words
        enforce(found, limit, purpose=snap.meta.purpose)
    if found.stale:
        env.note(f"warning: {found.message()}", style="yellow")
    return found


def emit_lineage(env: CliEnv, stored: dict[str, Any]) -> None:
    """Send the run to OpenLineage when the environment configures it (``OPENLINEAGE_URL``,
    ``OPENLINEAGE_CONFIG``, ``OPENLINEAGE__TRANSPORT__…``). The gate has done its work and the run is
    recorded; a lineage backend that cannot be reached is reported, not fatal."""
    import os

    if not any(k.startswith("OPENLINEAGE") for k in os.environ):
        return  # not configured: skip even the import
    from consentgate.errors import MissingExtra

    try:
        from consentgate.integrations.openlineage import LineageEmitter
    except MissingExtra as exc:
        env.note(f"warning: OpenLineage is configured but cannot be used: {exc.message}", style="yellow")
        return
    emitter = LineageEmitter.configured()
    if emitter is None:
        return
    try:
        emitter.emit_finished(stored)
    except Exception as exc:  # the transport's own errors: network, file system, its config
        env.note(
            f"warning: run {stored['run_id']} was not sent to OpenLineage: {type(exc).__name__}: {exc}",
            style="yellow",
        )


def _no_ledger_to_compare(env: CliEnv, snapshot_file: Path, limit: MaxStaleness) -> Exception:
    from consentgate.errors import StaleData

    return StaleData(
        f"--max-staleness {limit.describe()} needs the ledger to compare snapshot {snapshot_file} "
        f"with, and ledger {env.settings.db} does not exist: pass --db PATH (env CONSENTGATE_DB), or "
        "leave out --max-staleness to filter without knowing how far behind the snapshot is"
    )


def _record_filter(env: CliEnv, result: Manifest, found: Staleness | None) -> tuple[Manifest, dict[str, Any]]:
    """Store the run in the ledger's ``runs`` (kind filter); without a ledger, say it is not stored.
    An output whose record cannot be stored is removed, like an export's."""
    from dataclasses import replace

    from consentgate.pipeline.lineage import record_filter_run, remove_output

    result = replace(result, staleness=None if found is None else found.to_json())
    if found is None:
        env.note(
            f"warning: filter run {result.run_id} is not recorded in `runs`: ledger {env.settings.db} "
            "does not exist, so training runs cannot trace this output back to it",
            style="yellow",
        )
        return result, {**result.to_json(), "kind": "filter", "subjects": None}
    try:
        stored = record_filter_run(env.ledger(), result)
    except BaseException:
        if result.output is not None:
            remove_output(Path(result.output))
        raise
    return result, stored


def _suppression(path: Path | None, key_file: Path | None) -> Suppression | None:
    from consentgate.pipeline.suppression import Suppression

    if path is None:
        return None
    if key_file is None:
        raise BadInput(
            "--suppression needs the list's key: --suppression-key-file FILE "
            "(or env CONSENTGATE_SUPPRESSION_KEY_FILE)"
        )
    try:
        key = key_file.read_bytes().strip()
    except OSError as exc:
        raise BadInput(f"{key_file}: cannot read the suppression key: {exc.strerror or exc}") from None
    return Suppression.load(path, key)


def _describe_snapshot(env: CliEnv, snap: Snapshot, out: Path) -> None:
    m = snap.meta
    allowed = sum(1 for a in snap.table.column("allowed").to_pylist() if a)
    how = (
        f"incremental ({m.recomputed_persons} {'person' if m.recomputed_persons == 1 else 'people'} "
        "re-decided)"
        if m.built == "incremental"
        else "full" + (f" ({m.rebuild_reason})" if m.rebuild_reason else "")
    )
    text = Text()
    text.append(f"{out}: ", style="bold")
    text.append(
        f"{m.rows} identifiers of {m.persons} people for {m.purpose} as of {m.at.isoformat()}, "
        f"{allowed} allowed; unknown identifiers {'allowed' if m.default_allowed else 'denied'} "
        f"({m.default_basis}); ledger head {m.head_seq} {m.head_hash[:12]}…; {how}"
    )
    env.out.print(text)


def _describe_run(env: CliEnv, m: Manifest) -> None:
    c = m.counts
    dropped = ", ".join(f"{n} {r}" for r, n in c.to_json()["dropped"].items() if n) or "none"
    text = Text()
    text.append(f"{m.output}: ", style="bold")
    text.append(f"kept {c.kept} of {c.input} records; dropped {c.dropped} ({dropped}) ")
    text.append(f"[{m.engine}, snapshot head {m.snapshot['head_seq']}, run {m.run_id}]", style="dim")
    env.out.print(text)


def register(app: typer.Typer) -> None:
    app.command("snapshot")(snapshot)
    app.command("filter")(filter_)

"""``runs`` and ``export``: which training runs and vendor exports used whose data, and the export gate.

Like ``snapshot`` and ``filter``, these need the ``pipeline`` extra, imported inside the commands.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from consentgate.cli._jsonl import BIG_FILE_BYTES, make_progress
from consentgate.cli._shared import CliEnv, env_of, parse_at
from consentgate.cli.pipeline import AtOpt, EngineName, NoSubjectChoice, PurposeOpt, _suppression
from consentgate.errors import Refused, UnknownSubject
from consentgate.service import ledger_knows, unknown_subject_message

if TYPE_CHECKING:
    from consentgate.pipeline.export import ExportResult
    from consentgate.pipeline.runs import RunRecord


class RunKindChoice(StrEnum):
    training = "training"
    export = "export"


def runs(
    ctx: typer.Context,
    subject: Annotated[
        str | None,
        typer.Option(
            metavar="SUBJECT",
            help="Only runs that used this person's data (any linked identifier counts), "
            "e.g. `--subject user-42`.",
            show_default=False,
        ),
    ] = None,
    kind: Annotated[
        RunKindChoice | None,
        typer.Option(
            help="Only training runs or only vendor exports, e.g. `--kind export`.", show_default=False
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print the runs with their manifests as JSON, e.g. for `jq '.runs[].model'`."
        ),
    ] = False,
) -> None:
    """List training runs and vendor exports, newest first: purpose, model or vendor, status, counts and
    the ledger heads their decisions came from.

    With --subject, only those that used that person's data: the subject and every identifier linked to
    it are looked up (runs store keyed hashes of the identifiers they used, never the identifiers).
    Exits 5 when neither the ledger nor any run knows the identifier.

    Example:

        consentgate runs --subject user-42 --json
    """
    from consentgate.pipeline.runs import RunStore
    from consentgate.store.checkpoints import CheckpointStore

    env = env_of(ctx)
    store = RunStore(env.ledger(must_exist=True).engine)
    kind_value = kind.value if kind is not None else None
    if subject is None:
        found = store.runs(kind=kind_value)
        if as_json:
            env.emit_json({"runs": [r.to_json() for r in found]})
        else:
            _print_runs(env, found, "runs and exports" if kind is None else f"{kind_value} runs")
        return
    ids, found = store.used_by(subject, kind=kind_value)
    if not found and not store.used(ids) and not ledger_knows(env.ledger(must_exist=True), subject):
        # "No run used it" would be true of any typo; say that the identifier itself is unknown.
        raise UnknownSubject(
            unknown_subject_message(subject, also=", and no run or export used data under it"),
            subject=subject,
        )
    # The checkpoints saved after the run first used the person: those that hold their data.
    checkpoints = CheckpointStore(store.engine).containing(store.hasher.many(ids)) if found else {}
    # A training run writes the identifiers it used every few seconds (FLUSH_SECONDS): one still
    # marked running (in progress, or killed) may have used this person without a record yet.
    unsure = [r.run_id for r in store.runs(kind="training") if r.status == "running"]
    if as_json:
        env.emit_json(
            {
                "subject": subject,
                "identifiers": len(ids),
                "runs": [r.to_json() for r in found],
                "checkpoints": {k: [c.to_json() for c in v] for k, v in checkpoints.items()},
                "runs_still_running": unsure,
            }
        )
        return
    if unsure:
        env.note(
            f"{len(unsure)} training run(s) still marked running (in progress, or killed): the identifiers "
            "they used in their last seconds may not be recorded yet, so they may be missing below"
        )
    if not found:
        env.note(f"no run or export used data of {subject} ({len(ids)} identifier(s) checked)")
        return
    _print_runs(env, found, f"runs and exports that used data of {subject}")
    for run_id, saved in checkpoints.items():
        env.note(
            f"checkpoints of run {run_id} that hold this person's data: {', '.join(c.name for c in saved)}"
        )


def export(
    ctx: typer.Context,
    vendor: Annotated[
        str,
        typer.Option(metavar="VENDOR", help="Vendor id from the policy, e.g. `--vendor example-llm-host`."),
    ],
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
            help="A Parquet file, a directory of them, or a glob, e.g. `--input chats/`.",
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            metavar="OUT",
            help="Where the records for the vendor go (one Parquet file; Spark: a directory), "
            "e.g. `--output to-vendor.parquet`.",
        ),
    ],
    engine: Annotated[
        EngineName, typer.Option(help="Engine that does the work, e.g. `--engine polars`.")
    ] = EngineName.duckdb,
    manifest: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE.json",
            help="Also write the export's manifest here, e.g. `--manifest export.json`.",
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
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print the export's manifest as JSON on stdout, e.g. for `jq .counts`."),
    ] = False,
) -> None:
    """Prepare data for a vendor: refuse vendors the policy does not allow, drop the records whose
    subject may not be used for the purpose (as `filter` does), and record the export.

    Refused (exit 1, naming the policy key to change): a vendor not under `vendors`, a purpose not in
    the vendor's `purposes`, and a vendor with `self_training: true` unless `self_training_approved:
    true` records the organisation's decision. The export is stored in the ledger database with the
    vendor, so `consentgate runs --subject S` lists the vendors that received S's data.

    Example:

        consentgate export --vendor example-llm-host --purpose train_support_chatbot \\
            --subject-column user_id --input chats/ --output to-vendor.parquet --manifest export.json
    """
    from consentgate.pipeline import Snapshot, build_snapshot, input_files
    from consentgate.pipeline.export import check_vendor, export_files

    env = env_of(ctx)
    policy = env.policy()
    try:
        check_vendor(policy, vendor, purpose)  # before reading anything
    except Refused as exc:
        raise Refused(f"{exc.message} (policy: {env.settings.policy})", purpose=purpose) from None
    src = None
    if source is not None:
        src = policy.require_source(source)
    ledger = env.ledger(must_exist=True)
    if snapshot_file is not None:
        if at is not None:
            raise typer.BadParameter("--at decides from the ledger; a --snapshot already has its time")
        snap = Snapshot.read(snapshot_file)
    else:
        snap = build_snapshot(policy, ledger, purpose, parse_at(at))
    sup = _suppression(suppression, suppression_key_file)
    _, files = input_files(input)
    big = sum(f.stat().st_size for f in files) >= BIG_FILE_BYTES
    with make_progress(env.err, enabled=big) as progress:
        task = progress.add_task(f"exporting with {engine.value}", total=None)

        def report(done: int, total: int | None) -> None:
            progress.update(task, completed=done, total=total)

        result = export_files(
            policy,
            ledger,
            vendor,
            purpose,
            input,
            output,
            subject_column=subject_column,
            engine=engine.value,
            snapshot=snap,
            flag_column=flag_column,
            no_subject=no_subject.value,
            source=src,
            suppression=sup,
            manifest_path=manifest,
            progress=report,
        )
    if as_json:
        env.emit_json(result.to_json())
    else:
        _describe_export(env, result)


# -- output ----------------------------------------------------------------------------------------


def _print_runs(env: CliEnv, found: list[RunRecord], title: str) -> None:
    if not found:
        env.note("no runs recorded yet")
        return
    table = Table(title=f"{title} ({len(found)})", title_justify="left")
    for column in (
        "started",
        "kind",
        "status",
        "purpose",
        "model / vendor",
        "records",
        "subjects",
        "ledger head",
        "run id",
    ):
        table.add_column(column, overflow="fold")
    for r in found:
        style = {"completed": "green", "running": "yellow"}.get(r.status, "red")
        heads = "" if r.head_seq_first is None else str(r.head_seq_first)
        if r.head_seq_last is not None and r.head_seq_last != r.head_seq_first:
            heads += f"→{r.head_seq_last}"
        table.add_row(
            r.started_at.isoformat(timespec="seconds"),
            r.kind,
            Text(r.status, style=style),
            r.purpose,
            (r.model if r.kind == "training" else r.vendor) or "",
            str(r.records),
            str(r.subjects),
            heads,
            r.run_id,
        )
    env.out.print(table)


def _describe_export(env: CliEnv, result: ExportResult) -> None:
    m = result.manifest
    c = m.counts
    dropped = ", ".join(f"{n} {r}" for r, n in c.to_json()["dropped"].items() if n) or "none"
    text = Text()
    text.append(f"{m.output}: ", style="bold")
    text.append(
        f"{c.kept} of {c.input} records ({result.subjects} subjects) for vendor {result.vendor.id}, "
        f"purpose {m.purpose}; dropped {c.dropped} ({dropped}) "
    )
    text.append(f"[{m.engine}, snapshot head {m.snapshot['head_seq']}, export {m.run_id}]", style="dim")
    env.out.print(text)


def register(app: typer.Typer) -> None:
    app.command("runs")(runs)
    app.command("export")(export)

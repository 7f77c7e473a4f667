"""``consentgate runs``: which training runs and vendor exports used whose data.

The run store needs the ``pipeline`` extra, imported inside the command.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from consentgate.cli._shared import CliEnv, env_of
from consentgate.errors import UnknownSubject
from consentgate.service import ledger_knows, unknown_subject_message

if TYPE_CHECKING:
    from consentgate.store.runs import RunRecord


class RunKindChoice(StrEnum):
    training = "training"
    filter = "filter"
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
            help="Only training runs, filter runs or vendor exports, e.g. `--kind export`.",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print the runs with their manifests as JSON, e.g. for `jq '.runs[].model'`."
        ),
    ] = False,
) -> None:
    """List training runs, filter runs and vendor exports, newest first: purpose, model, output or
    vendor, status, counts and the ledger heads their decisions came from.

    With --subject, only those that used that person's data: the subject and every identifier linked to
    it are looked up (runs store keyed hashes of the identifiers they used, never the identifiers).
    Exits 5 when neither the ledger nor any run knows the identifier.

    Example:

        consentgate runs --subject user-42 --json
    """
    from consentgate.store.checkpoints import CheckpointStore
    from consentgate.store.runs import RunStore

    env = env_of(ctx)
    store = RunStore(env.ledger(must_exist=True).engine)
    kind_value = kind.value if kind is not None else None
    if subject is None:
        found = store.runs(kind=kind_value)
        if as_json:
            env.emit_json({"runs": [r.to_json() for r in found]})
        else:
            _print_runs(env, found, "runs, filter runs and exports" if kind is None else f"{kind_value} runs")
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
        "model / output / vendor",
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
            _target(r),
            str(r.records),
            str(r.subjects),
            heads,
            r.run_id,
        )
    env.out.print(table)


def _target(r: RunRecord) -> str:
    if r.kind == "training":
        return r.model or ""
    if r.kind == "filter":
        return str(r.manifest.get("output") or "")
    return r.vendor or ""

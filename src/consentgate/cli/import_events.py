"""``import-events``: historical events from a JSON Lines file, all or nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from consentgate.cli._jsonl import format_problems, line_number, make_progress, read_jsonl
from consentgate.cli._shared import env_of
from consentgate.errors import EventError
from consentgate.ledger.intake import validate_batch


def import_events(
    ctx: typer.Context,
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE.jsonl",
            help="One event per line (`-` reads stdin), e.g. `exports/consents-2025.jsonl`.",
            show_default=False,
        ),
    ],
    source: Annotated[
        str,
        typer.Option(metavar="SOURCE", help="Source for lines that name none, e.g. `--source legacy_cmp`."),
    ] = "import",
    as_json: Annotated[
        bool,
        typer.Option("--json", help='Print {"imported", "lines", "head"} as JSON, e.g. for a pipeline log.'),
    ] = False,
) -> None:
    """Import historical events from a JSON Lines file, all or nothing.

    Each line is an object with `subject`, `action`, `purposes` (or `purpose`), `notice_id`,
    `notice_version`, `region`, `locale`, `source`, `occurred_at` (with a zone), `signals` and
    optionally `recorded_at`. Blank lines are skipped. Every problem is reported with its line number
    and nothing of a failing file is stored (exit code 1). Past and future timestamps are accepted:
    this is historical data.

    Example line:

        {"subject": "user-42", "action": "grant", "purpose": "marketing", "notice_version": 1,
         "region": "DE", "occurred_at": "2026-02-01T09:30:00+01:00"}

    (shown on two lines here; in the file each event is one line)

    Example:

        consentgate import-events exports/consents.jsonl
    """
    env = env_of(ctx)
    service = env.service(appends=True)
    parsed = read_jsonl(file, env.err, what="events")
    lines = len(parsed.rows) + len(parsed.problems)
    if parsed.problems:
        # Still validate the lines that parsed, so one run lists everything to fix.
        problems = list(parsed.problems)
        try:
            validate_batch(
                service.policy,
                ((f"line {n}", raw) for n, raw in parsed.rows),
                now=datetime.now(UTC),
                default_source=source,
                allow_future=True,
            )
        except EventError as exc:
            problems.extend(exc.problems)
        problems.sort(key=lambda p: line_number(p[0]))
        raise EventError(
            f"{file}: {len(problems)} problem(s); nothing was stored:\n{format_problems(problems)}",
            problems=problems,
        )
    with make_progress(env.err, enabled=parsed.big) as progress:
        task = progress.add_task("validating events", total=len(parsed.rows))

        def rows() -> Iterator[tuple[str, Any]]:
            for number, raw in parsed.rows:
                yield f"line {number}", raw
                progress.advance(task)
            # Validation is done; the single append transaction comes next and can take seconds.
            progress.update(task, description=f"storing {len(parsed.rows)} events in one transaction")

        try:
            stored = service.record(rows(), source=source, allow_future=True, strict=False)
        except EventError as exc:
            raise EventError(f"{file}: {exc.message}", problems=exc.problems) from None
    head_seq, head_hash = service.ledger.head()
    if as_json:
        env.emit_json({"imported": len(stored), "lines": lines, "head": {"seq": head_seq, "hash": head_hash}})
        return
    env.out.print(f"imported {len(stored)} events ({lines} lines)")
    env.note(f"ledger head: seq {head_seq}, {head_hash}")

"""Commands that add facts to the ledger: ``record``, ``import-events`` and ``link``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

import typer

from consentgate.cli._jsonl import format_problems, line_number, make_progress, read_jsonl
from consentgate.cli._shared import env_of, event_json
from consentgate.errors import EventError
from consentgate.ledger.events import Action
from consentgate.ledger.intake import purpose_twice, repeated, validate_batch

# -- record ----------------------------------------------------------------------------------------


def record(
    ctx: typer.Context,
    subject: Annotated[
        str,
        typer.Option(
            metavar="SUBJECT", help="The person's id, cookie id or account id, e.g. `--subject user-42`."
        ),
    ],
    action: Annotated[
        Action,
        typer.Option(
            help="What the person did, e.g. `--action grant`. grant/deny/withdraw/object/opt_out need "
            "`--purpose`; gpc applies to the whole person. erase is refused: file an erasure request "
            "(`consentgate requests file --kind erase`)."
        ),
    ],
    purposes: Annotated[
        list[str] | None,
        typer.Option(
            "--purpose",
            metavar="PURPOSE",
            help="Purpose id from the policy; repeat for several, "
            "e.g. `--purpose train_support_chatbot --purpose finetune_recommender`.",
            show_default=False,
        ),
    ] = None,
    notice_version: Annotated[
        str | None,
        typer.Option(
            metavar="VERSION",
            help="Version of the notice the person saw, e.g. `--notice-version 2`; a grant needs it "
            "(as the API does): consent counts only for wording the person was shown.",
            show_default=False,
        ),
    ] = None,
    notice_id: Annotated[
        str | None,
        typer.Option(
            metavar="NOTICE",
            help="Notice the choice was made under; defaults to the purpose's notice, "
            "e.g. `--notice-id ai-training`.",
            show_default=False,
        ),
    ] = None,
    region: Annotated[
        str | None,
        typer.Option(
            metavar="REGION",
            help="Where the person is: ISO 3166 code, e.g. `--region DE` or `--region US-CA`.",
            show_default=False,
        ),
    ] = None,
    locale: Annotated[
        str | None,
        typer.Option(
            metavar="LOCALE",
            help="Language the notice was shown in (selects the wording kept as evidence), "
            "e.g. `--locale de`; without it the evidence says the language was not recorded.",
            show_default=False,
        ),
    ] = None,
    occurred_at: Annotated[
        str | None,
        typer.Option(
            metavar="ISO_TIME",
            help="When the person acted, ISO 8601 with a zone (default now), "
            "e.g. `--occurred-at 2026-05-01T12:00:00+02:00`.",
            show_default=False,
        ),
    ] = None,
    source: Annotated[
        str,
        typer.Option(
            metavar="SOURCE",
            help="System the choice came through, e.g. `--source form` or `--source support_desk`.",
        ),
    ] = "cli",
    gpc: Annotated[
        bool | None,
        typer.Option(
            "--gpc/--no-gpc",
            help="Whether the request carried Global Privacy Control (stored in signals.gpc), "
            "e.g. `--action gpc --no-gpc` records that GPC was off.",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"event_ids": […], "events": […]} as JSON, e.g. for `jq`.')
    ] = False,
) -> None:
    """Record one choice a person made; prints the stored event ids (one per purpose).

    Validated exactly like `POST /v1/consents`: the same events are accepted and refused, with the
    same messages. The wording of the notice version is kept with the events as evidence.

    Example:

        consentgate record --subject user-42 --action grant --purpose train_support_chatbot \
          --notice-version 1 --region DE --locale en

        consentgate record --subject user-42 --action withdraw --purpose train_support_chatbot
    """
    env = env_of(ctx)
    service = env.service(appends=True)
    when = occurred_at if occurred_at is not None else datetime.now(UTC).isoformat()
    raw: dict[str, Any] = {
        "subject": subject,
        "action": action.value,
        "occurred_at": when,
        "region": region,
        "locale": locale,
        "source": source,
        "notice_id": notice_id,
        "notice_version": notice_version,
    }
    if gpc is not None:
        raw["signals"] = {"gpc": gpc}
    # One raw event per purpose, as the API plans its choices: each purpose's notice is then inferred
    # on its own, so the two accept and refuse the same events.
    if twice := repeated(purposes or ()):
        problems = [("--purpose", purpose_twice(twice))]
        raise EventError(f"1 problem; nothing was stored:\n{format_problems(problems)}", problems=problems)
    raws = [{**raw, "purposes": [p]} for p in purposes] if purposes else [{**raw, "purposes": []}]
    try:
        stored = service.record([("", r) for r in raws], source=source, strict=True)
    except EventError as exc:
        raise _in_flag_terms(exc) from None
    if as_json:
        env.emit_json({"event_ids": [e.event_id for e in stored], "events": [event_json(e) for e in stored]})
        return
    for e in stored:
        env.out.print(e.event_id)
    what = ", ".join(f"{e.action.value} {e.purpose}" if e.purpose else e.action.value for e in stored)
    env.note(f"recorded {len(stored)} event(s) for {subject}: {what}")


# Intake names event fields; on the command line the person typed options.
_FLAG_OF = {
    "subject": "--subject",
    "action": "--action",
    "purposes": "--purpose",
    "occurred_at": "--occurred-at",
    "region": "--region",
    "locale": "--locale",
    "source": "--source",
    "notice_id": "--notice-id",
    "notice_version": "--notice-version",
    "signals.gpc": "--gpc",
}


def _in_flag_terms(exc: EventError) -> EventError:
    # dict.fromkeys: each purpose is its own event, and a shared option's problem comes once per purpose.
    problems = list(dict.fromkeys((_FLAG_OF.get(where, where), msg) for where, msg in exc.problems))
    return EventError(
        f"{len(problems)} problem(s); nothing was stored:\n{format_problems(problems)}", problems=problems
    )


# -- import-events ---------------------------------------------------------------------------------


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


# -- link ------------------------------------------------------------------------------------------


class AliasKind(StrEnum):
    """``consentgate.auth.identity.ALIAS_KINDS`` as choices for ``--kind`` (a test keeps the two equal)."""

    COOKIE_ID = "cookie_id"
    DEVICE_ID = "device_id"
    EMAIL_HASH = "email_hash"
    ACCOUNT_ID = "account_id"
    VISITOR_ID = "visitor_id"
    OTHER = "other"


def link(
    ctx: typer.Context,
    alias: Annotated[
        str,
        typer.Option(
            metavar="ALIAS", help="Another identifier of the same person, e.g. `--alias cookie-9f2c1a`."
        ),
    ],
    subject: Annotated[
        str, typer.Option(metavar="SUBJECT", help="The identifier it belongs to, e.g. `--subject user-42`.")
    ],
    kind: Annotated[
        AliasKind,
        typer.Option(help="What the alias is, e.g. `--kind cookie_id` when a banner visitor logs in."),
    ] = AliasKind.OTHER,
) -> None:
    """Record that two identifiers are one person, so choices made under either count for both.

    Example:

        consentgate link --alias cookie-9f2c1a --subject user-42 --kind cookie_id
    """
    env = env_of(ctx)
    created = env.service(appends=True).link(alias, subject, kind.value)
    if created:
        env.out.print(f"linked {alias} ({kind.value}) to {subject}")
    else:
        env.out.print(f"{alias} was already linked to {subject}")

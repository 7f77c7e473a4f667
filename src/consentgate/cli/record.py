"""``record``: one choice a person made, as ledger events (one per purpose)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from consentgate.cli._jsonl import format_problems
from consentgate.cli._shared import env_of, event_json
from consentgate.errors import EventError
from consentgate.ledger.events import Action
from consentgate.ledger.intake import purpose_twice, repeated


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

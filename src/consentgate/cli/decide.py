"""``decide``: may this person's data be used for this purpose, at this time, here?"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from consentgate.cli._shared import CliEnv, env_of, parse_at
from consentgate.decide import Decision, Query
from consentgate.deciding import decide_all
from consentgate.errors import QueryError
from consentgate.ledger.intake import parse_time
from consentgate.store.sqlite_reads import SqliteReads

if TYPE_CHECKING:
    from rich.text import Text

    from consentgate.policy import Policy
    from consentgate.service import ConsentService

EXIT_DENIED = 3
# decide_many reads every subject's events of a chunk at once; 10,000 queries keep that read and
# the per-person timelines comfortably in memory while amortising the database round trips.
BATCH_CHUNK = 10_000


def decide(
    ctx: typer.Context,
    subject: Annotated[
        str | None,
        typer.Option(
            metavar="SUBJECT", help="The person to ask about, e.g. `--subject user-42`.", show_default=False
        ),
    ] = None,
    purpose: Annotated[
        str | None,
        typer.Option(
            metavar="PURPOSE",
            help="Purpose id from the policy, e.g. `--purpose train_support_chatbot`.",
            show_default=False,
        ),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(
            metavar="ISO_TIME",
            help="Point in time to decide for, ISO 8601 with a zone (default now), "
            "e.g. `--at 2026-07-01T00:00:00Z`.",
            show_default=False,
        ),
    ] = None,
    region: Annotated[
        str | None,
        typer.Option(
            metavar="REGION",
            help="Where the data is used/the person is (default: the region of their latest event), "
            "e.g. `--region US-CA`.",
            show_default=False,
        ),
    ] = None,
    batch: Annotated[
        str | None,
        typer.Option(
            metavar="QUERIES.jsonl",
            help='Decide many: one {"subject", "purpose", "at", "region"} per line (`-` = stdin), '
            "answers in the same order, e.g. `--batch queries.jsonl --json`.",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help='Print {"allowed", "basis", "region", "reason", "evidence_event", …} (one per line with '
            "--batch), e.g. for `jq .allowed`.",
        ),
    ] = False,
    exit_code: Annotated[
        bool,
        typer.Option(
            "--exit-code",
            help="Exit 0 when allowed, 3 when denied (with --batch: 3 if any is denied), "
            "e.g. `consentgate decide … --exit-code && train.sh`.",
        ),
    ] = False,
) -> None:
    """Decide whether a person's data may be used for a purpose; the answer names its evidence.

    Exits 0 whether allowed or not (a denial is an answer, not a failure) unless `--exit-code`.

    Example:

        consentgate decide --subject user-42 --purpose train_support_chatbot --json

        consentgate decide --batch queries.jsonl --json > decisions.jsonl
    """
    env = env_of(ctx)
    if batch is not None:
        if subject is not None or purpose is not None:
            raise typer.BadParameter(
                "give either --batch or --subject/--purpose, not both", param_hint="--batch"
            )
        denied = _decide_batch(env, batch, at, region, as_json)
    else:
        if subject is None or purpose is None:
            raise typer.BadParameter(
                "--subject and --purpose are required (or --batch FILE)",
                param_hint="--subject/--purpose",
            )
        if region is not None:
            _region_option(env.policy(), region)
        when = parse_at(at)
        decision = decide_one(env, Query(subject, purpose, when, region))
        if as_json:
            env.emit_json(decision_json(decision, subject, purpose, when))
        else:
            env.out.print(readable(decision, subject, purpose))
        denied = not decision.allowed
    if exit_code and denied:
        raise typer.Exit(EXIT_DENIED)


def decide_one(env: CliEnv, query: Query) -> Decision:
    """One decision, read with ``sqlite3`` alone where the ledger is a current SQLite file.

    The question is asked in a fresh process: importing SQLAlchemy and the service took most of its
    time (docs/benchmarks.md, "CLI start-up"). The answer comes from the same code either way
    (``deciding.decide_all``); only the reads differ. A database it cannot be sure of (PostgreSQL, a
    missing file, a schema to migrate) goes through the service, which also says what is wrong. The
    ledger key is not loaded: a decision signs nothing.
    """
    policy = env.policy()  # a broken policy is reported before the database is touched
    reads = SqliteReads.open(env.settings.db)
    if reads is None:
        return env.service(must_exist=True).decide(query.subject, query.purpose, query.at, query.region)
    try:
        [(decision, _)] = decide_all(policy, reads, reads.erasure_key(), [query], holding=False)
    finally:
        reads.close()
    return decision


def decision_json(d: Decision, subject: str, purpose: str, at: datetime) -> dict[str, Any]:
    """The contract's five keys first, then what the question was."""
    return {**d.to_json(), "subject": subject, "purpose": purpose, "at": at.isoformat()}


def readable(d: Decision, subject: str, purpose: str) -> Text:
    from rich.text import Text

    text = Text()
    text.append("allowed" if d.allowed else "denied", style="bold green" if d.allowed else "bold red")
    text.append(f": {purpose} for {subject} — {d.reason} (basis {d.basis or 'none'}, region {d.region})")
    if d.evidence_event:
        text.append(f" [evidence {d.evidence_event}]", style="dim")
    return text


def parse_queries(
    policy: Policy, rows: list[tuple[int, Any]], default_at: datetime, default_region: str | None
) -> tuple[list[Query], list[Any], list[tuple[str, str]]]:
    """Validate every query line before any is answered, so output lines match input lines.

    Returns the queries, each line's optional caller ``id`` (echoed back so answers can be joined
    without counting lines), and the problems.
    """
    queries: list[Query] = []
    ids: list[Any] = []
    problems: list[tuple[str, str]] = []
    for number, raw in rows:
        where = f"line {number}"
        if not isinstance(raw, dict):
            problems.append((where, 'must be a JSON object such as {"subject": "user-42", "purpose": "…"}'))
            continue
        before = len(problems)
        subject = raw.get("subject")
        if not isinstance(subject, str) or not subject.strip():
            problems.append((f"{where}: subject", "is required: the person's id"))
        purpose = raw.get("purpose")
        if not isinstance(purpose, str) or not purpose:
            problems.append((f"{where}: purpose", "is required: a purpose id from the policy"))
        else:
            try:
                policy.require_purpose(purpose)
            except QueryError as exc:
                problems.append((f"{where}: purpose", exc.message))
        at = default_at
        if raw.get("at") is not None:
            try:
                at = parse_time(raw["at"], "at")
            except ValueError as exc:
                problems.append((f"{where}: at", str(exc)))
        region = raw.get("region", default_region)
        if region is not None:
            try:
                policy.query_region(region)
            except QueryError as exc:
                problems.append((f"{where}: region", exc.message))
        unknown = sorted(set(raw) - {"subject", "purpose", "at", "region", "id"})
        if unknown:
            problems.append(
                (where, f"unknown field(s) {', '.join(unknown)}; a query has subject, purpose, at, region")
            )
        if len(problems) == before:
            queries.append(Query(str(subject), str(purpose), at, region))
            ids.append(raw.get("id"))
    return queries, ids, problems


def _region_option(policy: Policy, region: str) -> None:
    try:
        policy.query_region(region)
    except QueryError as exc:
        raise QueryError(f"--region {exc.message}") from None


def _decide_batch(env: CliEnv, path: str, at: str | None, region: str | None, as_json: bool) -> bool:
    from consentgate.cli._jsonl import format_problems, line_number, read_jsonl

    service = env.service(must_exist=True)
    if region is not None:
        _region_option(service.policy, region)
    parsed = read_jsonl(path, env.err, what="queries")
    queries, ids, problems = parse_queries(service.policy, parsed.rows, parse_at(at), region)
    problems = sorted(parsed.problems + problems, key=lambda p: line_number(p[0]))
    if problems:
        raise QueryError(
            f"{path}: {len(problems)} problem(s); nothing was decided:\n{format_problems(problems)}"
        )
    decisions = _decide_grouped(env, service, queries, show_progress=parsed.big)
    if as_json:
        out = sys.stdout
        for start in range(0, len(queries), BATCH_CHUNK):
            lines = []
            for i in range(start, min(start + BATCH_CHUNK, len(queries))):
                q, d = queries[i], decisions[i]
                body = decision_json(d, q.subject, q.purpose, q.at)
                if ids[i] is not None:
                    body["id"] = ids[i]
                lines.append(json.dumps(body, ensure_ascii=False) + "\n")
            out.write("".join(lines))
    else:
        for q, d in zip(queries, decisions, strict=True):
            env.out.print(readable(d, q.subject, q.purpose))
    return not all(d.allowed for d in decisions)


def _decide_grouped(
    env: CliEnv, service: ConsentService, queries: list[Query], *, show_progress: bool
) -> list[Decision]:
    """Answer in chunks of queries sorted by subject, then restore the input order.

    ``decide_many`` reads every event of each chunk's subjects; when one subject's queries are spread
    over the file, unsorted chunks would read that person's events once per chunk (3x the reads on
    a measured 100,000-query batch over 25,000 subjects). Sorting keeps each person in one chunk.
    """
    from consentgate.cli._jsonl import make_progress

    order = sorted(range(len(queries)), key=lambda i: queries[i].subject)
    answers: list[Decision | None] = [None] * len(queries)
    with make_progress(env.err, enabled=show_progress) as progress:
        task = progress.add_task("deciding", total=len(queries))
        for start in range(0, len(order), BATCH_CHUNK):
            part = order[start : start + BATCH_CHUNK]
            for i, d in zip(part, service.decide_many([queries[i] for i in part]), strict=True):
                answers[i] = d
            progress.advance(task, len(part))
    done = [d for d in answers if d is not None]
    assert len(done) == len(queries), "every query is answered exactly once"
    return done

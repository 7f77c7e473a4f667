"""From what a ledger holds to decisions: who a person is, which events are theirs, what ``decide``
says — the one path both the consent service and the CLI's SQLite read path take.

``decide.py`` is the rule and does no I/O; this module feeds it. It reads through
:class:`DecisionReads`, which ``service.ConsentService`` answers with the stores (SQLAlchemy, both
databases) and ``store/sqlite_reads.py`` with the standard ``sqlite3`` module (so that
``consentgate decide`` need not import SQLAlchemy). The reads differ; what is done with them is
written once, here, so the two cannot decide differently.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Protocol

from consentgate.decide import Decision, Query, Timeline, at_micros, decide_timeline, holds_until
from consentgate.ledger.events import ConsentEvent
from consentgate.ledger.pseudonyms import ErasureKey
from consentgate.policy.models import Policy

# A bulk decider's answer: decisions by query position (with the instant each holds until), and the
# positions it left to the per-person path.
BulkDecided = tuple[dict[int, tuple[Decision, int]], Sequence[int]]
BulkDecider = Callable[[Sequence[Query], Sequence[int], dict[str, set[str]]], BulkDecided]


class DecisionReads(Protocol):
    """The three reads a decision needs."""

    def people(self, subjects: Collection[str]) -> dict[str, set[str]]:
        """Each identifier → every identifier linked to it, itself included."""
        ...

    def suppressed(self, key: ErasureKey, identifiers: Collection[str]) -> set[str]:
        """The identifiers whose keyed hash is on the suppression list."""
        ...

    def events_of(self, identifiers: Collection[str]) -> list[ConsentEvent]:
        """Every event recorded under any of these identifiers, in recording order."""
        ...


def resolve_people(
    reads: DecisionReads, key: ErasureKey | None, subjects: Collection[str]
) -> dict[str, set[str]]:
    """Each identifier → every identifier of its person, including what an erasure left of them.

    An erased person's ids live on only as pseudonyms (:mod:`consentgate.ledger.erasure`); an
    identifier on the suppression list therefore also resolves to its pseudonym's group, so the
    erase event keeps denying every purpose — whatever is recorded under the raw id later. ``key``:
    the erasure key, None while no erasure has ever made one.
    """
    persons = reads.people(subjects)
    hit = reads.suppressed(key, subjects) if key is not None else set()
    if key is not None and hit:
        pseudo = reads.people({key.pseudonym(i) for i in hit})
        for i in hit:
            persons[i] = persons.get(i, {i}) | pseudo[key.pseudonym(i)]
    return persons


def decide_all(
    policy: Policy,
    reads: DecisionReads,
    key: ErasureKey | None,
    queries: Sequence[Query],
    *,
    holding: bool,
    bulk: tuple[BulkDecider, int] | None = None,
) -> list[tuple[Decision, int]]:
    """Every query's decision, with one person resolution and one event read for all of them.

    Each decision comes with the last instant (UTC microseconds) it holds unless something is
    recorded (:func:`consentgate.decide.holds_until`) when ``holding``, else with the query's instant.
    ``bulk``: a decider for many queries at once (``pipeline/bulkquery.py``, on Arrow columns) and the
    batch size from which it pays; it answers what it can, the rest is decided here, one person at
    a time. Both answer exactly what ``decide`` does (tests/pipeline/test_bulkquery.py).
    """
    # Each distinct purpose and region once: a batch names a few of them among thousands of queries.
    for purpose in dict.fromkeys(q.purpose for q in queries):
        policy.require_purpose(purpose)
    for region in dict.fromkeys(q.region for q in queries):
        if region is not None:
            policy.query_region(region)  # the one region rule (a dotless "it" must not pass as IT)
    cache: dict[datetime, int] = {}
    at_us = [at_micros(q.at, cache) for q in queries]
    persons = resolve_people(reads, key, {q.subject for q in queries})
    out: list[tuple[Decision, int] | None] = [None] * len(queries)
    rest: Sequence[int] = range(len(queries))
    if bulk is not None and len(queries) >= bulk[1]:
        answers, rest = bulk[0](queries, at_us, persons)
        for i, answer in answers.items():
            out[i] = answer if holding else (answer[0], at_us[i])
    if rest:
        ids = set().union(*(persons.get(queries[i].subject, {queries[i].subject}) for i in rest))
        by_id: dict[str, list[ConsentEvent]] = {}
        for ev in reads.events_of(ids):
            by_id.setdefault(ev.subject, []).append(ev)
        timelines: dict[frozenset[str], Timeline] = {}
        for i in rest:
            q = queries[i]
            person = frozenset(persons.get(q.subject, {q.subject}))
            tl = timelines.get(person)
            if tl is None:
                tl = timelines[person] = Timeline(ev for x in person for ev in by_id.get(x, ()))
            decision = decide_timeline(policy, tl, q.purpose, q.at, q.region, at_us=at_us[i])
            out[i] = (decision, holds_until(policy, tl, q.purpose, at_us[i]) if holding else at_us[i])
    return [d for d in out if d is not None]

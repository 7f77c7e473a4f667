"""Many decision queries about people nobody asked about yet, decided on Arrow columns at once.

``POST /v1/decisions/batch`` and ``decide --batch`` ask about up to thousands of people. One at a
time through the pure function (an event object per row, a timeline and a decision per person), a
batch of 1,000 never-asked people cost about 23 ms in-process before HTTP's share; issue 20 asks
for 50,000 decisions/s through HTTP. Here the queries that share a purpose and an instant are
decided together by :func:`consentgate.pipeline.bulk.decide_all`, the engine of the full snapshot
build, over the events of just their people, read in one statement
(:func:`consentgate.store.snapshots.event_columns_of`).

The pure function stays the definition (tests/pipeline/test_bulkquery.py holds this to ``decide`` on
random ledgers, both databases); what ``decide_all`` leaves to it, and what it does not model, goes
to the caller's per-person path (:attr:`Decided.rest`): a query with its own region (rule 1 takes the
query's region first; ``decide_all`` knows only the latest event's), a person under an erasure
(their events are filed under a pseudonym, which ``decide_all`` skips as a snapshot must), and the
rare shapes ``decide_all`` returns as fallback.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from consentgate.decide import _FOREVER, Decision, Query, Timeline, decide_timeline
from consentgate.ledger.pseudonyms import PREFIX as ERASED_PREFIX
from consentgate.pipeline.bulk import decide_all, next_reconsent_us
from consentgate.policy.models import Policy
from consentgate.store.engine import Connection, Engine
from consentgate.store.snapshots import event_columns_of

# Fewer queries than this for one (purpose, instant) go to the per-person path: Arrow's fixed cost
# per call (some 60 kernels, five hash aggregations) outweighs a few hundred people's decisions in
# Python. Measured by benchmarks/batch_decisions.py: per-person ahead at 256, bulk at 1,000.
MIN_GROUP = 500


@dataclass(frozen=True, slots=True)
class Decided:
    """Per query index: the decision and the last instant (UTC µs) it holds without a new write;
    ``rest``: the indices left to the per-person path."""

    answers: dict[int, tuple[Decision, int]]
    rest: list[int]


def decide_queries(
    engine: Engine | Connection,
    policy: Policy,
    queries: Sequence[Query],
    at_us: Sequence[int],
    persons: Mapping[str, set[str]],
) -> Decided:
    """Decide the queries that can be decided in bulk. ``at_us[i]`` is query i's instant, checked by
    the caller; ``persons`` maps each subject to every identifier of its person (the caller's alias
    and erasure resolution, :meth:`consentgate.service.ConsentService.people`). ``engine``: or
    the caller's connection, to read the events over it."""
    groups: dict[tuple[str, int], list[int]] = {}
    rest: list[int] = []
    # A group always holds its subject: a group of one holds a pseudonym only if the subject is one
    # (checked below), so only larger groups are searched (a batch of unlinked people skips them all).
    erased = {
        s for s, ids in persons.items() if len(ids) > 1 and any(x.startswith(ERASED_PREFIX) for x in ids)
    }
    for i, q in enumerate(queries):
        if q.region is not None or q.subject in erased or q.subject.startswith(ERASED_PREFIX):
            rest.append(i)
        else:
            groups.setdefault((q.purpose, at_us[i]), []).append(i)
    answers: dict[int, tuple[Decision, int]] = {}
    for (purpose, when), members in groups.items():
        if len(members) < MIN_GROUP:
            rest.extend(members)
            continue
        rest.extend(_decide_group(engine, policy, purpose, when, queries, members, persons, answers))
    return Decided(answers, sorted(rest))


def _decide_group(
    engine: Engine | Connection,
    policy: Policy,
    purpose_id: str,
    at_us: int,
    queries: Sequence[Query],
    members: Sequence[int],
    persons: Mapping[str, set[str]],
    out: dict[int, tuple[Decision, int]],
) -> list[int]:
    """Fill ``out`` for the queries at ``members`` (positions in ``queries``), which share this
    purpose and instant; return the positions left to the per-person path."""
    purpose = policy.require_purpose(purpose_id)
    groups = {q.subject: persons.get(q.subject, {q.subject}) for q in map(queries.__getitem__, members)}
    ids = set().union(*groups.values())
    canonical = {i: min(g) for g in groups.values() if len(g) > 1 for i in g}
    reconsent = next_reconsent_us(policy, purpose, at_us)
    done = decide_all(event_columns_of(engine, purpose_id, ids), canonical, policy, purpose, at_us, reconsent)
    cols = {
        name: done.table.column(name).to_pylist()
        for name in ("key", "allowed", "basis", "region", "reason", "evidence_event", "valid_until")
    }
    # A few distinct reasons among thousands of rows: one ``why`` tuple each, shared.
    whys: dict[str, tuple[str, str]] = {r: ("{}", r) for r in set(cols["reason"])}
    # ``Decision._make`` over zipped columns: calling the named tuple with its fields cost 1.36 ms
    # per 1,000 decisions against 0.40 ms (its generated ``__new__`` takes keywords and defaults).
    decisions = map(
        Decision._make,
        zip(
            cols["allowed"],
            cols["basis"],
            cols["region"],
            [whys[r] for r in cols["reason"]],
            cols["evidence_event"],
            strict=True,
        ),
    )
    # decide_all's first instant to decide again (None: never) → the last instant that holds.
    holds = [_FOREVER if until is None else until - 1 for until in cols["valid_until"]]
    by_key = dict(zip(cols["key"], zip(decisions, holds, strict=True), strict=True))
    fallback = {i for keys in done.fallback.values() for i in keys}
    nobody: tuple[Decision, int] | None = None  # no events, no links: the "*" basis decides, forever
    left: list[int] = []
    for i in members:
        q = queries[i]
        if q.subject in fallback:
            left.append(i)
            continue
        found = by_key.get(q.subject)
        if found is None:
            if nobody is None:
                nobody = (
                    decide_timeline(policy, Timeline(()), purpose_id, q.at, None, at_us=at_us),
                    _FOREVER,
                )
            found = nobody
        out[i] = found
    return left

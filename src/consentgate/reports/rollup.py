"""The consent-rate rollup: every person's states kept as spans of time, summed per UTC day, brought up
to date from the ledger's heads before each report.

Why spans: a person's decision for a purpose changes only at their events, when a notice version
takes effect and when a grant expires (:func:`~consentgate.decide.holds_until`), so their whole
history is a few spans, computed once with the pure decision function. A report at T then needs no
decision at all: the counts at T are the spans started by T minus those ended by T, which is the
per-day sums of every day before T's (``report_days``, a few rows per day) plus the spans starting or
ending in T's own day up to T (an indexed range of ``report_spans``).

Keeping it current: the rollup records the event and record chain heads it has read. A refresh reads
what came after them — new events (late ones included: a late event re-decides its person over all
time), new alias links (both people are merged and decided again) and erasures (an erase event:
the person leaves every report) — and replaces the spans of exactly the people concerned, adjusting
the day sums by the difference. A changed policy (its fingerprint) rebuilds everything.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import datetime

from consentgate.decide import Timeline
from consentgate.ledger.events import ConsentEvent
from consentgate.policy import Policy, to_micros
from consentgate.reports.persons import People, Tally, batches, erased, spans
from consentgate.store import aliases as alias_store
from consentgate.store import rates as store
from consentgate.store.engine import Engine
from consentgate.store.heads import head_marks

DAY_US = 86_400 * 1_000_000
BATCH_IDENTIFIERS = 2_000


def refresh(engine: Engine, policy: Policy) -> store.RollupState:
    """Bring the rollup up to the ledger's current heads; returns the heads it now reflects."""
    fingerprint = policy_fingerprint(policy)
    events_head, records_head = head_marks(engine)
    state = store.read_state(engine)
    if state is not None and state.policy_fingerprint == fingerprint:
        if state.events_seq >= events_head and state.records_seq >= records_head:
            return state
        changed = store.changed_identifiers(engine, state.events_seq, events_head, state.records_seq)
        groups = _components(alias_store.people(engine, changed))
    else:
        with store.locked(engine) as conn:
            store.reset(conn, fingerprint)
        people = People(store.alias_links(engine))
        groups = list(people.group(store.identifiers(engine)).values())
    for batch in batches(groups, BATCH_IDENTIFIERS):
        _redo(engine, policy, batch)
    with store.locked(engine) as conn:
        store.advance(conn, events_head, records_head)
    return store.RollupState(events_head, records_head, fingerprint)


def _components(by_identifier: dict[str, set[str]]) -> list[set[str]]:
    """Each connected component once (``people`` maps every member to the same set)."""
    seen: set[int] = set()
    out = []
    for comp in by_identifier.values():
        if id(comp) not in seen:
            seen.add(id(comp))
            out.append(comp)
    return out


def _redo(engine: Engine, policy: Policy, people: Sequence[set[str]]) -> None:
    """Decide these people again from all their events and replace their spans, under the lock.

    The events are read after the lock is taken, so two refreshes cannot store an older reading over
    a newer one. A person is named by the smallest seq among their events; the names their parts
    had before a link merged them are seqs among those events too, so deleting by every seq of the
    person removes every old span of theirs."""
    with store.locked(engine) as conn:
        owner = {i: n for n, ids in enumerate(people) for i in ids}
        events_by: dict[int, list[ConsentEvent]] = {}
        for e in store.events_of(engine, owner.keys()):
            events_by.setdefault(owner[e.subject], []).append(e)
        seqs: set[int] = set()
        new: list[store.SpanRow] = []
        for evs in events_by.values():
            seqs.update(e.seq for e in evs)
            if erased(evs):
                continue
            person = min(e.seq for e in evs)
            for s in spans(policy, Timeline(evs), evs):
                st = s.state
                new.append(
                    store.SpanRow(
                        person,
                        s.purpose,
                        s.start_us,
                        s.end_us,
                        st.region,
                        st.notice_version,
                        st.source,
                        st.allowed,
                    )
                )
        old = store.spans_of(conn, seqs)
        deltas: dict[tuple[int, store.GroupKey], list[int]] = {}
        _count(deltas, old, -1)
        _count(deltas, new, 1)
        store.replace_spans(conn, seqs, new)
        store.add_days(conn, deltas)


def _count(
    deltas: dict[tuple[int, store.GroupKey], list[int]], rows: Iterable[store.SpanRow], sign: int
) -> None:
    for r in rows:
        allowed = sign if r.allowed else 0
        acc = deltas.setdefault((r.start_us // DAY_US, r.key), [0, 0])
        acc[0] += sign
        acc[1] += allowed
        if r.end_us is not None:
            acc = deltas.setdefault((r.end_us // DAY_US, r.key), [0, 0])
            acc[0] -= sign
            acc[1] -= allowed


def tally(engine: Engine, policy: Policy, instants: Sequence[datetime]) -> Tally:
    """Per instant, per (purpose, region, notice_version, source): [subjects, allowed]."""
    refresh(engine, policy)
    at_us = [to_micros(t) for t in instants]
    days = [us // DAY_US for us in at_us]
    if len(instants) == 1:
        bases = [store.totals_before(engine, days[0])]
    else:
        bases = _cumulative(store.days_before(engine, max(days)), days)
    out: Tally = []
    for base, us, day in zip(bases, at_us, days, strict=True):
        if us > day * DAY_US:  # not a day's first instant: add what happened in the day up to T
            for key, (ds, da) in store.edges_between(engine, day * DAY_US, us).items():
                acc = base.setdefault(key, [0, 0])
                acc[0] += ds
                acc[1] += da
        out.append(base)
    return out


def _cumulative(
    rows: Iterable[tuple[int, store.GroupKey, int, int]], days: Sequence[int]
) -> list[dict[store.GroupKey, list[int]]]:
    """For each of ``days``, the sums of every row before it (rows in day order)."""
    order = sorted(range(len(days)), key=days.__getitem__)
    out: list[dict[store.GroupKey, list[int]]] = [{} for _ in days]
    running: dict[store.GroupKey, list[int]] = {}
    it = iter(rows)
    pending = next(it, None)
    for i in order:
        while pending is not None and pending[0] < days[i]:
            acc = running.setdefault(pending[1], [0, 0])
            acc[0] += pending[2]
            acc[1] += pending[3]
            pending = next(it, None)
        out[i] = {k: list(v) for k, v in running.items()}
    return out


def policy_fingerprint(policy: Policy) -> str:
    """sha256 over the policy's canonical JSON: any change to it may change any decision."""
    body = json.dumps(policy.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()

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
from datetime import date, datetime, timedelta

from consentgate.decide import Timeline
from consentgate.errors import TransientStorageError
from consentgate.ledger.events import ConsentEvent
from consentgate.policy import Policy, to_micros
from consentgate.reports.persons import People, Tally, batches, erased, spans
from consentgate.store import aliases as alias_store
from consentgate.store import rates as store
from consentgate.store.engine import Engine
from consentgate.store.errors import storage
from consentgate.store.heads import head_marks
from consentgate.store.rates import GROUPINGS

DAY_US = 86_400 * 1_000_000
_EPOCH = date(1970, 1, 1)
BATCH_IDENTIFIERS = 2_000
# Up to this many changed identifiers, their people are found by following their links in the
# database; beyond it, every link is read once and grouped in memory.
FOLLOW_LINKS_UP_TO = 20_000


def refresh(engine: Engine, policy: Policy) -> store.RollupState:
    """Bring the rollup up to the ledger's current heads; returns the heads it now reflects."""
    with storage("bring the consent-rate rollup up to date"):
        return _refresh(engine, policy)


def _refresh(engine: Engine, policy: Policy) -> store.RollupState:
    fingerprint = policy_fingerprint(policy)
    events_head, records_head = head_marks(engine)
    state = store.read_state(engine)
    if state is not None and state.policy_fingerprint == fingerprint:
        if state.events_seq >= events_head and state.records_seq >= records_head:
            return state
        changed = store.changed_identifiers(engine, state.events_seq, events_head, state.records_seq)
        if len(changed) <= FOLLOW_LINKS_UP_TO:
            groups = _components(alias_store.people(engine, changed))
        else:  # a bulk import: reading every link once beats following them a few hundred at a time
            groups = list(People(store.alias_links(engine)).group(changed).values())
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


def needs_rebuild(engine: Engine, policy: Policy) -> bool:
    """Whether the next report decides the whole ledger again (no rollup yet, or another policy)."""
    state = store.read_state(engine)
    return state is None or state.policy_fingerprint != policy_fingerprint(policy)


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
        days: store.Deltas = {}
        _count(days, old, -1)
        _count(days, new, 1)
        months: store.Deltas = {}
        for (day, key), (ds, da) in days.items():
            acc = months.setdefault((month_of(day), key), [0, 0])
            acc[0] += ds
            acc[1] += da
        store.replace_spans(conn, seqs, new)
        store.add_sums(conn, "day", days)
        store.add_sums(conn, "month", months)


def month_of(day: int) -> int:
    """The UTC month (year * 12 + month - 1) of a day counted from 1970-01-01."""
    d = _EPOCH + timedelta(days=day)
    return d.year * 12 + d.month - 1


def month_start(month: int) -> int:
    """The first day (counted from 1970-01-01) of a month numbered as :func:`month_of` does."""
    return (date(month // 12, month % 12 + 1, 1) - _EPOCH).days


def _count(deltas: store.Deltas, rows: Iterable[store.SpanRow], sign: int) -> None:
    for r in rows:
        allowed = sign if r.allowed else 0
        acc = deltas.setdefault((r.start_us // DAY_US, r.key), [0, 0])
        acc[0] += sign
        acc[1] += allowed
        if r.end_us is not None:
            acc = deltas.setdefault((r.end_us // DAY_US, r.key), [0, 0])
            acc[0] -= sign
            acc[1] -= allowed


def tally(
    engine: Engine, policy: Policy, instants: Sequence[datetime], by: Sequence[str] = GROUPINGS
) -> Tally:
    """Per instant, per group of ``by`` (fields not grouped by are None): [subjects, allowed].

    The sums of every whole month before the first instant's month, then per day up to each instant's
    day (cumulated in day order), then the spans that start or end in the instant's own day up to it.
    """
    refresh(engine, policy)
    with storage("read the consent-rate rollup"):
        return _tally(engine, instants, by)


def _tally(engine: Engine, instants: Sequence[datetime], by: Sequence[str]) -> Tally:
    at_us = [to_micros(t) for t in instants]
    days = [us // DAY_US for us in at_us]
    first = month_of(min(days))
    base = _sums(store.bucket_sums(engine, "month", None, first, by, per_bucket=False))
    if len(instants) == 1:
        rows = store.bucket_sums(engine, "day", month_start(first), days[0], by, per_bucket=False)
        bases = [_sums(rows, base)]
    else:
        rows = store.bucket_sums(engine, "day", month_start(first), max(days), by, per_bucket=True)
        bases = _cumulative(rows, days, base)
    out: Tally = []
    for sums, us, day in zip(bases, at_us, days, strict=True):
        if us > day * DAY_US:  # not a day's first instant: add what happened in the day up to T
            _add(sums, store.edges_between(engine, day * DAY_US, us, by).items())
        out.append({k: v for k, v in sums.items() if v != [0, 0]})  # groups everyone has left
    _check(engine, out)
    return out


def _check(engine: Engine, tally: Tally) -> None:
    """Refuse counts no ledger can produce (fewer than no one, more allowed than counted): the rollup
    was altered or damaged. It is discarded, so the next report rebuilds it from the ledger."""
    for sums in tally:
        for key, (subjects, allowed) in sums.items():
            if subjects < 0 or allowed < 0 or allowed > subjects:
                with store.locked(engine) as conn:
                    store.discard(conn)
                raise TransientStorageError(
                    f"the consent-rate rollup is inconsistent ({subjects} subjects, {allowed} allowed for "
                    f"{key[0]}); it has been discarded and the next report rebuilds it from the ledger"
                )


Sums = dict[store.GroupKey, list[int]]
BucketRows = Iterable[tuple[int | None, store.GroupKey, int, int]]


def _add(sums: Sums, items: Iterable[tuple[store.GroupKey, list[int]]]) -> None:
    for key, (ds, da) in items:
        acc = sums.setdefault(key, [0, 0])
        acc[0] += ds
        acc[1] += da


def _sums(rows: BucketRows, start: Sums | None = None) -> Sums:
    out = {k: list(v) for k, v in (start or {}).items()}
    _add(out, ((key, [ds, da]) for _, key, ds, da in rows))
    return out


def _cumulative(rows: BucketRows, days: Sequence[int], start: Sums) -> list[Sums]:
    """For each of ``days``, ``start`` plus every row of an earlier day (rows in day order)."""
    order = sorted(range(len(days)), key=days.__getitem__)
    out: list[Sums] = [{} for _ in days]
    running = {k: list(v) for k, v in start.items()}
    it = iter(rows)
    pending = next(it, None)
    for i in order:
        while pending is not None and (pending[0] or 0) < days[i]:
            _add(running, [(pending[1], [pending[2], pending[3]])])
            pending = next(it, None)
        out[i] = {k: list(v) for k, v in running.items()}
    return out


def policy_fingerprint(policy: Policy) -> str:
    """sha256 over the policy's canonical JSON: any change to it may change any decision."""
    body = json.dumps(policy.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()

"""The full recomputation of a consent-rate tally: every person's events read and decided again.

Correct and slow (it reads the whole ledger). It is the baseline the rollup is measured against
(benchmarks/reports.py) and what :mod:`consentgate.reports.rollup` must always agree with.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from consentgate.decide import Timeline
from consentgate.ledger.events import ConsentEvent
from consentgate.policy import Policy, to_micros
from consentgate.reports.persons import People, Tally, batches, erased, state_at
from consentgate.store import rates as store
from consentgate.store.engine import Engine
from consentgate.store.rates import GroupKey

BATCH_IDENTIFIERS = 2_000


def tally(engine: Engine, policy: Policy, instants: Sequence[datetime]) -> Tally:
    """Per instant, per (purpose, region, notice_version, source): [subjects, allowed]."""
    at_us = [to_micros(t) for t in instants]
    out: Tally = [{} for _ in instants]
    purposes = [p.id for p in policy.purposes]
    people = People(store.alias_links(engine))
    groups = people.group(store.identifiers(engine))
    for batch in batches(groups.values(), BATCH_IDENTIFIERS):
        events = store.events_of(engine, {i for ids in batch for i in ids})
        by_root: dict[str, list[ConsentEvent]] = {}
        for e in events:
            by_root.setdefault(people.root(e.subject), []).append(e)
        for evs in by_root.values():
            if erased(evs):
                continue
            timeline = Timeline(evs)
            for purpose in purposes:
                for counts, when in zip(out, at_us, strict=True):
                    state = state_at(policy, timeline, purpose, when)
                    if state is None:
                        continue
                    key: GroupKey = (purpose, state.region, state.notice_version, state.source)
                    acc = counts.setdefault(key, [0, 0])
                    acc[0] += 1
                    acc[1] += state.allowed
    return out

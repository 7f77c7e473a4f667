"""One person's place in a consent-rate report, at an instant or as spans of time, and the grouping of
identifiers into people (alias groups) that both the full recomputation and the rollup read by.

A person counts for purpose P at T when they made a choice about P that occurred by T; they count as
allowed when :func:`~consentgate.decide.decide_timeline` allows P at T. Their region group and the
version and source of their deciding choice (the latest choice about P by T, in rule 4's order) say
in which row of the report they count. People with an erasure are never counted (docs/reports.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from operator import attrgetter
from typing import NamedTuple

from consentgate.decide import Timeline, decide_timeline
from consentgate.ledger.events import PURPOSE_ACTIONS, Action, ConsentEvent
from consentgate.policy import Policy, Purpose, to_micros
from consentgate.store.rates import GroupKey

# decide_timeline reads ``at`` only when it is not given in microseconds: any aware instant will do.
_ANY_AT = datetime(2000, 1, 1, tzinfo=UTC)
_FOREVER = 2**63 - 1
_DAY_US = 86_400 * 1_000_000
_ORDER = attrgetter("occurred_us", "recorded_us", "seq")


# A tally: per instant, per group (purpose, region, notice_version, source), [subjects, allowed].
Tally = list[dict[GroupKey, list[int]]]


class State(NamedTuple):
    """Where a person counts for one purpose at one instant."""

    region: str
    notice_version: str | None
    source: str
    allowed: bool


class Span(NamedTuple):
    """A person's unchanging :class:`State` for one purpose over ``[start_us, end_us)``; ``end_us``
    None: until something new is recorded."""

    purpose: str
    start_us: int
    end_us: int | None
    state: State


def erased(events: Iterable[ConsentEvent]) -> bool:
    return any(e.action is Action.ERASE for e in events)


def state_at(policy: Policy, timeline: Timeline, purpose: str, at_us: int) -> State | None:
    """The person's state for ``purpose`` at ``at_us``; None when they made no choice about it by then."""
    _, _, signal, _ = timeline.scan(purpose, at_us)
    if signal is None:
        return None
    decision = decide_timeline(policy, timeline, purpose, _ANY_AT, None, at_us)
    return State(decision.region, signal.notice_version, signal.source, decision.allowed)


def spans(policy: Policy, timeline: Timeline, events: Sequence[ConsentEvent]) -> list[Span]:
    """Every purpose's states over all time, from the person's first choice about it.

    A state can change only at :func:`turns` (the decision function's inputs change nowhere else),
    so it is evaluated there and equal neighbours merge: the spans are exact, not sampled.
    """
    ordered = sorted(events, key=_ORDER)
    shared = _shared_turns(policy, ordered)
    out: list[Span] = []
    for purpose, first in _first_choices(ordered).items():
        p = policy.purpose(purpose)
        if p is None:
            continue  # a purpose the policy no longer declares is in no report
        current: State | None = None
        since = first
        # The deciding choice at each turn, found by walking the choices forward alongside the turns
        # (what Timeline.scan finds walking back, without a scan per turn).
        choices = [e for e in ordered if e.purpose == purpose and e.action in PURPOSE_ACTIONS]
        j = 0
        for at in turns(policy, p, ordered, first, shared):
            while j + 1 < len(choices) and choices[j + 1].occurred_us <= at:
                j += 1
            signal = choices[j]
            decision = decide_timeline(policy, timeline, purpose, _ANY_AT, None, at)
            state = State(decision.region, signal.notice_version, signal.source, decision.allowed)
            if state != current:
                if current is not None:
                    out.append(Span(purpose, since, at, current))
                current, since = state, at
        if current is not None:
            out.append(Span(purpose, since, None, current))
    return out


def turns(
    policy: Policy, purpose: Purpose, ordered: Sequence[ConsentEvent], first: int, shared: Iterable[int]
) -> list[int]:
    """The instants from ``first`` on where the person's state for ``purpose`` may change, sorted.

    What the decision and the row read, and when each can change (docs/decisions.md): the region
    group of the latest event that has a region (``shared``), a GPC signal (``shared``), an erasure
    (erased people have no spans), the latest choice about the purpose (at each such choice), the
    notice versions in force (at each version's ``effective_from``: a material one voids older
    grants) and a grant's age (just after ``max_age_days`` have passed since a grant). The same
    three ways time alone changes a decision as :func:`consentgate.decide.holds_until` lists; a new
    one there must be added here (tests/reports checks the figures at random instants against
    ``decide`` itself, which would catch a missed turn only where it samples).
    """
    at = {first, *(t for t in shared if t > first)}
    age = purpose.max_age_days
    for e in ordered:
        if e.purpose == purpose.id and e.action in PURPOSE_ACTIONS and e.occurred_us > first:
            at.add(e.occurred_us)
        if age is not None and e.purpose == purpose.id and e.action is Action.GRANT:
            at.add(e.occurred_us + age * _DAY_US + 1)
    if purpose.notice is not None:
        at.update(t for t in _effective(policy, purpose.notice) if t > first)
    return sorted(at)


def _shared_turns(policy: Policy, ordered: Sequence[ConsentEvent]) -> list[int]:
    """Instants where the region group of the latest event with a region changes, and GPC signals."""
    out = []
    group = None
    for e in ordered:
        if e.region:
            g = policy.region_group(e.region)
            if g != group:
                group = g
                out.append(e.occurred_us)
        if e.action is Action.GPC:
            out.append(e.occurred_us)
    return out


def _first_choices(events: Iterable[ConsentEvent]) -> dict[str, int]:
    first: dict[str, int] = {}
    for e in events:
        purpose = e.purpose
        if (
            purpose is not None
            and e.action in PURPOSE_ACTIONS
            and e.occurred_us < first.get(purpose, _FOREVER)
        ):
            first[purpose] = e.occurred_us
    return first


def _effective(policy: Policy, notice_id: str) -> list[int]:
    return [to_micros(v.effective_from) for v in policy.versions_of(notice_id)]


class People:
    """Identifiers grouped into people by the alias links (union-find; links are never undone)."""

    def __init__(self, links: Iterable[tuple[str, str]]) -> None:
        self._parent: dict[str, str] = {}
        for a, b in links:
            self._union(a, b)

    def root(self, identifier: str) -> str:
        parent = self._parent
        node = identifier
        while (up := parent.get(node, node)) != node:
            node = up
        while identifier != node:  # path compression
            up = parent[identifier]
            parent[identifier] = node
            identifier = up
        return node

    def _union(self, a: str, b: str) -> None:
        ra, rb = self.root(a), self.root(b)
        if ra != rb:
            self._parent[max(ra, rb)] = min(ra, rb)

    def group(self, identifiers: Iterable[str]) -> dict[str, set[str]]:
        """root → the identifiers among ``identifiers`` and every identifier linked to them."""
        out: dict[str, set[str]] = {}
        for i in identifiers:
            out.setdefault(self.root(i), set()).add(i)
        members: dict[str, set[str]] = {}
        for node in self._parent:
            root = self.root(node)
            members.setdefault(root, {root}).add(node)  # the root has no parent entry of its own
        for root, ids in out.items():
            ids.update(members.get(root, ()))
        return out


def batches(people: Iterable[set[str]], size: int) -> Iterator[list[set[str]]]:
    """People in batches of about ``size`` identifiers, so each batch is one read of their events."""
    batch: list[set[str]] = []
    count = 0
    for ids in people:
        batch.append(ids)
        count += len(ids)
        if count >= size:
            yield batch
            batch, count = [], 0
    if batch:
        yield batch

"""The decision function: may this person's data be used for this purpose, at this time, here?

Pure: a policy and the person's events in, a :class:`Decision` out. No clock, no database, no
logging, so it is the same function in the API, the CLI, the pipeline gates and the tests, and it
can be checked exhaustively. The six rules are those of docs/decisions.md, numbered the same.

``events`` are all events of one person (every alias already resolved by the caller); the function
never filters by subject string, so a choice made under a cookie id counts after login.
"""

from __future__ import annotations

import gc
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any, NamedTuple

from consentgate.errors import QueryError
from consentgate.ledger.events import PURPOSE_ACTIONS, Action, ConsentEvent
from consentgate.policy.models import DEFAULT_REGION, Basis, Policy, Purpose, to_micros

_DAY_US = 86_400 * 1_000_000
_ORDER = attrgetter("occurred_us", "recorded_us", "seq")
_FOREVER = 2**63 - 1


class Decision(NamedTuple):
    """The answer, with the event that decided it (``evidence_event``) when one did.

    ``reason`` is formatted on first use from ``why`` (a template and its arguments): formatting
    timestamps costs more than deciding, and batch callers often never read it.
    """

    allowed: bool
    basis: str | None
    region: str
    why: tuple[Any, ...]
    evidence_event: str | None = None

    @property
    def reason(self) -> str:
        if len(self.why) == 2 and self.why[0] == "{}" and type(self.why[1]) is str:
            return self.why[1]  # already a line (pipeline/bulkquery.py): skip the format per decision
        template, *args = self.why
        return str(template).format(*(_iso(a) if isinstance(a, ConsentEvent) else a for a in args))

    def to_json(self) -> dict[str, object]:
        return {
            "allowed": self.allowed,
            "basis": self.basis,
            "region": self.region,
            "reason": self.reason,
            "evidence_event": self.evidence_event,
        }


@dataclass(frozen=True, slots=True)
class Query:
    subject: str
    purpose: str
    at: datetime
    region: str | None = None


class Timeline:
    """One person's events in (occurred_at, recorded_at, seq) order, for point-in-time questions.

    Build once, ask many times. A question bisects to the events that happened by ``at`` and walks
    them once from the newest; people have few events, so this beats building indexes per purpose
    (measured: benchmarks/ledger.py).
    """

    __slots__ = ("_events", "_occurred")

    def __init__(self, events: Iterable[ConsentEvent]) -> None:
        evs = events if isinstance(events, list) else list(events)
        if len(evs) > 1:
            evs = sorted(evs, key=_ORDER)
        self._events = evs
        self._occurred = [e.occurred_us for e in evs]

    def __len__(self) -> int:
        return len(self._events)

    def scan(
        self, purpose: str, at_us: int
    ) -> tuple[ConsentEvent | None, str | None, ConsentEvent | None, ConsentEvent | None]:
        """``(first erase, latest region, latest signal for purpose, latest GPC-on)`` as of ``at_us``."""
        events = self._events
        i = bisect_right(self._occurred, at_us)
        erase = signal = gpc = None
        region = None
        while i:
            i -= 1
            e = events[i]
            if region is None and e.region:
                region = e.region
            action = e.action
            if action is Action.ERASE:
                erase = e  # keep walking: the first erasure is the evidence
            elif signal is None and e.purpose == purpose and action in PURPOSE_ACTIONS:
                signal = e
            elif gpc is None and action is Action.GPC and e.signals.get("gpc") is True:
                gpc = e
        return erase, region, signal, gpc


def decide(
    policy: Policy,
    events: Iterable[ConsentEvent],
    subject: str,
    purpose: str,
    at: datetime,
    region: str | None = None,
) -> Decision:
    """Decide one (subject, purpose, at, region) question from the person's events."""
    del subject  # the caller resolved the person; kept in the signature for readable call sites
    return decide_timeline(policy, Timeline(events), purpose, at, region)


def decide_timeline(
    policy: Policy,
    timeline: Timeline,
    purpose_id: str,
    at: datetime,
    region: str | None = None,
    at_us: int | None = None,
) -> Decision:
    """Decide from a prepared timeline; ``at_us`` lets batch callers convert ``at`` once."""
    purpose = policy.require_purpose(purpose_id)
    if at_us is None:
        if at.tzinfo is None or at.utcoffset() is None:
            raise QueryError("'at' needs a time zone, e.g. 2026-05-01T12:00:00Z", purpose=purpose_id)
        at_us = to_micros(at)
    erased, last_region, signal, gpc = timeline.scan(purpose_id, at_us)

    # Rule 1: the query's region, else the region of the latest event that carries one.
    code = region or last_region
    group = policy.region_group(code)
    basis = policy.basis_for(purpose, group)

    # Rule 2: erasure ends every use.
    if erased is not None:
        b = basis.value if basis else None
        return Decision(False, b, group, (_ERASED, erased), erased.event_id)
    if basis is None:
        return Decision(False, None, group, (_NO_BASIS, purpose_id, _where(group, code)))
    # Rule 3.
    if basis is Basis.NOT_ALLOWED:
        return Decision(False, basis.value, group, (_NOT_ALLOWED, purpose_id, _where(group, code)))
    if basis is Basis.CONTRACT:
        return Decision(True, basis.value, group, (_CONTRACT, purpose_id, _where(group, code)))

    # Rule 4: the latest signal wins; GPC counts only under opt_out where the region honours it.
    if (
        gpc is not None
        and basis is Basis.OPT_OUT
        and policy.honours_gpc(group)
        and (signal is None or _ORDER(gpc) > _ORDER(signal))
    ):
        signal = gpc

    if basis is Basis.CONSENT:
        return _consent(policy, purpose, group, signal, at_us)
    # Rule 6: legitimate_interest and opt_out.
    if signal is None:
        return Decision(True, basis.value, group, (_NO_OBJECTION, basis.value, _where(group, code)))
    if signal.action is Action.GRANT:
        return Decision(
            True, basis.value, group, (_GRANTED, basis.value, _where(group, code), signal), signal.event_id
        )
    how = _PAST[signal.action]
    return Decision(
        False, basis.value, group, (_OBJECTED, basis.value, _where(group, code), how, signal), signal.event_id
    )


_ERASED = "erasure requested at {}; no purpose may use this person's data"
_NO_BASIS = "the policy gives {} no lawful basis in {}"
_NOT_ALLOWED = "{} is not allowed in {}"
_CONTRACT = "{} is needed for the contract in {}"
_NO_OBJECTION = "{} in {}; no objection recorded"
_GRANTED = "{} in {}; granted at {}"
_OBJECTED = "{} in {}; {} at {}"
_PAST = {
    Action.DENY: "refused",
    Action.WITHDRAW: "withdrawn",
    Action.OBJECT: "objected to",
    Action.OPT_OUT: "opted out",
    Action.GPC: "opted out by Global Privacy Control",
}
_NO_CONSENT = "consent needed and none recorded"
_NEGATIVE = "consent {} at {}"
_OTHER_NOTICE = "grant at {} was made under notice {!r}, not {!r}"
# Reasons are read by people: a missing field is said in words, never shown as "None".
_NO_NOTICE = "grant at {} names no notice; consent counts only under {!r}"
_PURPOSE_NO_NOTICE = "{} rests on consent but the policy names no notice to collect it under"
_UNKNOWN_VERSION = "grant at {} names notice version {!r}, unknown to the policy"
_NO_VERSION = "grant at {} names no version of notice {!r}, so what the person saw is unknown"
_RECONSENT = "consent given to {} v{}, but v{} (effective {}) changed it materially; ask again"
_EXPIRED = "consent given at {} expired after {} days"
_CONSENTED = "consent given at {} under {} v{}"


def _where(group: str, code: str | None) -> str:
    return group if group != DEFAULT_REGION else f"{code or 'unknown region'} (default)"


def _consent(
    policy: Policy, purpose: Purpose, group: str, signal: ConsentEvent | None, at_us: int
) -> Decision:
    """Rule 5: a current grant under the purpose's notice, fresh enough, after any material change."""
    basis = "consent"
    if signal is None:
        return Decision(False, basis, group, (_NO_CONSENT,))
    if signal.action is not Action.GRANT:
        return Decision(False, basis, group, (_NEGATIVE, _PAST[signal.action], signal), signal.event_id)
    notice_id = purpose.notice
    if notice_id is None:
        return Decision(False, basis, group, (_PURPOSE_NO_NOTICE, purpose.id), signal.event_id)
    if signal.notice_id is None:
        return Decision(False, basis, group, (_NO_NOTICE, signal, notice_id), signal.event_id)
    if signal.notice_id != notice_id:
        return Decision(
            False, basis, group, (_OTHER_NOTICE, signal, signal.notice_id, notice_id), signal.event_id
        )
    if signal.notice_version is None:
        return Decision(False, basis, group, (_NO_VERSION, signal, notice_id), signal.event_id)
    rank = policy.version_rank(notice_id, signal.notice_version)
    if rank is None:
        return Decision(
            False, basis, group, (_UNKNOWN_VERSION, signal, signal.notice_version), signal.event_id
        )
    floor = policy.reconsent_floor(notice_id, at_us)
    if rank < floor:
        needed = policy.versions_of(notice_id)[floor]
        why = (_RECONSENT, notice_id, signal.notice_version, needed.label, needed.effective_from.isoformat())
        return Decision(False, basis, group, why, signal.event_id)
    if purpose.max_age_days is not None and at_us - signal.occurred_us > purpose.max_age_days * _DAY_US:
        return Decision(False, basis, group, (_EXPIRED, signal, purpose.max_age_days), signal.event_id)
    return Decision(
        True, basis, group, (_CONSENTED, signal, notice_id, signal.notice_version), signal.event_id
    )


def decide_batch(
    policy: Policy,
    events_by_subject: Mapping[str, Sequence[ConsentEvent]],
    queries: Iterable[Query],
) -> list[Decision]:
    """Many decisions; each subject's timeline is built once. Answers keep the queries' order.

    The cyclic garbage collector is paused for the batch: it allocates many small acyclic objects,
    and collections triggered by them cost up to half the batch's time (measured in
    benchmarks/ledger.py). Reference counting still frees everything as usual.
    """
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        timelines: dict[str, Timeline] = {}
        cache: dict[datetime, int] = {}
        out = []
        for q in queries:
            tl = timelines.get(q.subject)
            if tl is None:
                tl = timelines[q.subject] = Timeline(events_by_subject.get(q.subject, ()))
            out.append(decide_timeline(policy, tl, q.purpose, q.at, q.region, at_micros(q.at, cache)))
        return out
    finally:
        if paused:
            gc.enable()


def holds_until(policy: Policy, timeline: Timeline, purpose_id: str, at_us: int) -> int:
    """The last instant (UTC microseconds) up to which the decision at ``at_us`` stays the same, if
    nothing more is recorded: what a cache of "now" decisions may rely on.

    Only three things make an answer change with time alone: an event dated after ``at_us`` coming
    into force (one recorded with a future ``occurred_at``), a notice version taking effect (a
    material change can void a grant), and a grant outgrowing the purpose's ``max_age_days``. The
    answer holds until just before the earliest of them, conservatively over all of the person's
    events and every notice of the policy.
    """
    purpose = policy.require_purpose(purpose_id)
    until = _FOREVER
    i = bisect_right(timeline._occurred, at_us)
    if i < len(timeline._occurred):
        until = timeline._occurred[i] - 1
    for notice in policy.notices:
        for version in notice.versions:
            effective = to_micros(version.effective_from)
            if at_us < effective <= until:
                until = effective - 1
    if purpose.max_age_days is not None:
        age = purpose.max_age_days * _DAY_US
        for occurred in timeline._occurred[:i]:
            if at_us <= occurred + age < until:
                until = occurred + age
    return until


def at_micros(at: datetime, cache: dict[datetime, int]) -> int:
    """``at`` in UTC microseconds, checked once per distinct value (batches usually share one)."""
    found = cache.get(at)
    if found is None:
        if at.tzinfo is None or at.utcoffset() is None:
            raise QueryError("'at' needs a time zone, e.g. 2026-05-01T12:00:00Z")
        found = cache[at] = to_micros(at)
    return found


def _iso(event: ConsentEvent) -> str:
    return event.occurred_at.isoformat()


__all__ = ["Decision", "Query", "Timeline", "decide", "decide_batch", "decide_timeline", "holds_until"]

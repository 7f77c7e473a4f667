"""The decision function: may this person's data be used for this purpose, at this time, here?

Pure: a policy and the person's events in, a :class:`Decision` out. No clock, no database, no
logging, so it is the same function in the API, the CLI, the pipeline gates and the tests, and it
can be checked exhaustively. The six rules are DESIGN.md's "Decision" section, numbered the same.

``events`` are all events of one person (every alias already resolved by the caller); the function
never filters by subject string, so a choice made under a cookie id counts after login.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from consentgate.errors import QueryError
from consentgate.ledger.events import NEGATIVE_ACTIONS, PURPOSE_ACTIONS, Action, ConsentEvent
from consentgate.policy.models import DEFAULT_REGION, Basis, Policy, to_micros

_DAY_US = 86_400 * 1_000_000


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer, with the event that decided it (``evidence_event``) when one did."""

    allowed: bool
    basis: str | None
    region: str
    reason: str
    evidence_event: str | None = None

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
    """One person's events indexed for point-in-time questions; build once, ask many times.

    Every lookup is a binary search over ``occurred_at`` so a batch of decisions costs a few
    bisections each, whatever order the events were recorded in.
    """

    __slots__ = ("_erase", "_gpc", "_gpc_us", "_region", "_region_us", "_signals")

    def __init__(self, events: Iterable[ConsentEvent]) -> None:
        ordered = sorted(events, key=lambda e: e.order_key)
        self._erase = [e for e in ordered if e.action is Action.ERASE]
        self._gpc = [e for e in ordered if e.gpc_on]
        self._gpc_us = [e.occurred_us for e in self._gpc]
        with_region = [e for e in ordered if e.region]
        self._region = [e.region for e in with_region]
        self._region_us = [e.occurred_us for e in with_region]
        signals: dict[str, tuple[list[int], list[ConsentEvent]]] = {}
        for e in ordered:
            if e.action in PURPOSE_ACTIONS and e.purpose is not None:
                us, evs = signals.setdefault(e.purpose, ([], []))
                us.append(e.occurred_us)
                evs.append(e)
        self._signals = signals

    def first_erase(self, at_us: int) -> ConsentEvent | None:
        for e in self._erase:
            if e.occurred_us <= at_us:
                return e
        return None

    def region_at(self, at_us: int) -> str | None:
        i = bisect_right(self._region_us, at_us)
        return self._region[i - 1] if i else None

    def latest_signal(self, purpose: str, at_us: int) -> ConsentEvent | None:
        found = self._signals.get(purpose)
        if found is None:
            return None
        i = bisect_right(found[0], at_us)
        return found[1][i - 1] if i else None

    def latest_gpc(self, at_us: int) -> ConsentEvent | None:
        i = bisect_right(self._gpc_us, at_us)
        return self._gpc[i - 1] if i else None


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
    policy: Policy, timeline: Timeline, purpose_id: str, at: datetime, region: str | None = None
) -> Decision:
    purpose = policy.purpose(purpose_id)
    if purpose is None:
        known = ", ".join(p.id for p in policy.purposes)
        raise QueryError(f"unknown purpose {purpose_id!r}; the policy declares: {known}", purpose=purpose_id)
    if at.tzinfo is None or at.utcoffset() is None:
        raise QueryError("'at' needs a time zone, e.g. 2026-05-01T12:00:00Z", purpose=purpose_id)
    at_us = to_micros(at)

    # Rule 1: the query's region, else the region of the latest event that carries one.
    code = region or timeline.region_at(at_us)
    group = policy.region_group(code)
    basis = policy.basis_for(purpose, group)
    where = group if group != DEFAULT_REGION else f"{code or 'unknown region'} (default)"

    # Rule 2: erasure ends every use.
    erased = timeline.first_erase(at_us)
    if erased is not None:
        return Decision(
            False, basis.value if basis else None, group,
            f"erasure requested at {_iso(erased)}; no purpose may use this person's data", erased.event_id,
        )  # fmt: skip
    if basis is None:
        return Decision(False, None, group, f"the policy gives {purpose_id} no lawful basis in {where}")
    # Rule 3.
    if basis is Basis.NOT_ALLOWED:
        return Decision(False, basis.value, group, f"{purpose_id} is not allowed in {where}")
    if basis is Basis.CONTRACT:
        return Decision(True, basis.value, group, f"{purpose_id} is needed for the contract in {where}")

    # Rule 4: the latest signal wins; GPC counts only under opt_out where the region honours it.
    signal = timeline.latest_signal(purpose_id, at_us)
    if basis is Basis.OPT_OUT and policy.honours_gpc(group):
        gpc = timeline.latest_gpc(at_us)
        if gpc is not None and (signal is None or gpc.order_key > signal.order_key):
            signal = gpc

    if basis is Basis.CONSENT:
        return _consent(policy, purpose_id, group, signal, at_us)
    # Rule 6: legitimate_interest and opt_out.
    if signal is None:
        return Decision(True, basis.value, group, f"{basis.value} in {where}; no objection recorded")
    if signal.action in NEGATIVE_ACTIONS or signal.action is Action.GPC:
        how = "Global Privacy Control" if signal.action is Action.GPC else signal.action.value
        return Decision(
            False, basis.value, group, f"{basis.value} in {where}; {how} at {_iso(signal)}", signal.event_id
        )
    return Decision(True, basis.value, group, f"{basis.value} in {where}; granted at {_iso(signal)}", signal.event_id)


def _consent(policy: Policy, purpose_id: str, group: str, signal: ConsentEvent | None, at_us: int) -> Decision:
    """Rule 5: a current grant under the purpose's notice, fresh enough, after any material change."""
    purpose = policy.purpose(purpose_id)
    assert purpose is not None
    basis = Basis.CONSENT.value
    if signal is None:
        return Decision(False, basis, group, "consent needed and none recorded")
    if signal.action is not Action.GRANT:
        return Decision(False, basis, group, f"consent {signal.action.value} at {_iso(signal)}", signal.event_id)
    notice_id = purpose.notice
    if notice_id is None or signal.notice_id != notice_id:
        return Decision(
            False, basis, group,
            f"grant at {_iso(signal)} was made under notice {signal.notice_id!r}, not {notice_id!r}",
            signal.event_id,
        )  # fmt: skip
    rank = policy.version_rank(notice_id, signal.notice_version) if signal.notice_version is not None else None
    if rank is None:
        return Decision(
            False, basis, group,
            f"grant at {_iso(signal)} names notice version {signal.notice_version!r}, unknown to the policy",
            signal.event_id,
        )  # fmt: skip
    floor = policy.reconsent_floor(notice_id, at_us)
    if rank < floor:
        needed = policy.versions_of(notice_id)[floor]
        return Decision(
            False, basis, group,
            f"consent given to {notice_id} v{signal.notice_version}, but v{needed.label} "
            f"(effective {needed.effective_from.isoformat()}) changed it materially; ask again",
            signal.event_id,
        )  # fmt: skip
    if purpose.max_age_days is not None and at_us - signal.occurred_us > purpose.max_age_days * _DAY_US:
        return Decision(
            False, basis, group,
            f"consent given at {_iso(signal)} expired after {purpose.max_age_days} days",
            signal.event_id,
        )  # fmt: skip
    return Decision(
        True, basis, group, f"consent given at {_iso(signal)} under {notice_id} v{signal.notice_version}",
        signal.event_id,
    )  # fmt: skip


def decide_batch(
    policy: Policy,
    events_by_subject: Mapping[str, Sequence[ConsentEvent]],
    queries: Iterable[Query],
) -> list[Decision]:
    """Many decisions; each subject's timeline is built once. Answers keep the queries' order."""
    timelines: dict[str, Timeline] = {}
    out = []
    for q in queries:
        tl = timelines.get(q.subject)
        if tl is None:
            tl = timelines[q.subject] = Timeline(events_by_subject.get(q.subject, ()))
        out.append(decide_timeline(policy, tl, q.purpose, q.at, q.region))
    return out


def _iso(event: ConsentEvent) -> str:
    return event.occurred_at.isoformat()


__all__ = ["Decision", "Query", "Timeline", "decide", "decide_batch", "decide_timeline"]

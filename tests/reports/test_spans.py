"""A person's spans turn exactly where the decision function says decisions can turn.

``reports.persons.spans`` evaluates a state only at the instants it lists itself (``turns``). Here
the same spans are built the slow way, at every instant ``decide.holds_until`` names (the decision
function's own account of how time alone changes an answer, conservative over every purpose and
notice), and must come out the same: a turn ``turns`` forgot would show as a missing span edge.
"""

from __future__ import annotations

from pathlib import Path

from consentgate.decide import Timeline, holds_until
from consentgate.ledger.events import PURPOSE_ACTIONS, Action, ConsentEvent
from consentgate.ledger.store import Ledger
from consentgate.policy import Policy
from consentgate.reports.persons import Span, State, spans, state_at

from .ledgers import Generator

FOREVER = 2**63 - 1


def slow_spans(policy: Policy, events: list[ConsentEvent]) -> list[Span]:
    timeline = Timeline(events)
    out: list[Span] = []
    firsts: dict[str, int] = {}
    for e in events:
        if e.purpose is not None and e.action in PURPOSE_ACTIONS:
            firsts[e.purpose] = min(firsts.get(e.purpose, FOREVER), e.occurred_us)
    for purpose, first in firsts.items():
        if policy.purpose(purpose) is None:
            continue
        at, since, current = first, first, None
        while True:
            state: State | None = state_at(policy, timeline, purpose, at)
            if state != current:
                if current is not None:
                    out.append(Span(purpose, since, at, current))
                current, since = state, at
            until = holds_until(policy, timeline, purpose, at)
            if until >= FOREVER:
                break
            at = until + 1
        if current is not None:
            out.append(Span(purpose, since, None, current))
    return out


def test_spans_turn_where_holds_until_says(tmp_path: Path, example_policy: Policy) -> None:
    with Ledger.open(str(tmp_path / "ledger.db")) as led:
        gen = Generator(led, example_policy, seed=77)
        gen.add_people(150, events_each=8)
        people: dict[str, list[ConsentEvent]] = {}
        for e in led.iter_events():
            people.setdefault(e.subject.split("@")[0].replace("cookie-", "user-"), []).append(e)
    checked = 0
    for events in people.values():
        if any(e.action is Action.ERASE for e in events):
            continue
        fast = sorted(spans(example_policy, Timeline(events), events))
        assert fast == sorted(slow_spans(example_policy, events))
        checked += len(fast)
    assert checked > 500  # the people above have many spans: the comparison is not vacuous

"""The head probe on PostgreSQL: which read a caller gets (server/readcache.py), ``/healthz``'s body, and
cold batches taking turns.

A decision must come from a read that started after its request arrived, or a write committed just
before could be missed; ``/healthz`` only needs proof the database answered during the request, so it
may share the read in flight. The probe here is the real one on a real PostgreSQL; a gate holds each
read *after* its query ran, so a test can place calls and a commit while a read is in flight.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from consentgate.ledger.events import Action, NewEvent
from consentgate.ledger.store import Ledger
from consentgate.policy import Policy
from consentgate.server.chain import ChainStatus
from consentgate.server.readcache import LARGE_AT_ONCE, CachedDecisions, HeadProbe
from consentgate.server.routers.health import _STATUS, ChainCheck, Health, LedgerHead, health_body
from consentgate.service import ConsentService
from consentgate.store.heads import Heads

NOON = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


class GatedProbe(HeadProbe):
    """Each read runs its query, then waits until the test opens the gate; counts the queries."""

    def __init__(self, ledger: Ledger) -> None:
        super().__init__(ledger.engine)
        self.gate = threading.Event()
        self.queried = threading.Event()
        self.reads = 0
        self.fail_next = False

    def heads(self) -> Heads:
        heads = super().heads()
        self.reads += 1
        self.queried.set()
        self.gate.wait(10)
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("the read failed")
        return heads


@pytest.fixture
def ledger(pg_url: str) -> Iterator[Ledger]:
    led = Ledger.open(pg_url)
    try:
        yield led
    finally:
        led.close()


def write(ledger: Ledger) -> int:
    ledger.append([NewEvent("alice", Action.GRANT, NOON, purpose="product_analytics")])
    return ledger.head()[0]


async def in_flight(probe: GatedProbe, **kw: bool) -> asyncio.Task[Heads]:
    """A read started now, returned once its query has run (it then waits at the gate)."""
    probe.queried.clear()
    task = asyncio.ensure_future(probe.read(**kw))
    await asyncio.get_running_loop().run_in_executor(None, probe.queried.wait, 10)
    return task


def test_a_fresh_read_never_answers_from_a_read_that_began_before_it(ledger: Ledger) -> None:
    async def scenario() -> None:
        probe = GatedProbe(ledger)
        first = await in_flight(probe)
        seq = write(ledger)  # committed after the first read's query, before the next call
        fresh = asyncio.ensure_future(probe.read())
        shared = asyncio.ensure_future(probe.read(recent=True))
        await asyncio.sleep(0.05)
        probe.gate.set()
        a, b, c = await asyncio.gather(first, fresh, shared)
        assert a[0] == seq - 1
        assert c == a  # /healthz's read: the one in flight, answered after the call
        assert b[0] == seq  # a decision's read: the next one, which sees the commit
        assert probe.reads == 2
        probe.close()

    asyncio.run(scenario())


def test_a_failed_read_fails_everyone_sharing_it_and_the_next_read_is_new(ledger: Ledger) -> None:
    async def scenario() -> None:
        probe = GatedProbe(ledger)
        probe.fail_next = True
        first = await in_flight(probe)
        shared = asyncio.ensure_future(probe.read(recent=True))
        await asyncio.sleep(0.05)
        probe.gate.set()
        results = await asyncio.gather(first, shared, return_exceptions=True)
        assert all(isinstance(r, ConnectionError) for r in results)
        assert (await probe.read())[0] == ledger.head()[0]
        probe.close()

    asyncio.run(scenario())


def test_a_caller_that_goes_away_does_not_cancel_the_read_others_share(ledger: Ledger) -> None:
    async def scenario() -> None:
        probe = GatedProbe(ledger)
        first = await in_flight(probe)
        shared = asyncio.ensure_future(probe.read(recent=True))
        waiting = asyncio.ensure_future(probe.read())
        await asyncio.sleep(0.05)
        first.cancel()
        probe.gate.set()
        b, c = await asyncio.gather(shared, waiting)
        assert b[0] == c[0] == ledger.head()[0]
        assert first.cancelled()
        probe.close()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    "chain",
    [
        ChainStatus("unverified"),
        ChainStatus("intact", 12, 12, checked_at=NOON, signed=True, signature_note="signed by key k1"),
        ChainStatus("broken", 7, 12, 5, "ev-5", "its content no longer matches its hash", NOON, signed=False),
    ],
    ids=lambda c: c.state,
)
def test_healthz_body_is_the_models_json_byte_for_byte(chain: ChainStatus) -> None:
    """``/healthz`` assembles its JSON from parts; it must stay what its documented model says."""
    model = Health(status=_STATUS[chain.state], ledger=LedgerHead(seq=12, hash="ab" * 32),
                   chain=ChainCheck(**chain.to_json()))  # fmt: skip
    assert health_body(12, "ab" * 32, chain) == model.model_dump_json().encode()
    assert health_body(12, "ab" * 32, chain) == model.model_dump_json().encode()  # from the kept part


PURPOSE = "product_analytics"


class CountingService(ConsentService):
    """The real service, counting how many decisions of many queries run at once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.running = self.most = 0
        self._count = threading.Lock()

    def decide_many_holding(self, queries: Any) -> Any:
        with self._count:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(0.05)  # long enough for the others to arrive
            return super().decide_many_holding(queries)
        finally:
            with self._count:
                self.running -= 1


def test_large_misses_are_decided_a_few_at_a_time_and_answered_as_the_service_does(
    ledger_url: str, example_policy: Policy
) -> None:
    """Cold batches take turns (their threads would contend for the GIL); single decisions never
    wait behind them; every answer is the decision function's."""
    with Ledger.open(ledger_url) as ledger:
        service = CountingService(example_policy, ledger)
        when = datetime(2026, 6, 1, tzinfo=UTC)
        ledger.append([NewEvent(f"p{i}", Action.GRANT, when, purpose=PURPOSE) for i in range(0, 600, 3)])
        probe = HeadProbe(ledger.engine)
        cached = CachedDecisions(service, probe)
        limit = LARGE_AT_ONCE[ledger.engine.dialect.name]
        now = datetime(2026, 7, 1, tzinfo=UTC)
        batches = [[(f"p{i}", PURPOSE, None, "DE") for i in range(b * 100, b * 100 + 100)] for b in range(6)]

        async def scenario() -> list[list[Any]]:
            return list(await asyncio.gather(*(cached.decide_many(b, now) for b in batches)))

        answers = asyncio.run(scenario())
        assert service.most == limit
        plain = ConsentService(example_policy, ledger)
        for batch, got in zip(batches, answers, strict=True):
            expected = [plain.decide(s, p, now, region=r).to_json() for s, p, _, r in batch]
            assert got == expected

        async def singles_while_batches_wait() -> int:
            service.most = 0
            tasks = [asyncio.ensure_future(cached.decide_many(b, now)) for b in batches]
            await asyncio.sleep(0)
            fresh = [(f"q{i}", PURPOSE, None, "DE") for i in range(limit + 2)]
            await asyncio.gather(*(cached.decide_many([q], now) for q in fresh), *tasks)
            return service.most

        assert asyncio.run(singles_while_batches_wait()) > limit  # singles are not held back
        probe.close()

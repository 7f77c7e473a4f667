"""Decisions served from memory, never stale: a cache checked against the ledger's heads per request.

A decision depends on the policy (fixed for an app), the person's events, their aliases and erasure
suppressions, and the time. Every write that can change one advances a chain head in the one
``ledger_head`` row: events move ``seq``/``hash``; aliases, suppressions, notice texts and erasure
pseudonymisations move ``records_seq``/``records_hash`` (ledger/records.py). So:

* **per request, the heads are read** from the database over a connection kept for it (one indexed
  row; microseconds on SQLite, one round trip on PostgreSQL). When they differ from the heads the
  cache was filled under, the whole cache is dropped. A write committed by anyone (this process,
  another server process, the CLI) before a request arrives is therefore seen by that request: no
  interval, no notification that could arrive late.
* **entries are filled under the heads read before** their decision was computed, so an entry can
  only be newer than its heads, never older; and an entry is stored only if those heads are still
  the cache's.
* **time**: a decision "now" is kept only up to the instant it could change without a write
  (:func:`consentgate.decide.holds_until`: an event dated in the future coming into force, a notice
  version taking effect, a grant expiring). A decision for an explicit ``at`` is keyed on it.

What is cached is the :class:`~consentgate.decide.Decision` of the pure function as its JSON
(``Decision.to_json``: its reason formatted once, not per request), so answers stay exactly the
function's; ``ledger_intact`` and ``at`` are filled in per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Sequence
from datetime import datetime

from starlette.concurrency import run_in_threadpool

from consentgate.decide import Query
from consentgate.policy.models import to_micros
from consentgate.service import ConsentService
from consentgate.store.engine import Engine
from consentgate.store.heads import HeadReader, Heads

MAX_ENTRIES = 100_000
# Misses from this many queries up (a batch about people nobody asked about yet) are decided a few
# at a time per process; smaller ones (single decisions) are never held back. Sixteen cold batches
# of 1,000 decided at once in the thread pool contend for the GIL: on SQLite, where deciding is all
# CPU in this process, two at a time gave 49,885-65,523 cold decisions/s against 37,599-40,942 with
# no limit and 40,332-52,617 with four (same runs, quiet machine); on PostgreSQL, where a batch also
# waits for the database, four gave 33,279-46,291 against 33,130-38,391 with no limit, and two was
# no better than none (docs/benchmarks.md, issue 20).
LARGE = 100
LARGE_AT_ONCE = {"sqlite": 2, "postgresql": 4}


class HeadProbe:
    """Reads both chain heads over one dedicated connection in autocommit mode.

    Dedicated, not from the pool: a read in its own transaction sees every commit made before it
    started, and the probe never waits behind requests for a pooled connection. Thread-safe (a lock
    around the one connection); on a database error the connection is dropped, the request gets 503
    with ``Retry-After`` (a :class:`~consentgate.errors.TransientStorageError`), and the next call
    opens another connection.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._reader = HeadReader(engine)
        # Over a network (PostgreSQL) a read is a round trip: it runs in a worker thread, and the
        # requests that arrive meanwhile share the next read (see ``read``). The thread then needs
        # the GIL back from the busy event loop: server/process.py shortens the switch interval for
        # that. (Awaiting the read on the loop with psycopg's async connection was tried and was
        # worse: p99 at half rate 40 ms against 19 ms, interleaved runs; docs/benchmarks.md.)
        self._remote = engine.dialect.name == "postgresql"
        self._current: asyncio.Future[Heads] | None = None  # answered by the read in flight
        self._next: asyncio.Future[Heads] | None = None
        self._tasks: set[asyncio.Task[None]] = set()  # held until done (the loop keeps weak refs)

    async def read(self, *, recent: bool = False) -> Heads:
        """Both heads, as read by a query that *started after this call began* — so a write
        committed before the request arrived is always in them.

        ``recent=True`` relaxes that for callers that need proof the database answers *during*
        the call, not the newest head (``/healthz``): on PostgreSQL it shares the read already in
        flight, whose answer arrives after the call began but may miss a commit made in the round
        trip before it. Decisions never use it.

        On SQLite the read is a few microseconds: done here, on the event loop. On PostgreSQL it
        runs in a worker thread, and concurrent callers share reads: one arriving while a read is in
        flight waits for the next read, which starts when the current one ends. One round trip then
        serves every request that arrived during the previous one.
        """
        if not self._remote:
            return self.heads()
        if self._current is None:  # nothing in flight: read now
            self._current = self._start(asyncio.get_running_loop().create_future())
        elif not recent:  # a read is in flight, and began before this call: wait for the next
            if self._next is None:
                self._next = asyncio.get_running_loop().create_future()
            return await asyncio.shield(self._next)
        return await asyncio.shield(self._current)

    def _start(self, answer: asyncio.Future[Heads]) -> asyncio.Future[Heads]:
        """Run one read in a task of its own, so a caller that goes away does not cancel the read
        others share."""
        task = asyncio.get_running_loop().create_task(self._run(answer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return answer

    async def _run(self, answer: asyncio.Future[Heads]) -> None:
        try:
            answer.set_result(await run_in_threadpool(self.heads))
        except Exception as exc:
            answer.set_exception(exc)
        finally:
            # Those who arrived while it ran get the next read, which starts now.
            waiting, self._next = self._next, None
            self._current = self._start(waiting) if waiting is not None else None

    def heads(self) -> Heads:
        return self._reader.heads()

    def close(self) -> None:
        self._reader.close()


CacheKey = tuple[str, str, str | None, int | None]
Answer = dict[str, object]  # Decision.to_json(); shared between requests, so never changed
Asked = tuple[str, str, datetime | None, str | None]  # subject, purpose, at (None: now), region


class DecisionCache:
    """``(subject, purpose, region, at_us or None for "now")`` → the decision and the span of
    instants (UTC µs, both ends included) over which it holds. The span's start matters too: a wall
    clock stepped back must not reuse an answer for instants it was never computed for."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._heads: Heads | None = None
        self._entries: dict[CacheKey, tuple[Answer, int, int]] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, heads: Heads, key: CacheKey, at_us: int) -> Answer | None:
        """The cached decision for ``key`` at ``at_us``, or None; drops everything when ``heads`` moved."""
        return self.get_many(heads, [key], [at_us])[0]

    def get_many(
        self, heads: Heads, keys: Sequence[CacheKey], instants: Sequence[int]
    ) -> list[Answer | None]:
        """:meth:`get` for many keys (``instants`` alongside) under one lock, as a batch asks."""
        with self._lock:
            if heads != self._heads:
                self._entries.clear()
                self._heads = heads
                self.misses += len(keys)
                return [None] * len(keys)
            entries = list(map(self._entries.get, keys))
        out: list[Answer | None] = []
        for entry, at_us in zip(entries, instants, strict=True):
            out.append(entry[0] if entry is not None and entry[1] <= at_us <= entry[2] else None)
        hits = len(out) - out.count(None)
        self.hits += hits
        self.misses += len(out) - hits
        return out

    def put(self, heads: Heads, key: CacheKey, answer: Answer, since: int, until: int) -> None:
        """Keep a decision computed after ``heads`` were read; ignored if the cache has moved on."""
        self.put_many(heads, [(key, (answer, since, until))])

    def put_many(self, heads: Heads, entries: Sequence[tuple[CacheKey, tuple[Answer, int, int]]]) -> None:
        """:meth:`put` for many decisions under one lock (a batch fills hundreds at once)."""
        with self._lock:
            if heads != self._heads:
                return
            if len(self._entries) + len(entries) > self.max_entries:
                self._entries.clear()  # bounded; a refill costs one decision per key
            self._entries.update(entries)


class CachedDecisions:
    """Single decisions for the HTTP API: from the cache when the heads allow, else computed in the
    thread pool (it reads the database) and kept."""

    def __init__(self, service: ConsentService, probe: HeadProbe) -> None:
        self.service = service
        self.probe = probe
        self.cache = DecisionCache()
        self._large = asyncio.Semaphore(LARGE_AT_ONCE.get(service.ledger.engine.dialect.name, 4))

    async def decide(
        self, subject: str, purpose: str, at: datetime | None, region: str | None, now: datetime
    ) -> Answer:
        """``at`` None means ``now`` (and the entry is kept until the answer could change)."""
        return (await self.decide_many([(subject, purpose, at, region)], now))[0]

    async def decide_many(self, asked: Sequence[Asked], now: datetime) -> list[Answer]:
        """Answers in order: cached ones from memory, the rest computed together in the thread pool.
        ``now`` is the instant a query without ``at`` is answered for (the caller reports it)."""
        heads = await self.probe.read()  # read after this request arrived (one indexed row)
        now_us = to_micros(now)  # most batches ask about now: converted once, not per query
        instants = [now_us if at is None else to_micros(at) for _, _, at, _ in asked]
        keys = [
            (subject, purpose, region, None if at is None else at_us)
            for (subject, purpose, at, region), at_us in zip(asked, instants, strict=True)
        ]
        out = self.cache.get_many(heads, keys, instants)
        missing = [
            (i, keys[i], Query(subject, purpose, at or now, region))
            for i, (subject, purpose, at, region) in enumerate(asked)
            if out[i] is None
        ]
        if missing:
            queries = [q for _, _, q in missing]
            async with self._large if len(queries) >= LARGE else contextlib.nullcontext():
                computed = await run_in_threadpool(self.service.decide_many_holding, queries)
            kept: list[tuple[CacheKey, tuple[Answer, int, int]]] = []
            for (i, key, _), (decision, holds) in zip(missing, computed, strict=True):
                out[i] = answer = decision.to_json()
                kept.append((key, (answer, now_us if key[3] is None else key[3], holds)))
            self.cache.put_many(heads, kept)
        return [d for d in out if d is not None]

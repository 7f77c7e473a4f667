"""Timestamps inside the server for each record the banner sends (``benchmarks/banner.py --trace``).

An app factory for uvicorn (``record_trace:create_app``, ``--app-dir benchmarks``): the real app,
with the steps of ``POST /v1/consents/browser`` wrapped so that each one notes, per request, the wall
clock, the thread it ran on, and that thread's CPU time and run-queue wait so far (Linux
``/proc/thread-self/schedstat``: time on a CPU, time runnable but waiting for one). A step whose wall
time is much more than its CPU time either waited for a CPU (run-queue wait), for the disk (the
commit's fsync), or for another thread (a hand-off). Every request, of any route, is noted with its
start and end, so what ran beside a record is known too. One JSON line per request goes to the file
named by ``BANNER_TRACE``. Nothing here changes what the server does; the wrappers cost a few
microseconds each.
"""

from __future__ import annotations

import contextvars
import inspect
import itertools
import json
import os
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from consentgate.ledger import groupcommit, store
from consentgate.server import app as server_app
from consentgate.server import submissions
from consentgate.server.routers import consents

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_TRACE: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("trace", default=None)
_LOCK = threading.Lock()
# Steps the group committer's thread takes, per subject (it runs outside the request's context).
_COMMITTER: dict[str, list[list[Any]]] = {}


def _sched() -> tuple[int, int]:
    """The calling thread's CPU time and run-queue wait so far (ns). schedstat's own CPU figure is
    brought up to date only when the thread is switched out, so the CPU time is the clock's."""
    with open("/proc/thread-self/schedstat", encoding="ascii") as fh:
        waiting = fh.read().split()[1]
    return time.thread_time_ns(), int(waiting)


def _all_waiting() -> int:
    """Run-queue wait so far of every thread of this process (ns): a hand-off's wait to be scheduled
    shows here whichever thread takes it up."""
    total = 0
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/schedstat", encoding="ascii") as fh:
                total += int(fh.read().split()[1])
        except OSError:  # the thread ended
            continue
    return total


def _step(name: str) -> list[Any]:
    on_cpu, waiting = _sched()
    return [name, time.perf_counter(), threading.get_native_id(), on_cpu, waiting, _all_waiting()]


def mark(name: str) -> None:
    trace = _TRACE.get()
    if trace is not None:
        trace["steps"].append(_step(name))


class Traced:
    """Outermost ASGI wrapper: a trace per HTTP request, written when its answer has gone."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], out: Path) -> None:
        self.app = app
        self.out = out

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        trace: dict[str, Any] = {"method": scope["method"], "path": scope["path"], "steps": [_step("asgi")]}
        _TRACE.set(trace)

        async def traced_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request" and not message.get("more_body"):
                mark("body")
            return message

        async def traced_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                trace["status"] = message["status"]
                mark("start")
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                mark("sent")

        try:
            await self.app(scope, traced_receive, traced_send)
        finally:
            with _LOCK:  # the committer thread's steps for this request's subjects
                for subject in trace.get("subjects", []):
                    trace.setdefault("committer", []).extend(_COMMITTER.pop(subject, []))
            line = json.dumps(trace) + "\n"
            with _LOCK, self.out.open("a", encoding="utf-8") as fh:
                fh.write(line)


def _wrap_module(module: Any, name: str, before: str | None, after: str | None) -> None:
    original = getattr(module, name)

    def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
        if before:
            mark(before)
        try:
            return original(*args, **kwargs)
        finally:
            if after:
                mark(after)

    async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
        if before:
            mark(before)
        try:
            return await original(*args, **kwargs)
        finally:
            if after:
                mark(after)

    setattr(module, name, async_wrapper if inspect.iscoroutinefunction(original) else sync_wrapper)


def _committer_marks(events: Any, name: str, *extra: Any) -> None:
    step = _step(name) + list(extra)
    with _LOCK:
        for subject in {e.subject for e in events}:
            _COMMITTER.setdefault(subject, []).append(step)


def _install(db: str) -> None:
    # The request's own steps (its context travels into the threadpool with it).
    # Where the request hands over to storing (store_one; _record_one in older revisions, --baseline).
    stored = "store_one" if hasattr(consents, "store_one") else "_record_one"
    _wrap_module(consents, stored, "endpoint", "returned")
    _wrap_module(submissions, "record", "thread", "thread_end")
    from consentgate import service as service_module

    _wrap_module(service_module, "validate_batch", None, "validated")
    # Into the group committer's queue: ``submit`` (the event loop hands over directly) where it
    # exists, else ``append`` (a threadpool thread waits; an older revision, --baseline).
    committer = groupcommit.GroupCommitter
    name = "submit" if hasattr(committer, "submit") else "append"
    handed = getattr(committer, name)

    def queued(self: groupcommit.GroupCommitter, events: Any, texts: Any = ()) -> Any:
        mark("queued")
        trace = _TRACE.get()
        if trace is not None:
            trace.setdefault("subjects", []).extend({e.subject for e in events})
        result = handed(self, events, texts)
        if name == "append":
            mark("committed")
        return result

    setattr(committer, name, queued)

    # The committer's thread: the transaction, its SQL, and its commit (fsync) apart.
    ledger_append = store.Ledger.append
    extend = store.Ledger._extend
    wal = Path(db + "-wal")

    def traced_append(self: store.Ledger, new: Any, texts: Any = ()) -> Any:
        _committer_marks(new, "append")
        stored = ledger_append(self, new, texts)
        _committer_marks(new, "commit_end", wal.stat().st_size if wal.exists() else 0)
        return stored

    def traced_extend(self: store.Ledger, execute: Any, new: Any, wanted: Any, noise: Any) -> Any:
        stored = extend(self, execute, new, wanted, noise)
        _committer_marks(new, "sql_end")
        return stored

    store.Ledger.append = traced_append  # type: ignore[method-assign]
    store.Ledger._extend = traced_extend  # type: ignore[method-assign]


def create_app() -> Any:
    _install(os.environ["CONSENTGATE_DB"])
    return Traced(server_app.create_app(), Path(os.environ["BANNER_TRACE"]))


# What happens between two consecutive steps, where it has a name; others are shown as "a -> b".
SEGMENTS = {
    ("asgi", "body"): "body received",
    ("body", "endpoint"): "origin, chain and key checks",
    ("endpoint", "thread"): "event loop -> threadpool",
    ("thread", "validated"): "validation (intake), threadpool",
    ("endpoint", "validated"): "validation (intake), event loop",
    ("validated", "queued"): "into the group committer's queue",
    ("queued", "append"): "-> group committer's thread",
    ("append", "sql_end"): "SQL (head, rows, seal)",
    ("sql_end", "commit_end"): "COMMIT (WAL fsync)",
    ("commit_end", "committed"): "group committer -> threadpool",
    ("committed", "thread_end"): "receipt",
    ("thread_end", "returned"): "threadpool -> event loop",
    ("commit_end", "returned"): "group committer -> event loop",
    ("returned", "start"): "answer built",
    ("start", "sent"): "answer handed to uvicorn",
}
RECORD = "/v1/consents/browser"


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    return (ordered[(n - 1) // 2] + ordered[n // 2]) / 2 if n else float("nan")


def breakdown(path: Path, since: float, until: float) -> list[str]:
    """Per step of the records (201s) whose request arrived between ``since`` and ``until``
    (``time.perf_counter()`` of any process on this machine: CLOCK_MONOTONIC), the median and mean wall time
    and, for the thread that ends the step, its CPU time and run-queue wait over the step (for a
    hand-off: since that thread's previous step, so the wait to be scheduled once woken)."""
    traces = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    spans = [(t["steps"][0][1], t["steps"][-1][1], t["path"]) for t in traces]
    records = [
        t
        for t in traces
        if t["path"] == RECORD and t.get("status") == 201 and since <= t["steps"][0][1] <= until
    ]
    if not records:
        return ["no records traced in this window"]
    rows: dict[str, list[tuple[float, float, float]]] = {}
    totals: list[tuple[float, float, float]] = []
    beside: dict[str, int] = {}
    for t in records:
        steps = sorted(t["steps"] + t.get("committer", []), key=lambda s: s[1])
        for start, end in itertools.pairwise(steps):
            label = SEGMENTS.get((start[0], end[0]), f"{start[0]} -> {end[0]}")
            earlier = [s for s in steps if s[2] == end[2] and s[1] < end[1]]
            ref = start if start[2] == end[2] else (earlier[-1] if earlier else end)
            rows.setdefault(label, []).append(
                ((end[1] - start[1]) * 1e3, (end[3] - ref[3]) / 1e6, (end[5] - start[5]) / 1e6)
            )
        cpu = 0.0
        for tid in {s[2] for s in steps}:
            mine = [s for s in steps if s[2] == tid]
            cpu += (mine[-1][3] - mine[0][3]) / 1e6
        first, last = steps[0][1], t["steps"][-1][1]
        wait = (t["steps"][-1][5] - steps[0][5]) / 1e6
        totals.append(((last - first) * 1e3, cpu, wait))
        for s0, s1, p in spans:
            if s0 < last and s1 > first and (s0, p) != (first, t["path"]):
                beside[p] = beside.get(p, 0) + 1
    out = [
        f"{len(records)} records (ms; median, then mean): wall time, CPU time of the thread that ends "
        "the step, run-queue wait of all the server's threads"
    ]
    for label, values in rows.items():
        if len(values) * 2 >= len(records):  # a step most records took
            cols = list(zip(*values, strict=True))
            med = " ".join(f"{_median(list(c)):6.2f}" for c in cols)
            mean = " ".join(f"{sum(c) / len(c):6.2f}" for c in cols)
            out.append(f"  {label:34} {med}   {mean}")
    cols = list(zip(*totals, strict=True))
    med = " ".join(f"{_median(list(c)):6.2f}" for c in cols)
    mean = " ".join(f"{sum(c) / len(c):6.2f}" for c in cols)
    out.append(f"  {'whole request (CPU: all threads)':34} {med}   {mean}")
    named = ", ".join(f"{p} {n}" for p, n in sorted(beside.items(), key=lambda x: -x[1]))
    out.append(f"  requests in flight beside them: {named or 'none'}")
    return out

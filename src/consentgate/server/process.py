"""The app as one server process runs it: built once, then kept out of the garbage collector's way.

An app holds about 170,000 long-lived objects (FastAPI's routes and schemas, pydantic validators,
SQLAlchemy's tables and caches, the policy). CPython's full collections walk all of them — about 85 ms
on a small machine, during which the process answers nothing — although none of them will ever be
garbage. :func:`gc.freeze` moves everything alive at start-up to a generation the collector never
scans, so full collections look only at what requests left behind (about 4 ms instead of 85-130 ms,
measured in-process over 8,000 submissions), and the latency tail loses those pauses.

The youngest generation is collected after 10,000 net allocations instead of 700: a request's objects
are almost all freed by reference counting, yet at 700 a collection ran every ~20 submissions and took
about 0.7 ms each time. Collection itself stays on: cyclic garbage is collected as before.

The GIL switch interval is 1 ms instead of 5: on PostgreSQL every decision waits for a read of the
ledger's heads done in a worker thread (server/readcache.py), and a thread that has its answer waits
for the event loop, busy with requests, to hand over the GIL — up to a whole interval. Under load a
0.2 ms read was then waited for 19-31 ms (p99; benchmarks/reads_tail.py). Measured interleaved at the
same offered rate, the p99 of decisions at half rate fell from 13-60 ms to 10-29 ms
(docs/benchmarks.md, "The half-rate tail").
"""

from __future__ import annotations

import gc
import sys

from fastapi import FastAPI

from consentgate.server.app import create_app
from consentgate.service import preload_bulk_path
from consentgate.settings import Settings

YOUNG_THRESHOLD = 10_000
SWITCH_INTERVAL = 0.001


def serving_app(settings: Settings | None = None) -> FastAPI:
    """``create_app`` for a long-running server process (``consentgate serve``, one per worker)."""
    app = create_app(settings)
    app.openapi()  # built now, frozen with the rest, instead of on the first /openapi.json request
    preload_bulk_path()  # the same for pyarrow and the batch path (imported by a first large batch)
    gc.collect()  # start-up garbage goes now; what survives is frozen
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
    sys.setswitchinterval(SWITCH_INTERVAL)
    return app

"""Several server processes writing to one ledger keep one valid hash chain: no forks, no gaps.

Three real server processes start at the same moment on one *empty* database (so they also race to
migrate it), then clients spread over all three post single and batch submissions concurrently.
Afterwards there is exactly one chain: seq 1..N without gaps, each ``prev_hash`` the hash of the row
before, ``verify()`` passes, N equals the number of acknowledged events, every receipt matches its
stored row, and the three processes' writes are interleaved in it (so they really did contend).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest

from consentgate.auth.apikeys import create_key
from consentgate.ledger.chain import GENESIS
from consentgate.ledger.store import Ledger
from tests.durability.workload import Book, LedgerView, Writer, check_against_book, stop_writers
from tests.support.servers import NO_RATE_LIMITS, Server, kill_all, run_cli, start_servers

pytestmark = pytest.mark.slow

PROCESSES = 3
CLIENTS_PER_PROCESS = 3
REQUESTS_PER_CLIENT = 40


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres), "sqlite"])
def shared_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "ledger.db")
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def servers(shared_db: str, example_policy_path: Path, tmp_path: Path) -> Iterator[list[Server]]:
    # One of them appends without group commit: both write paths contend for the same head.
    envs = [
        {**NO_RATE_LIMITS, "CONSENTGATE_GROUP_COMMIT": "false" if i == 0 else "true"}
        for i in range(PROCESSES)
    ]
    started = start_servers(PROCESSES, shared_db, example_policy_path, tmp_path / "logs", extra_envs=envs)
    try:
        yield started
    finally:
        for s in started:
            s.stop()
        kill_all(started)


def test_three_processes_one_chain(shared_db: str, servers: list[Server], example_policy_path: Path) -> None:
    with Ledger.open(shared_db) as ledger:
        _, key = create_key(ledger.engine, "admin")
    book, stop = Book(), threading.Event()
    writers = [
        Writer(
            f"p{i % PROCESSES}c{i // PROCESSES}",
            servers[i % PROCESSES].base_url,
            key,
            book,
            stop,
            seed=i,
            limit=REQUESTS_PER_CLIENT,
            server=servers[i % PROCESSES].name,
        )
        for i in range(PROCESSES * CLIENTS_PER_PROCESS)
    ]
    began = time.monotonic()
    for w in writers:
        w.start()
    for w in writers:
        w.join(timeout=180)
    seconds = time.monotonic() - began
    stop_writers(writers, stop)

    sent = PROCESSES * CLIENTS_PER_PROCESS * REQUESTS_PER_CLIENT
    assert not book.bad_answers, book.bad_answers[:10]
    assert book.outcomes == {"201": sent}, f"every request is acknowledged: {dict(book.outcomes)}"

    view = LedgerView(shared_db)
    findings = check_against_book(view, book)
    findings.raise_if_any("three writers on one ledger")
    with Ledger.open(shared_db, migrate_schema=False) as ledger:
        rows = list(ledger.iter_events())
        report = ledger.verify()
        count = ledger.count()
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1)), "seq is 1..N without gaps"
    assert all(b.prev_hash == a.hash for a, b in pairwise(rows)), "each row links to the one before"
    assert rows[0].prev_hash == GENESIS
    assert report.ok, report.to_json()
    assert count == len(rows) == report.checked == len(book.acked) == view.head_seq

    # The processes took turns at the head many times: they wrote concurrently, not one after another.
    writer_of = {a.event_id: a.server for a in book.acked.values()}
    order = [writer_of[r.event_id] for r in rows]
    assert set(order) == {s.name for s in servers}
    turns = sum(1 for a, b in pairwise(order) if a != b)
    assert turns >= 2 * PROCESSES, f"writes of the processes barely interleave ({turns} turns)"

    verified = run_cli(shared_db, example_policy_path, "ledger", "verify")
    assert verified.returncode == 0, verified.stderr
    print(
        f"\n{PROCESSES} processes, {sent} requests, {count} events in {seconds:.1f}s; "
        f"the head changed hands {turns} times"
    )

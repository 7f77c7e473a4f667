"""The hostile network of issue 13 (item 5) against ``consentgate serve`` as shipped, on loopback.

Every loop here is bounded by a count; waits are bounded by socket timeouts. Nothing asserts how fast
anything is: only what the server answered, whether it closed a connection, and how much memory it
holds (a loose bound).
"""

from __future__ import annotations

import contextlib
import json
import selectors
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from consentgate.auth.apikeys import create_key
from consentgate.ledger.store import Ledger
from tests.support.servers import NO_RATE_LIMITS, Server, spawn_server

from .conftest import ago

HEAD_TIMEOUT = 2.0
PER_IP = 16


@pytest.fixture
def served(tmp_path: Path, example_policy_path: Path) -> Iterator[tuple[Server, str]]:
    """``consentgate serve`` with a short head deadline and a small per-address cap, to keep tests short."""
    db = str(tmp_path / "ledger.db")
    with Ledger.open(db) as ledger:
        _, key = create_key(ledger.engine, "admin")
    env = {
        **NO_RATE_LIMITS,
        "CONSENTGATE_HEAD_TIMEOUT_SECONDS": str(HEAD_TIMEOUT),
        "CONSENTGATE_MAX_CONNECTIONS_PER_IP": str(PER_IP),
    }
    server = spawn_server(db, example_policy_path, tmp_path, via="cli", extra_env=env)
    try:
        yield server.wait_ready(60), key
    finally:
        server.stop()


def connect(server: Server, source: str = "127.0.0.1", timeout: float = 10.0) -> socket.socket:
    """A raw connection from ``source`` (any 127.x address is loopback on Linux)."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=timeout, source_address=(source, 0))
    sock.settimeout(timeout)
    return sock


def read_answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes (or the timeout); b"" when it sent nothing."""
    chunks = []
    with contextlib.suppress(ConnectionResetError, TimeoutError):
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def closed_answers(socks: list[socket.socket], wait: float) -> list[bytes]:
    """What each socket received before the server closed it; sockets still open after ``wait`` are
    left out, so a server that never closes them shows as missing answers."""
    received: dict[socket.socket, bytes] = {}
    with selectors.DefaultSelector() as sel:
        for sock in socks:
            sock.setblocking(False)
            sel.register(sock, selectors.EVENT_READ)
            received[sock] = b""
        done: list[bytes] = []
        for _ in range(int(wait / 0.1)):  # bounded
            for key, _events in sel.select(timeout=0.1):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    chunk = sock.recv(65536)
                except (ConnectionResetError, BlockingIOError):
                    chunk = b""
                if chunk:
                    received[sock] += chunk
                else:
                    sel.unregister(sock)
                    done.append(received[sock])
            if len(done) == len(socks):
                break
    return done


def status_of(answer: bytes) -> int | None:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else None


def request(server: Server, raw: bytes, source: str = "127.0.0.1") -> bytes:
    with connect(server, source) as sock:
        sock.sendall(raw)
        return read_answer(sock)


def healthz(server: Server, source: str = "127.0.0.2") -> int | None:
    return status_of(
        request(server, b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", source)
    )


def submit(server: Server, key: str, source: str = "127.0.0.2") -> int | None:
    body = json.dumps(
        {
            "subject": "net-1@example.com",
            "occurred_at": ago(minutes=1),
            "choices": [{"purpose": "security", "action": "object"}],
        }
    ).encode()
    head = (
        f"POST /v1/consents HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    return status_of(request(server, head + body, source))


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS line")


def test_a_header_line_that_never_ends_is_cut_off_and_memory_stays_bounded(
    served: tuple[Server, str],
) -> None:
    server, _ = served
    before = rss_kib(server.pid)
    sent = 0
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Filler: ")
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            for _ in range(128):  # up to 8 MiB of one header line, never ended
                sock.sendall(b"a" * 65536)
                sent += 65536
        answer = read_answer(sock)
    # Either the 431 arrived, or the server closed the connection while we were still sending.
    assert status_of(answer) == 431 or sent < 128 * 65536, (sent, answer[:200])
    if answer:
        assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]["code"] == "headers_too_large"
    assert rss_kib(server.pid) - before < 32 * 1024  # far below the 8 MiB sent, let alone copies of it
    assert healthz(server) == 200


def test_too_many_header_fields_or_too_large_a_head_answer_431(served: tuple[Server, str]) -> None:
    server, _ = served
    fields = b"".join(b"X-Field-%d: 1\r\n" % i for i in range(101))
    answer = request(server, b"GET /healthz HTTP/1.1\r\nHost: t\r\n" + fields + b"\r\n")
    assert status_of(answer) == 431
    assert b"more than 100 header fields" in answer
    big = b"X-Big: " + b"b" * 17_000 + b"\r\n"  # one complete field over the 16 KiB head limit
    answer = request(server, b"GET /healthz HTTP/1.1\r\nHost: t\r\n" + big + b"\r\n")
    assert status_of(answer) == 431
    assert b"larger than 16384 bytes" in answer
    # What a browser sends still passes: a few KiB of cookies over 40 fields.
    ordinary = b"".join(b"X-Ordinary-%d: %s\r\n" % (i, b"c" * 100) for i in range(40))
    answer = request(
        server, b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n" + ordinary + b"\r\n"
    )
    assert status_of(answer) == 200


def test_a_slowloris_is_cut_off_while_others_are_served(served: tuple[Server, str]) -> None:
    """200 connections from 50 addresses (under the per-address cap), each trickling its headers a
    byte at a time: the server keeps answering others, and closes every one at the head deadline.
    (One slow head answered 408 is checked by test_an_unfinished_head_gets_408.)"""
    server, key = served
    slow = [connect(server, f"127.0.1.{1 + i % 50}", timeout=5) for i in range(200)]
    try:
        for sock in slow:
            sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        answers = []
        cut: set[int] = set()
        for _round in range(int(HEAD_TIMEOUT / 0.25) * 3):  # bounded: three deadlines' worth of bytes
            for i, sock in enumerate(slow):
                if i not in cut:
                    try:
                        sock.sendall(b"X")
                    except OSError:
                        cut.add(i)
            answers.append((healthz(server), submit(server, key)))
            time.sleep(0.25)
        assert set(answers) == {(200, 201)}, answers
        # Past the deadline the server has answered 408 and closed each one: collect what they got,
        # all at once, for at most a few seconds.
        answers_of = closed_answers([sock for i, sock in enumerate(slow) if i not in cut], wait=5.0)
        assert len(cut) + len(answers_of) == len(slow), f"{len(slow) - len(cut) - len(answers_of)} still open"
        # A 408 is sent before the close, but the bytes we kept trickling make the kernel reset the
        # connection, which may drop it before we read it: closed is what counts.
        assert {status_of(a) for a in answers_of} <= {408, None}
    finally:
        for sock in slow:
            sock.close()


def test_one_address_cannot_take_every_connection(served: tuple[Server, str]) -> None:
    server, _ = served
    held = [connect(server) for _ in range(PER_IP)]
    try:
        # Each held connection still works (keep-alive): the cap refuses only what comes after.
        for sock in held[:2]:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            assert sock.recv(12).startswith(b"HTTP/1.1 200")
        refused = 0
        for _ in range(8):
            with connect(server) as extra:
                with contextlib.suppress(OSError):
                    extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                refused += status_of(read_answer(extra)) is None
        assert refused == 8
        assert healthz(server, "127.0.0.2") == 200  # another address is served
    finally:
        for sock in held:
            sock.close()
    for _ in range(50):  # once they are closed, the address may connect again (bounded wait)
        if healthz(server, "127.0.0.1") == 200:
            break
        time.sleep(0.1)
    assert healthz(server, "127.0.0.1") == 200


def test_an_unfinished_head_gets_408(served: tuple[Server, str]) -> None:
    server, _ = served
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n")  # and then nothing
        answer = read_answer(sock)  # the socket timeout (10 s) bounds this; the deadline is 2 s
    assert status_of(answer) == 408
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]["code"] == "request_timeout"

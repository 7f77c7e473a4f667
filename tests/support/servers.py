"""The one launcher of real consentgate server processes: start, wait for ``/healthz``, kill, restart.

Every test that needs a server over a real socket starts it here (the crash and multi-writer tests,
the network limits, logging, chain guard and real-server checks, the browser tests); it is meant for
the load benchmark too: nothing here imports pytest, and every failure is a ``RuntimeError`` carrying
the end of the server's log.

Two ways to launch a server, both the ones people use:

* ``via="uvicorn"``: ``python -m uvicorn --factory consentgate.server.app:create_app --host 127.0.0.1
  --port P`` with the settings in ``CONSENTGATE_DB`` / ``CONSENTGATE_POLICY``;
* ``via="cli"``: ``consentgate --db URL --policy FILE serve --host 127.0.0.1 --port P``.

``P`` is a free loopback port; a server is ready only when ``/healthz`` answers *and* the answering
socket is the child's own (another process may take the port between choosing and binding it; then
another port is tried). Not ``uvicorn --fd`` with a socket bound here: uvicorn wraps such a socket as
AF_UNIX, so asyncio never sets TCP_NODELAY and every answer waits ~40 ms for a delayed ACK.

Logs go to a file, never to a pipe nobody reads (a full pipe would stall the server). By default a
server logs at ``warning`` without uvicorn's access log and seals its ledger with a key of its own
(as deployed); tests of logging or of an unsealed ledger say otherwise (``uvicorn_args``, ``seal``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypedDict, Unpack

import httpx

from consentgate.ledger.signing import create_key
from tests.support import free_port

PYTHON = sys.executable
CONSENTGATE = str(Path(sys.executable).with_name("consentgate"))
Launch = Literal["uvicorn", "cli"]
# Durability and contention are the point of these servers, not abuse limits: writers hammer them
# with one key from one address, which the per-key and per-address rate limits would refuse.
NO_RATE_LIMITS = {"CONSENTGATE_RATE_PER_KEY": "0", "CONSENTGATE_RATE_PER_IP": "0"}
QUIET_UVICORN = ("--no-access-log", "--log-level", "warning")


def client(base_url: str, key: str | None = None, *, timeout: float = 30.0) -> httpx.Client:
    """An HTTP client for one server: loopback only, never through a proxy from the environment."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(base_url=base_url, headers=headers, timeout=timeout, trust_env=False)


def server_env(
    db: str, policy: Path | str, extra: Mapping[str, str] | None = None, *, seal: bool = True
) -> dict[str, str]:
    """The environment of a server or CLI process on ``db``: ours only (no ``CONSENTGATE_`` setting
    leaks in from the caller's environment), sealing with the database's own key unless ``seal`` is off."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONSENTGATE_")}
    env.update(CONSENTGATE_DB=db, CONSENTGATE_POLICY=str(policy), PYTHONUNBUFFERED="1")
    if seal:  # servers seal as deployed; `ledger verify` exits 0
        env.update(CONSENTGATE_LEDGER_KEY=str(ledger_key_for(db)))
    env.update(extra or {})
    return env


def run_cli(db: str, policy: Path | str, *args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    """``consentgate --db DB ARGS`` with the environment (and ledger key) of the servers on ``db``."""
    cmd = [CONSENTGATE, "--db", db, *args]
    env = server_env(db, policy)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def ledger_key_for(db: str) -> Path:
    """One ledger key per database, made on first use, so servers and CLI runs on it sign alike."""
    name = hashlib.sha256(db.encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / "consentgate-test-keys" / f"{name}.key"
    if not path.exists():
        create_key(path)
    return path


@dataclass
class Server:
    """One server process. ``kill()`` is SIGKILL: no shutdown hooks, no flushing, like a power cut
    for the process (the operating system and the database keep what was already handed to them)."""

    proc: subprocess.Popen[bytes]
    base_url: str
    log_path: Path
    db: str
    name: str = "server"
    started: float = field(default_factory=time.monotonic)

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self, timeout: float = 15.0, *, sig: signal.Signals = signal.SIGTERM) -> None:
        """Graceful stop (SIGTERM, or ``sig``: SIGINT is Ctrl+C), then SIGKILL if it does not go in time."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def wait_ready(self, timeout: float = 90.0, *, statuses: Collection[int] = (200,)) -> Server:
        """Until ``/healthz`` answers one of ``statuses`` (it reads the ledger head, so the database is
        reachable; 503 means the hash chain is broken or still being verified)."""
        deadline = time.monotonic() + timeout
        with client(self.base_url, timeout=2.0) as c:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(
                        f"{self.name} exited with {self.proc.returncode} before it was ready; "
                        f"log:\n{self.log_tail()}"
                    )
                try:
                    # The port is chosen free, then bound by the child: make sure it is this child
                    # that answers, not another process that took the port in between.
                    answer = c.get("/healthz").status_code
                    if answer in statuses and self.port in listening_ports(self.pid):
                        return self
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    self.kill()
                    raise RuntimeError(
                        f"{self.name} not ready after {timeout:.0f} s; log:\n{self.log_tail()}"
                    )
                time.sleep(0.03)


class Options(TypedDict, total=False):
    """How to launch a server: ``name`` (of its log file), ``via`` (uvicorn or the CLI), ``extra_env``
    (settings), ``uvicorn_args`` (after ``--port``; QUIET_UVICORN by default), ``seal`` (a ledger key)."""

    name: str
    via: Launch
    extra_env: Mapping[str, str] | None
    uvicorn_args: Sequence[str]
    seal: bool


def spawn_server(
    db: str,
    policy: Path | str,
    log_dir: Path,
    *,
    name: str = "server",
    via: Launch = "uvicorn",
    extra_env: Mapping[str, str] | None = None,
    uvicorn_args: Sequence[str] = QUIET_UVICORN,
    seal: bool = True,
) -> Server:
    """Start a server process and return at once; call ``wait_ready()`` before sending it requests."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    env = server_env(db, policy, extra_env, seal=seal)
    port = free_port()
    if via == "uvicorn":
        app = "consentgate.server.app:create_app"
        cmd = [PYTHON, "-m", "uvicorn", "--factory", app, "--host", "127.0.0.1", "--port", str(port),
               *uvicorn_args]  # fmt: skip
    else:
        cmd = [CONSENTGATE, "--db", db, "--policy", str(policy), "serve", "--host", "127.0.0.1",
               "--port", str(port)]  # fmt: skip
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    return Server(proc, f"http://127.0.0.1:{port}", log_path, db, name)


def start_server(
    db: str, policy: Path | str, log_dir: Path, *, timeout: float = 90.0, **options: Unpack[Options]
) -> Server:
    """Start a server (``spawn_server``'s options) and wait until it answers; try another port if
    someone took this one."""
    for attempt in range(3):
        server = spawn_server(db, policy, log_dir, **options)
        try:
            return server.wait_ready(timeout)
        except RuntimeError:
            server.kill()
            if attempt == 2 or "address already in use" not in server.log_tail().lower():
                raise
    raise AssertionError("unreachable")


def listening_ports(pid: int) -> set[int]:
    """TCP ports a process listens on, from /proc (Linux)."""
    inodes: set[str] = set()
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    ports: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as fh:
            next(fh)
            for line in fh:
                parts = line.split()
                if parts[3] == "0A" and parts[9] in inodes:  # 0A = LISTEN
                    ports.add(int(parts[1].rsplit(":", 1)[1], 16))
    return ports


def start_servers(
    n: int,
    db: str,
    policy: Path | str,
    log_dir: Path,
    *,
    timeout: float = 120.0,
    prefix: str = "server",
    extra_envs: Sequence[Mapping[str, str]] | None = None,
) -> list[Server]:
    """``n`` servers on one database, started at the same moment (they race to migrate it);
    ``extra_envs`` gives each its own extra environment (settings)."""
    envs = list(extra_envs or [{}] * n)
    servers = [spawn_server(db, policy, log_dir, name=f"{prefix}-{i}", extra_env=envs[i]) for i in range(n)]
    try:
        for i, s in enumerate(servers):
            try:
                s.wait_ready(timeout)
            except RuntimeError:
                if "address already in use" not in s.log_tail().lower():
                    raise
                servers[i] = start_server(
                    db, policy, log_dir, name=s.name, extra_env=envs[i], timeout=timeout
                )
    except BaseException:
        kill_all(servers)
        raise
    return servers


def kill_all(servers: Iterable[Server | None]) -> None:
    """SIGKILL every server still running; for ``finally`` blocks, so it never raises."""
    for s in servers:
        if s is not None:
            with contextlib.suppress(Exception):
                s.kill()

"""The one PostgreSQL launcher of the tests and benchmarks: throw-away clusters started with initdb/pg_ctl.

No Docker, no system service: the tests create a cluster in a temporary directory, listen only on
127.0.0.1 and a Unix socket in that directory, and remove it afterwards. As root the server runs
as the ``postgres`` system user (PostgreSQL refuses to run as root).

Most tests share one cluster for the session (``pg_cluster`` in tests/conftest.py, a schema per test);
a test that kills PostgreSQL asks for a private one (``crashable_pg``, the same launcher) and crashes
and restarts it with ``PgCluster.crash`` and ``PgCluster.restart``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support import free_port


def pg_bin_dir() -> Path | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


class PgCluster:
    def __init__(self) -> None:
        bindir = pg_bin_dir()
        if bindir is None:
            raise RuntimeError(
                "PostgreSQL server binaries (initdb, pg_ctl) not found; run `make system-deps`"
            )
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="consentgate-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "log"
        self.port = free_port()
        self.user = None
        if os.geteuid() == 0:
            self.user = "postgres"
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=timeout)

    def _pg_ctl_start(self, wait_seconds: int) -> None:
        opts = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c max_connections=200 -c shared_buffers=64MB"
        )
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l", str(self.log),
                      "-w", "-t", str(wait_seconds), "start", timeout=wait_seconds + 60)  # fmt: skip
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(f"pg_ctl start failed: {exc.stdout}{exc.stderr}\n{self.log_tail()}") from exc
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"PostgreSQL does not accept connections; log: {self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else "(no log)"

    def start(self) -> PgCluster:
        initdb = str(self.bindir / "initdb")
        self._run(initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        self._pg_ctl_start(60)
        return self

    def restart(self) -> None:
        """Start the cluster again after ``crash()``: it replays its WAL first."""
        self._pg_ctl_start(120)

    def crash(self, timeout: float = 30.0) -> int:
        """SIGKILL the postmaster and every backend at once — what an OOM kill or a power cut does to
        the processes. Returns how many processes were killed. PostgreSQL must recover from its WAL."""
        pid = postmaster_pid(self.data)
        if pid is None or not _pid_alive(pid):
            raise RuntimeError(f"no running postmaster for {self.data}")
        victims = [pid, *_children(pid)]
        for p in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, signal.SIGKILL)
        deadline = time.monotonic() + timeout
        while any(_pid_alive(p) for p in victims):
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL processes {victims} survived SIGKILL for {timeout:.0f} s")
            time.sleep(0.02)
        # The dead postmaster stays a zombie until its parent (often PID 1 of a container) reaps it, and
        # while it does, PostgreSQL takes its stale lock files for a live server's. Give the reaper a few
        # seconds; if it is slower, remove the lock files as an operator would once the processes are gone.
        reap_deadline = time.monotonic() + 5
        while Path(f"/proc/{pid}").exists() and time.monotonic() < reap_deadline:
            time.sleep(0.02)
        if Path(f"/proc/{pid}").exists():
            for lock in [self.data / "postmaster.pid", *self.root.glob(".s.PGSQL.*.lock")]:
                lock.unlink(missing_ok=True)
        return len(victims)

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


# -- the processes of a cluster, from /proc (Linux), to crash it for real -----------------------------


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                # The command name may contain spaces; the fields after its closing paren do not.
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry))
    return out


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (killed, not yet reaped by its parent) is gone for our purposes.
    with contextlib.suppress(OSError, IndexError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return False


def postmaster_pid(data_dir: Path) -> int | None:
    try:
        return int((data_dir / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None

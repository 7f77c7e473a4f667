"""CLI start-up: `consentgate --version`, `--help` and one `decide` on SQLite against a bare Python.

Issue 18's targets: `--version` and `--help` within 15x a bare `python -c pass` measured in the same
run, and `decide` for one subject on SQLite within 0.5 s. Every figure is the median wall time of
``--runs`` fresh processes, the contestants interleaved round by round so that load from other
processes on the machine falls on all of them alike.

With ``--before REF`` the same commands also run from the source of a git ref (default ``main``),
exported with ``git archive`` into a temporary directory and put first on ``PYTHONPATH``: the same
interpreter and installed libraries, only consentgate's own code differs. Both sides are started as
``python -c "from consentgate.cli import main; main()" ARGS``, which is what the console script does.

    .venv/bin/python benchmarks/startup.py --runs 15 --before main
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PURPOSE = "train_support_chatbot"
CLI = "from consentgate.cli import main; main()"
TARGET_RATIO = 15.0  # --version / --help against `python -c pass`
TARGET_DECIDE_S = 0.5


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one process. CPU is reported beside wall because on
    a shared machine the wall time of a short process is mostly waiting for a core."""
    cpu0, started = _cpu_of_children(), time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed, cpu = time.perf_counter() - started, _cpu_of_children() - cpu0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.decode()[-500:]}")
    return elapsed, cpu


def _source_of(ref: str, into: Path) -> Path:
    """The ``src`` directory of ``ref``, exported without touching any worktree."""
    archive = subprocess.run(["git", "archive", ref, "src"], cwd=ROOT, capture_output=True, check=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def _ledger(work: Path, env: dict[str, str]) -> None:
    """A SQLite ledger with the example policy and one recorded choice, made with this checkout."""
    py = sys.executable
    subprocess.run([py, "-c", CLI, "init", str(work)], env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(
        [py, "-c", CLI, "record", "--subject", "user-42", "--action", "grant", "--purpose", PURPOSE,
         "--notice-version", "2", "--region", "DE"],
        env=env, cwd=work, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15, help="processes per contestant (median taken)")
    parser.add_argument("--before", metavar="REF", help="also time the CLI of this git ref, e.g. main")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="cg-startup-") as tmp:
        work = Path(tmp) / "site"
        sides = {"after": ROOT / "src"}
        if args.before:
            sides["before"] = _source_of(args.before, Path(tmp) / "before")
        envs = {side: {**os.environ, "PYTHONPATH": str(src)} for side, src in sides.items()}
        _ledger(work, envs["after"])
        py = sys.executable
        commands = {
            "--version": ["--version"],
            "--help": ["--help"],
            "decide": ["decide", "--subject", "user-42", "--purpose", PURPOSE, "--json"],
        }
        contestants: dict[str, tuple[list[str], dict[str, str]]] = {
            "python -c pass": ([py, "-c", "pass"], envs["after"])
        }
        for side in sides:
            for name, argv in commands.items():
                contestants[f"{side}: consentgate {name}"] = ([py, "-c", CLI, *argv], envs[side])
        times: dict[str, list[float]] = {name: [] for name in contestants}
        cpus: dict[str, list[float]] = {name: [] for name in contestants}
        for argv, env in contestants.values():  # one warm-up each: file cache, .pyc files
            _run(argv, env, work)
        for _ in range(args.runs):
            for name, (argv, env) in contestants.items():
                wall, cpu = _run(argv, env, work)
                times[name].append(wall)
                cpus[name].append(cpu)

    base = statistics.median(times["python -c pass"])
    load = os.getloadavg()[0]
    print(f"median of {args.runs} runs each, interleaved; python {sys.version.split()[0]}; "
          f"{os.cpu_count()} cores, load average {load:.1f} at the end")  # fmt: skip
    print(f"{'contestant':34} {'wall s':>7} {'x pass':>7} {'cpu s':>6}  target (on wall time)")
    for name, samples in times.items():
        med = statistics.median(samples)
        cpu = statistics.median(cpus[name])
        target = ""
        if name.endswith(("--version", "--help")):
            target = f"<= {TARGET_RATIO:g}x: {'met' if med / base <= TARGET_RATIO else 'MISSED'}"
        elif name.endswith("decide"):
            target = f"<= {TARGET_DECIDE_S} s: {'met' if med <= TARGET_DECIDE_S else 'MISSED'}"
        print(f"{name:34} {med:7.3f} {med / base:7.1f} {cpu:6.3f}  {target}")


if __name__ == "__main__":
    main()

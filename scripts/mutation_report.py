"""Mutation scores per core module from a finished `mutmut run`, with reviewed equivalent mutants.

mutmut counts a mutant the tests cannot tell apart from the original as "survived", whether the
tests are weak or the mutant means the same thing (an equivalent mutant). This script applies the
committed list of equivalent mutants (tests/mutation/equivalent.toml: each entry says why, and which
change it is), so the score says what the tests would notice, and fails when a module falls below
the threshold. An entry whose mutant no longer exists, is now killed, or is now a different change
(mutmut numbers mutants by position, so editing the module renumbers them) is reported as stale and
fails the run too: an explanation must never outlive the code it explains.

Usage (after `mutmut run`, from the project root): python scripts/mutation_report.py [--threshold 95]
[--module ledger/chain.py ...] [--mutants DIR] [--earlier DIR ...]
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import sys
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

MUTANTS = Path("mutants")
EQUIVALENT = Path("tests/mutation/equivalent.toml")


@dataclass(frozen=True)
class Module:
    """A scored unit: a source file, optionally narrowed to some of its functions."""

    name: str
    path: str  # as under src/
    functions: tuple[str, ...] = ()  # mutmut's function names (``x_name`` / ``xǁClassǁmethod``); () = all

    def covers(self, key: str) -> bool:
        module = self.path.removesuffix(".py").replace("/", ".")
        if not key.startswith(module + ".x"):
            return False
        func = key[len(module) + 1 :].rsplit("__mutmut_", 1)[0]
        return not self.functions or any(func == f or func.startswith(f + "ǁ") for f in self.functions)


# The snapshot's bulk decision path: from the ledger's events and alias links to one decision per
# identifier (full build and incremental update). Writing, reading and metadata plumbing are
# covered by their own tests, outside this gate.
SNAPSHOT_DECISION_PATH = (
    "x_build_snapshot",
    "xǁ_Contextǁnext_reconsent_us",
    "xǁ_Rowsǁadd_person",
    "x__decide_person",
    "x__default_decision",
    "x__events_until",
    "xǁ_Groupsǁ__init__",
    "xǁ_Groupsǁ_stars",
    "xǁ_Groupsǁ_union_find",
    "xǁ_Groupsǁmembers",
    "xǁ_Groupsǁperson",
    "xǁ_Groupsǁids_of",
    "x__full",
    "x__why_full_rebuild",
    "x__update",
    "x__regrouped",
)

MODULES = (
    Module("decide.py", "consentgate/decide.py"),
    Module("ledger/chain.py", "consentgate/ledger/chain.py"),
    Module("ledger/intake.py", "consentgate/ledger/intake.py"),
    Module("ledger/signals.py", "consentgate/ledger/signals.py"),
    Module("snapshot decision path", "consentgate/pipeline/snapshot.py", SNAPSHOT_DECISION_PATH),
)

# mutmut's exit codes (mutmut/stats.py); anything else is "suspicious" and counts as not killed.
KILLED = {1, 3, 37}
SURVIVED = {0}
NO_TESTS = {5, 33}
TIMEOUT = {24, -24, 36, 152, 255}


@dataclass
class Score:
    mutants: int = 0
    killed: int = 0
    timeout: int = 0  # the tests ran 15 times longer than unmutated (an endless loop): noticed
    equivalent: int = 0
    survived: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)  # no test reached it, suspicious, not run

    @property
    def score(self) -> float:
        noticed = self.killed + self.timeout + self.equivalent
        return 100.0 * noticed / self.mutants if self.mutants else 100.0


def changes(mutated_source: str) -> dict[str, str]:
    """Each mutant's change as ``- old / + new`` lines, read from mutmut's mutated copy of a module.

    mutmut writes every mutant as a copy of the function (``x_f__mutmut_3`` beside
    ``x_f__mutmut_orig``); the lines that differ identify the change independently of its number.
    """
    tree = ast.parse(mutated_source)
    funcs: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and "__mutmut_" in node.name:
            # Parameters (defaults are mutated too) and body; not the name, which differs on every copy.
            lines = [f"({ast.unparse(node.args)})", *(ast.unparse(stmt) for stmt in node.body)]
            funcs[node.name] = "\n".join(lines)
    out: dict[str, str] = {}
    for name, body in funcs.items():
        base, _, tail = name.rpartition("__mutmut_")
        if tail == "orig":
            continue
        orig = funcs.get(f"{base}__mutmut_orig", "")
        diff = difflib.ndiff(orig.splitlines(), body.splitlines())
        out[name] = "\n".join(line[0] + " " + line[2:].strip() for line in diff if line[:1] in "-+")
    return out


def load_results(module: Module, mutants: Path) -> tuple[dict[str, int | None], dict[str, str]]:
    """``(exit code by mutant, change by mutant)`` for the mutants of a module."""
    meta = mutants / "src" / (module.path + ".meta")
    if not meta.exists():
        raise SystemExit(f"{meta}: no mutmut results; run `make mutation` (or `mutmut run`) first")
    codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
    prefix = module.path.removesuffix(".py").replace("/", ".")
    source = (mutants / "src" / module.path).read_text()
    diffs = {f"{prefix}.{name}": change for name, change in changes(source).items()}
    return {k: v for k, v in codes.items() if module.covers(k)}, diffs


def carry_killed(module: Module, codes: dict[str, int | None], diffs: dict[str, str], folder: Path) -> None:
    """Take the *killed* verdict of an earlier run for each mutant this run did not run.

    Sound only when the earlier run mutated the same code (checked: the same change under the same
    name) and the tests since then were only added to, never removed or weakened: a test that failed
    on a mutant still fails. A survived verdict is never carried: new tests may kill it.
    """
    old_codes, old_diffs = load_results(module, folder)
    for key, code in codes.items():
        if code is None and old_codes.get(key) in KILLED | TIMEOUT and old_diffs.get(key) == diffs.get(key):
            codes[key] = old_codes[key]


def load_equivalent(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    raw = tomllib.loads(path.read_text())
    entries: dict[str, dict[str, str]] = raw.get("mutant", {})
    for name, entry in entries.items():
        if not str(entry.get("why", "")).strip() or not str(entry.get("change", "")).strip():
            raise SystemExit(f"{path}: {name} needs both 'why' (the reason) and 'change' (the mutation)")
    return entries


def report(
    modules: Iterable[Module],
    equivalent: dict[str, dict[str, str]],
    *,
    mutants: Path = MUTANTS,
    threshold: float = 95.0,
    verbose: bool = False,
    stub: bool = False,
    earlier: Iterable[Path] = (),
) -> int:
    status = 0
    modules = list(modules)
    earlier = list(earlier)
    seen: set[str] = set()
    rows = []
    stale: list[str] = []
    for module in modules:
        codes, diffs = load_results(module, mutants)
        for folder in earlier:
            carry_killed(module, codes, diffs, folder)
        s = Score()
        for key, code in sorted(codes.items()):
            s.mutants += 1
            entry = equivalent.get(key)
            if entry is not None:
                seen.add(key)
            if code in KILLED:
                s.killed += 1
                if entry is not None:
                    stale.append(f"{key}: listed as equivalent but now killed; remove the entry")
            elif code in SURVIVED and entry is not None:
                if entry["change"].strip() != diffs.get(key, "").strip():
                    stale.append(f"{key}: the mutant is now a different change; review it again")
                    s.survived.append(key)
                else:
                    s.equivalent += 1
            elif code in SURVIVED:
                s.survived.append(key)
            elif code in TIMEOUT:
                s.timeout += 1
            else:
                s.other.append(key)
        rows.append((module, s, diffs))
        if s.score < threshold:
            status = 1
    for key in sorted(k for k in set(equivalent) - seen if any(m.covers(k) for m in modules)):
        stale.append(f"{key}: listed as equivalent but no such mutant exists (any more)")

    if stub:
        for _, s, diffs in rows:
            for key in s.survived:
                # A TOML literal string: changes hold backslashes ("\n" in code) that must stay as they are.
                quote = "'''"
                print(f'\n[mutant."{key}"]\nwhy = ""\nchange = {quote}\n{diffs.get(key, "")}\n{quote}')
        return status
    heads = ("mutants", "killed", "timeout", "equiv.", "survived", "other")
    print(f"{'module':<24} " + " ".join(f"{h:>8}" for h in heads) + f" {'score':>8}")
    for module, s, _ in rows:
        counts = (s.mutants, s.killed, s.timeout, s.equivalent, len(s.survived), len(s.other))
        print(f"{module.name:<24} " + " ".join(f"{n:>8}" for n in counts) + f" {s.score:>7.1f}%")
    print(f"score = (killed + timeout + reviewed equivalent) / mutants; threshold {threshold:g}% per module")
    for module, s, diffs in rows:
        if verbose or s.score < threshold:
            for key in s.survived:
                change = diffs.get(key, "?").replace("\n", "\n    ")
                print(f"  survived ({module.name}): {key}\n    {change}")
            for key in s.other:
                print(f"  not killed (no test reached it, suspicious or not run): {key}")
    if stale:
        status = 1
        print(f"\n{len(stale)} stale entr(ies) in {EQUIVALENT}:")
        for line in stale:
            print(f"  {line}")
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--threshold", type=float, default=95.0, help="minimum score per module, in percent")
    parser.add_argument("--equivalent", type=Path, default=EQUIVALENT, help="the reviewed equivalent mutants")
    parser.add_argument("--mutants", type=Path, default=MUTANTS, help="mutmut's work folder")
    parser.add_argument(
        "--stub", action="store_true", help="print entries to review for equivalent.toml, one per survivor"
    )
    parser.add_argument(
        "--earlier",
        type=Path,
        action="append",
        default=[],
        help="an earlier run's mutants/ folder: its killed verdicts fill in mutants this run did not run "
        "(only when the tests were only added to since)",
    )
    parser.add_argument(
        "--module",
        action="append",
        default=[],
        choices=[m.name for m in MODULES],
        help="score only this module (repeatable), e.g. after `mutmut run 'consentgate.ledger.chain.*'`; "
        "its entries in equivalent.toml are checked, the others are left alone",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="list survivors of every module")
    args = parser.parse_args(argv)
    equivalent = load_equivalent(args.equivalent)
    return report(
        [m for m in MODULES if m.name in args.module] if args.module else MODULES,
        equivalent,
        mutants=args.mutants,
        threshold=args.threshold,
        verbose=args.verbose,
        stub=args.stub,
        earlier=args.earlier,
    )


if __name__ == "__main__":
    sys.exit(main())

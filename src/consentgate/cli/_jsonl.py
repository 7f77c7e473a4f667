"""Read JSON Lines files with line numbers, so every problem can say where it is.

Files are read as bytes and decoded line by line: a stray non-UTF-8 byte then becomes a problem on
its own line instead of aborting the whole read, and the byte count drives the progress bar.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

from consentgate.errors import BadInput

# Below this a file reads in well under a second; a progress bar would only flicker.
BIG_FILE_BYTES = 4 * 1024 * 1024


@dataclass
class JsonLines:
    """Parsed lines as ``(line number, value)``, problems as ``(location, message)``."""

    rows: list[tuple[int, Any]] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    big: bool = False  # large (or of unknown size, like stdin): later stages show progress too


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


@contextmanager
def open_input(path: str) -> Iterator[tuple[IO[bytes], int | None]]:
    """The file (or stdin for ``-``) as bytes, with its size when known."""
    if path == "-":
        yield sys.stdin.buffer, None
        return
    p = Path(path)
    try:
        fh = p.open("rb")
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BadInput(f"{path}: is a directory, expected a .jsonl file") from None
    except OSError as exc:
        raise BadInput(f"{path}: cannot read: {exc.strerror or exc}") from None
    with fh:
        try:
            size: int | None = os.fstat(fh.fileno()).st_size
        except OSError:
            size = None
        yield fh, size


def make_progress(err: Console, *, enabled: bool, in_bytes: bool = False) -> Progress:
    """A progress display on stderr, shown only for big inputs and only when stderr is a terminal
    (a bar written into a log file or a pipe is noise)."""
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn() if in_bytes else TaskProgressColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not (enabled and err.is_terminal),
    )


def read_jsonl(path: str, err: Console, *, what: str = "lines") -> JsonLines:
    """Parse every non-blank line; collect each bad line as a problem instead of stopping."""
    out = JsonLines()
    with open_input(path) as (fh, size):
        out.big = size is None or size >= BIG_FILE_BYTES
        with make_progress(err, enabled=out.big, in_bytes=True) as progress:
            task = progress.add_task(f"reading {what}", total=size)
            for number, raw in enumerate(fh, start=1):
                progress.advance(task, len(raw))
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    out.problems.append((f"line {number}", f"is not UTF-8 text (byte {exc.start + 1})"))
                    continue
                if number == 1:
                    line = line.removeprefix("\ufeff")  # a BOM some editors write
                if not line.strip():
                    continue
                try:
                    value = json.loads(line, parse_constant=_reject_constant)
                except json.JSONDecodeError as exc:
                    out.problems.append(
                        (f"line {number}", f"is not valid JSON: {exc.msg} (column {exc.colno})")
                    )
                    continue
                except ValueError as exc:
                    out.problems.append((f"line {number}", f"is not valid JSON: {exc}"))
                    continue
                out.rows.append((number, value))
    return out


def line_number(location: str) -> int:
    """Sort key for problem locations such as ``line 12: occurred_at``."""
    head = location.split(":", 1)[0]
    if head.startswith("line "):
        try:
            return int(head[5:])
        except ValueError:
            return 0
    return 0


def format_problems(problems: list[tuple[str, str]], *, limit: int = 50) -> str:
    """The same layout intake uses: one indented ``location: message`` per line."""
    shown = "\n".join(f"  {where}: {msg}" for where, msg in problems[:limit])
    more = f"\n  … and {len(problems) - limit} more" if len(problems) > limit else ""
    return f"{shown}{more}"

"""Typer option declarations the gate commands share, each declared once.

``filter`` and ``export`` read records the same way (:class:`~consentgate.pipeline.FilterOptions`);
their options are these ``Annotated`` aliases, so the help and the defaults cannot drift apart.
Nothing here imports the pipeline: declaring the options must stay cheap for ``--help``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from consentgate.cli._jsonl import BIG_FILE_BYTES, make_progress
from consentgate.errors import BadInput

if TYPE_CHECKING:
    from rich.console import Console

    from consentgate.pipeline import FilterOptions, Snapshot
    from consentgate.pipeline.plan import ProgressFn
    from consentgate.pipeline.suppression import Suppression


class EngineName(StrEnum):
    duckdb = "duckdb"
    polars = "polars"
    arrow = "arrow"
    pandas = "pandas"
    spark = "spark"


class NoSubjectChoice(StrEnum):
    auto = "auto"
    keep = "keep"
    drop = "drop"


PurposeOpt = Annotated[
    str,
    typer.Option(
        metavar="PURPOSE", help="Purpose id from the policy, e.g. `--purpose train_support_chatbot`."
    ),
]
MaxStalenessOpt = Annotated[
    str | None,
    typer.Option(
        metavar="LIMIT",
        envvar="CONSENTGATE_MAX_STALENESS",
        help="Refuse (exit 7) a --snapshot further behind the ledger than this: a number of events, a "
        "duration (s, m, h, d) or both, e.g. `--max-staleness 100`, `--max-staleness 10m` or "
        "`--max-staleness 100,10m`. Without it a stale snapshot is used with a warning.",
        show_default=False,
    ),
]
AtOpt = Annotated[
    str | None,
    typer.Option(
        metavar="ISO_TIME",
        help="Decide as of this time, ISO 8601 with a zone (default now), e.g. `--at 2026-07-01T00:00:00Z`.",
        show_default=False,
    ),
]
SubjectColumnOpt = Annotated[
    str,
    typer.Option(metavar="COLUMN", help="The column holding subject ids, e.g. `--subject-column user_id`."),
]
InputOpt = Annotated[
    str,
    typer.Option(
        "--input",
        metavar="IN",
        help="A Parquet file, a directory of them, or a glob, e.g. `--input events/` or "
        "`--input 'events/*.parquet'`.",
    ),
]
EngineOpt = Annotated[EngineName, typer.Option(help="Engine that does the work, e.g. `--engine polars`.")]
SourceOpt = Annotated[
    str | None,
    typer.Option(
        metavar="SOURCE_ID",
        help="The policy's source the data comes from; decides --no-subject auto, "
        "e.g. `--source support-chats`.",
        show_default=False,
    ),
]
SnapshotFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--snapshot",
        metavar="FILE.parquet",
        help="Use this snapshot instead of deciding from the ledger now, e.g. `--snapshot consent.parquet`.",
        show_default=False,
    ),
]
NoSubjectOpt = Annotated[
    NoSubjectChoice,
    typer.Option(
        help="Records without a subject id: keep, drop, or auto (keep only if --source is declared "
        "`personal: false`), e.g. `--no-subject drop`.",
    ),
]
FlagColumnOpt = Annotated[
    str | None,
    typer.Option(
        metavar="COLUMN",
        help="Boolean column whose true rows drop as do_not_train (default: `do_not_train` when "
        "present), e.g. `--flag-column opted_out_of_training`.",
        show_default=False,
    ),
]
SuppressionOpt = Annotated[
    Path | None,
    typer.Option(
        metavar="FILE.json",
        envvar="CONSENTGATE_SUPPRESSION",
        help="Erasure suppression list (keyed hashes) to enforce, e.g. `--suppression suppressed.json`.",
        show_default=False,
    ),
]
SuppressionKeyFileOpt = Annotated[
    Path | None,
    typer.Option(
        metavar="FILE",
        envvar="CONSENTGATE_SUPPRESSION_KEY_FILE",
        help="File holding the suppression list's HMAC key, e.g. `--suppression-key-file /run/secrets/sup`.",
        show_default=False,
    ),
]


def filter_options(
    subject_column: str,
    flag_column: str | None,
    no_subject: NoSubjectChoice,
    source: str | None,
    suppression: Path | None,
    suppression_key_file: Path | None,
) -> FilterOptions:
    """The options object of the gate functions from the shared command-line options. A named
    ``--flag-column`` must exist, even when it is the default's name."""
    from consentgate.pipeline import FilterOptions, NoSubject
    from consentgate.pipeline.plan import DEFAULT_FLAG_COLUMN

    return FilterOptions(
        subject_column=subject_column,
        flag_column=DEFAULT_FLAG_COLUMN if flag_column is None else flag_column,
        flag_required=flag_column is not None,
        no_subject=NoSubject(no_subject.value),
        source=source,
        suppression=load_suppression(suppression, suppression_key_file),
    )


def load_suppression(path: Path | None, key_file: Path | None) -> Suppression | None:
    from consentgate.pipeline.suppression import Suppression

    if path is None:
        return None
    if key_file is None:
        raise BadInput(
            "--suppression needs the list's key: --suppression-key-file FILE "
            "(or env CONSENTGATE_SUPPRESSION_KEY_FILE)"
        )
    try:
        key = key_file.read_bytes().strip()
    except OSError as exc:
        raise BadInput(f"{key_file}: cannot read the suppression key: {exc.strerror or exc}") from None
    return Suppression.load(path, key)


def snapshot_file_at(snapshot_file: Path, at: str | None) -> Snapshot:
    """The snapshot ``--snapshot`` names; ``--at`` with it is a usage error (the file has its time)."""
    from consentgate.pipeline import Snapshot

    if at is not None:
        raise typer.BadParameter("--at decides from the ledger; a --snapshot already has its time")
    return Snapshot.read(snapshot_file)


@contextmanager
def input_progress(err: Console, input: str, label: str) -> Iterator[ProgressFn]:
    """A progress callback for a gate over ``input``: drawn on stderr for big inputs only."""
    from consentgate.pipeline import input_files

    _, files = input_files(input)
    big = sum(f.stat().st_size for f in files) >= BIG_FILE_BYTES
    with make_progress(err, enabled=big) as progress:
        task = progress.add_task(label, total=None)

        def report(done: int, total: int | None) -> None:
            progress.update(task, completed=done, total=total)

        yield report

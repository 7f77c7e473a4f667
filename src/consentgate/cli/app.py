"""The root of the ``consentgate`` command: global options, error reporting, command groups.

Every ``ConsentgateError`` becomes one message on stderr and exit code 1: the errors already say what
to fix, and a traceback would only bury that. Usage mistakes keep Click's exit code 2. An identifier
the ledger knows nothing about exits 5, so a script can tell "nobody" from an answer; a command that
would append onto an altered ledger head exits 6 (``ChainBroken``); data further behind the ledger
than ``--max-staleness`` allows exits 7 (``StaleData``).
"""

from __future__ import annotations

import errno
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.text import Text
from typer.core import TyperGroup

from consentgate.cli import (
    classify,
    decisions,
    events,
    gates,
    keys,
    ledger,
    pipeline,
    policy,
    requests,
    scan,
    setup,
    subjects,
    taggate,
    tokens,
)
from consentgate.cli._shared import CliEnv, make_consoles
from consentgate.errors import BadInput, ChainBroken, ConsentgateError, StaleData, UnknownSubject
from consentgate.settings import DEFAULT_DB, DEFAULT_POLICY, Settings

EXIT_ERROR = 1
# 2 is Click's usage error; 3 a denial or a failed gate (decide --exit-code, scan diff); 4 an erasure
# that could not reach every source (requests complete).
EXIT_UNKNOWN_SUBJECT = 5
# A command that would append found the chain's head altered: not a mistake in the command (1), and
# retrying will not help until someone restores the ledger.
EXIT_LEDGER_BROKEN = 6
# A snapshot or filtered input further behind the ledger than --max-staleness allows (StaleData): the
# gate did not run, and running it again later will not help until the data is rebuilt.
EXIT_STALE = 7


class _ReportingGroup(TyperGroup):
    """Turns consentgate's own errors into a readable message and exit code 1.

    The root group wraps the whole invocation (callback and subcommand), so one place handles every
    command, including those of subgroups such as ``ledger`` and ``keys``.
    """

    # ``Any``: Typer types this with its vendored Click context class, which it does not export.
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ChainBroken as exc:
            report_error(type(exc).__name__, exc.message)
            raise typer.Exit(EXIT_LEDGER_BROKEN) from None
        except StaleData as exc:
            report_error(type(exc).__name__, exc.message)
            raise typer.Exit(EXIT_STALE) from None
        except ConsentgateError as exc:
            report_error(type(exc).__name__, exc.message)
            code = EXIT_UNKNOWN_SUBJECT if isinstance(exc, UnknownSubject) else EXIT_ERROR
            raise typer.Exit(code) from None
        except OSError as exc:
            # A closed pipe (`… | head`) is Click's to handle quietly; other OS errors (permissions, a
            # full disk, a missing directory for --out) are the environment's, not bugs: no traceback.
            if exc.errno == errno.EPIPE:
                raise
            where = f"{exc.filename}: " if exc.filename else ""
            report_error(type(exc).__name__, f"{where}{exc.strerror or exc}")
            raise typer.Exit(EXIT_ERROR) from None


def report_error(label: str, message: str) -> None:
    err = Console(stderr=True, soft_wrap=True, highlight=False)
    text = Text()
    text.append(f"error ({label}): ", style="bold red")
    # Printed as plain Text: messages hold brackets (purposes[0]) that Rich would read as markup.
    text.append(message)
    err.print(text)


app = typer.Typer(
    name="consentgate",
    cls=_ReportingGroup,
    help=(
        "Consent for AI training data: record provable choices in an append-only ledger, decide whether "
        "a person's data may be used for a purpose, and prove it.\n\n"
        "Start with `consentgate init .`, then for example:\n\n"
        "    consentgate record --subject user-42 --action grant --purpose train_support_chatbot "
        "--notice-version 2\n\n"
        "    consentgate decide --subject user-42 --purpose train_support_chatbot --json\n\n"
        "Every command takes `--db` and `--policy` (or env CONSENTGATE_DB, CONSENTGATE_POLICY); "
        "`consentgate COMMAND --help` shows its options and an example."
    ),
    rich_markup_mode="markdown",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals can hold API keys and subject ids
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        try:
            typer.echo(f"consentgate {version('consentgate')}")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
            typer.echo("consentgate (not installed)")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        str,
        typer.Option(
            "--db",
            envvar="CONSENTGATE_DB",
            metavar="URL",
            help="Ledger database: a SQLite file path or a PostgreSQL URL, "
            "e.g. `--db consentgate.db` or `--db postgresql://cg@db.example.com/consent`.",
        ),
    ] = DEFAULT_DB,
    policy_file: Annotated[
        Path,
        typer.Option(
            "--policy",
            envvar="CONSENTGATE_POLICY",
            metavar="FILE",
            help="The policy YAML (purposes, regions, notices), e.g. `--policy config/policy.yaml`.",
        ),
    ] = Path(DEFAULT_POLICY),
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version,
            is_eager=True,
            help="Print the installed version and exit, e.g. `consentgate --version`.",
        ),
    ] = False,
) -> None:
    """Build the settings once; every command receives them through the context."""
    del show_version
    try:
        settings = Settings(db=db, policy=policy_file)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise BadInput(f"setting {where} (env CONSENTGATE_{where.upper()}): {first['msg']}") from None
    out, err = make_consoles()
    env = CliEnv(settings=settings, out=out, err=err)
    ctx.obj = env
    ctx.call_on_close(env.close)


for _module in (
    setup,
    events,
    decisions,
    subjects,
    ledger,
    keys,
    tokens,
    policy,
    pipeline,
    gates,
    classify,
    scan,
    taggate,
    requests,
):
    _module.register(app)


def main() -> None:
    """Entry point of ``.venv/bin/consentgate`` (declared in pyproject.toml)."""
    app()

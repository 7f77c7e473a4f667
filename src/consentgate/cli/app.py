"""The root of the ``consentgate`` command: global options, error reporting, command groups.

Every ``ConsentgateError`` becomes one message on stderr and exit code 1: the errors already say what
to fix, and a traceback would only bury that. Usage mistakes keep Click's exit code 2. An identifier
the ledger knows nothing about exits 5, so a script can tell "nobody" from an answer; a command that
would append onto an altered ledger head exits 6 (``ChainBroken``); data further behind the ledger
than ``--max-staleness`` allows exits 7 (``StaleData``).

Commands are registered lazily (:data:`COMMANDS`: name → ``module:attribute`` and the one-line help
the command list shows), so ``consentgate --version`` and ``--help`` import no command, no database
driver and no service; ``consentgate decide`` imports only what deciding needs.
"""

from __future__ import annotations

import errno
from collections.abc import MutableMapping
from importlib import import_module
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import typer
from typer.core import TyperCommand, TyperGroup

from consentgate._defaults import DEFAULT_DB, DEFAULT_POLICY
from consentgate.cli._errors import report_error
from consentgate.errors import BadInput, ChainBroken, ConsentgateError, StaleData, UnknownSubject

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


class Lazy(NamedTuple):
    """Where a command lives (``module:attribute``: a command function or a Typer group) and the
    first paragraph of its help, which ``consentgate --help`` lists without importing the module.
    ``tests/cli/test_lazy_commands.py`` checks both against the real commands."""

    target: str
    help: str


# In the order ``--help`` lists them (Typer lists commands before groups).
COMMANDS: dict[str, Lazy] = {
    "init": Lazy(
        "consentgate.cli.init:init",
        "Create DIR/policy.yaml (the example policy) and the ledger DIR/consentgate.db.",
    ),
    "serve": Lazy(
        "consentgate.cli.serve:serve",
        "Serve the HTTP API (OpenAPI docs at /docs) with uvicorn.",
    ),
    "record": Lazy(
        "consentgate.cli.record:record",
        "Record one choice a person made; prints the stored event ids (one per purpose).",
    ),
    "import-events": Lazy(
        "consentgate.cli.import_events:import_events",
        "Import historical events from a JSON Lines file, all or nothing.",
    ),
    "link": Lazy(
        "consentgate.cli.link:link",
        "Record that two identifiers are one person, so choices made under either count for both.",
    ),
    "decide": Lazy(
        "consentgate.cli.decide:decide",
        "Decide whether a person's data may be used for a purpose; the answer names its evidence.",
    ),
    "history": Lazy(
        "consentgate.cli.history:history",
        "List a person's events in decision order (when they acted, then when it was recorded).",
    ),
    "evidence": Lazy(
        "consentgate.cli.evidence:evidence",
        "Show the evidence of what a person chose: every event with the exact wording shown, the current "
        "decision per purpose, and whether the hash chain of those events is intact.",
    ),
    "snapshot": Lazy(
        "consentgate.cli.snapshot:snapshot",
        "Write every known identifier's decision for a purpose to Parquet (one row per subject and alias).",
    ),
    "filter": Lazy(
        "consentgate.cli.filter:filter_",
        "Drop the records whose subject may not be used for a purpose; write a manifest of the run.",
    ),
    "runs": Lazy(
        "consentgate.cli.runs:runs",
        "List training runs, filter runs and vendor exports, newest first: purpose, model, output or "
        "vendor, status, counts and the ledger heads their decisions came from.",
    ),
    "export": Lazy(
        "consentgate.cli.export:export",
        "Prepare data for a vendor: refuse vendors the policy does not allow, drop the records whose "
        "subject may not be used for the purpose (as `filter` does), and record the export.",
    ),
    "classify": Lazy(
        "consentgate.cli.classify:classify",
        "Find the identifier types each column holds, their share of rows, and how personal each column is.",
    ),
    "scan-text": Lazy(
        "consentgate.cli.scan_text:scan_text",
        'Find identifiers in free text: one `{"id", "spans": [{"start", "end", "type", "score"}]}` per '
        "record.",
    ),
    "datamap": Lazy(
        "consentgate.cli.datamap:datamap",
        "Join the policy's sources with what their data holds: purposes fed (and their basis), data "
        "found, retention, vendors, and where declaration and data disagree.",
    ),
    "redact": Lazy(
        "consentgate.cli.redact:redact",
        "Replace identifiers with typed placeholders ([EMAIL]) or consistent keyed pseudonyms (EMAIL_3f9a…).",
    ),
    "gate-html": Lazy(
        "consentgate.cli.gate_html:gate_html_command",
        "Copy a static site with its tracker tags made inert until consent (the server-side tag gate).",
    ),
    "ledger": Lazy(
        "consentgate.cli.ledger:ledger_app",
        "Inspect the append-only, hash-chained ledger.",
    ),
    "keys": Lazy(
        "consentgate.cli.keys:keys_app",
        "API keys for the HTTP service (clients send `Authorization: Bearer KEY`).",
    ),
    "tokens": Lazy(
        "consentgate.cli.tokens:tokens_app",
        "Subject tokens: let one browser session read and change one person's choices.",
    ),
    "policy": Lazy(
        "consentgate.cli.policy:policy_app",
        "Validate the policy and publish its schema.",
    ),
    "scan": Lazy(
        "consentgate.cli.scan:scan_app",
        "Scan a website in real Chromium for what it sets before consent, after “reject all” and after "
        "“accept all”; compare scans; write reports and the cookie declaration.",
    ),
    "cookies": Lazy(
        "consentgate.cli.scan:cookies_app",
        "The cookie knowledge base (Open Cookie Database): look names up, download the current file.",
    ),
    "tcf": Lazy(
        "consentgate.cli.tcf:tcf_app",
        "IAB TCF v2.3: the Global Vendor List the service serves (docs/tcf.md).",
    ),
    "signals": Lazy(
        "consentgate.cli.signals:signals_app",
        "Publishers' rights reservations against AI training (robots.txt, TDMRep, noai), read and "
        "stored apart from personal consent (docs/reservations.md).",
    ),
    "requests": Lazy(
        "consentgate.cli.requests:requests_app",
        "Data-subject requests: access, object, withdraw, erase, opt_out.",
    ),
    "report": Lazy(
        "consentgate.cli.report:report_app",
        "Reports for a privacy team or an auditor: consent rates, banner outcomes, GPC, requests, "
        "website inventory, the audit pack.",
    ),
    "ai-act": Lazy(
        "consentgate.cli.aiact:ai_act_app",
        "EU AI Act: the public summary of a model's training content (Art. 53(1)(d)).",
    ),
}


class _ReportingGroup(TyperGroup):
    """Turns consentgate's own errors into a readable message and exit code 1, and loads commands
    on first use.

    The root group wraps the whole invocation (callback and subcommand), so one place handles every
    command, including those of subgroups such as ``ledger`` and ``keys``. While it formats its own
    help it lists :data:`COMMANDS` as stubs carrying the stored help line; running a command (or
    asking for its help) imports its module.
    """

    _listing = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loaded: dict[str, Any] = {}

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        lazy = COMMANDS.get(cmd_name)
        if lazy is None:
            return None
        if self._listing and cmd_name not in self._loaded:
            return TyperCommand(cmd_name, help=lazy.help)
        if cmd_name not in self._loaded:
            self._loaded[cmd_name] = load_command(cmd_name, lazy.target)
        return self._loaded[cmd_name]

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    @property
    def commands(self) -> MutableMapping[str, Any]:
        """Every command, imported: for code that walks the tree (the help tests, docs)."""
        return {name: self.get_command(None, name) for name in COMMANDS}

    @commands.setter
    def commands(self, value: MutableMapping[str, Any]) -> None:
        if value:  # Typer passes the commands registered on ``app`` directly: there are none
            raise RuntimeError("register commands in cli.app.COMMANDS, not on the app")

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
        from importlib.metadata import PackageNotFoundError, version  # ~20 ms: only when asked

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
    from pydantic import ValidationError

    from consentgate.cli._shared import CliEnv
    from consentgate.settings import Settings

    del show_version
    try:
        settings = Settings(db=db, policy=policy_file)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise BadInput(f"setting {where} (env CONSENTGATE_{where.upper()}): {first['msg']}") from None
    env = CliEnv(settings=settings)
    ctx.obj = env
    ctx.call_on_close(env.close)


def load_command(name: str, target: str) -> Any:
    """The Click command for ``module:attribute``, built as Typer builds a command registered on the
    root app (same markup mode), so a lazily loaded command behaves as an eagerly registered one."""
    module, _, attribute = target.partition(":")
    obj = getattr(import_module(module), attribute)
    holder = typer.Typer(rich_markup_mode="markdown")
    if isinstance(obj, typer.Typer):
        holder.add_typer(obj, name=name)
    else:
        holder.command(name)(obj)
    return typer.main.get_group(holder).commands[name]


def main() -> None:
    """Entry point of ``.venv/bin/consentgate`` (declared in pyproject.toml)."""
    app()

"""What every command shares: the settings built once per invocation, lazily opened stores, output.

The root callback builds one :class:`CliEnv` and puts it on the Click context; commands fetch it
with :func:`env_of`. Nothing here is a module-level global, so tests can run many invocations in one
process with different databases and policies.

Every command imports this module, so it imports only what all of them need: the ledger, the
service and Rich are imported where they are first used (``consentgate decide`` on SQLite needs
neither SQLAlchemy nor Rich; docs/benchmarks.md, "CLI start-up").
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import typer

from consentgate.errors import BadInput, ChainBroken, QueryError
from consentgate.ledger.events import ConsentEvent
from consentgate.ledger.intake import parse_time

if TYPE_CHECKING:
    from rich.console import Console

    from consentgate.ledger.store import Ledger
    from consentgate.policy import Policy
    from consentgate.service import ConsentService
    from consentgate.settings import Settings


def make_consoles() -> tuple[Console, Console]:
    """stdout for answers (what scripts capture), stderr for notes, progress and errors.

    ``soft_wrap`` keeps long lines (ids, hashes, file paths) whole instead of breaking them at the
    console width, so output stays greppable when piped.
    """
    from rich.console import Console

    return Console(soft_wrap=True, highlight=False), Console(stderr=True, soft_wrap=True, highlight=False)


@dataclass
class CliEnv:
    """One invocation's settings and the stores it opened, closed when the command ends."""

    settings: Settings
    _consoles: tuple[Console, Console] | None = field(default=None, repr=False)
    _ledger: Ledger | None = field(default=None, repr=False)
    _policy: Policy | None = field(default=None, repr=False)

    @property
    def out(self) -> Console:
        """The console for answers (stdout), made on first use: a command that prints only JSON
        never imports Rich."""
        return self._console_pair()[0]

    @property
    def err(self) -> Console:
        """The console for notes, progress and errors (stderr)."""
        return self._console_pair()[1]

    def _console_pair(self) -> tuple[Console, Console]:
        if self._consoles is None:
            self._consoles = make_consoles()
        return self._consoles

    def policy(self) -> Policy:
        if self._policy is None:
            from consentgate.policy import load_policy

            self._policy = load_policy(self.settings.policy)
        return self._policy

    def ledger(self, *, must_exist: bool = False) -> Ledger:
        """Open (and migrate) the ledger. Readers pass ``must_exist`` so a mistyped ``--db`` path is an
        error instead of a freshly created empty ledger that "verifies" with zero events."""
        if self._ledger is None:
            from consentgate.ledger.signing import find_signer
            from consentgate.ledger.store import Ledger
            from consentgate.store.engine import missing_sqlite_file

            if must_exist:
                missing = missing_sqlite_file(self.settings.db)
                if missing is not None:
                    raise BadInput(
                        f"ledger {missing} does not exist; create one with `consentgate init DIR` "
                        "or pass --db PATH (env CONSENTGATE_DB)"
                    )
            signer = find_signer(self.settings.ledger_key, self.settings.db)
            self._ledger = Ledger.open(self.settings.db, signer=signer)
        return self._ledger

    def service(self, *, must_exist: bool = False, appends: bool = False) -> ConsentService:
        """``appends``: the command will chain events onto the ledger, so its head is checked first."""
        from consentgate.service import ConsentService

        # Load the policy first: a broken policy should be reported before a database is touched.
        policy = self.policy()
        ledger = self.ledger(must_exist=must_exist)
        if appends:
            require_intact_head(ledger)
        return ConsentService(policy, ledger, gvl_directory=self.settings.tcf_gvl_dir)

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None

    # -- output ------------------------------------------------------------------------------------

    def note(self, message: str, style: str = "dim") -> None:
        """A remark for the person at the terminal; on stderr so it never pollutes captured output."""
        from rich.text import Text

        self.err.print(Text(message, style=style))

    def emit_json(self, value: Any, *, indent: int | None = 2) -> None:
        """Plain JSON on stdout: no Rich markup, highlighting or wrapping, so ``jq`` can read it."""
        sys.stdout.write(json.dumps(value, indent=indent, ensure_ascii=False, default=str) + "\n")


def env_of(ctx: typer.Context) -> CliEnv:
    """The invocation's environment, wherever in the command tree ``ctx`` is."""
    found = ctx.find_object(CliEnv)
    if found is None:  # pragma: no cover - only when a command is invoked without the root app
        raise RuntimeError("consentgate commands must run under the root app's callback")
    return found


def parse_at(value: str | None, option: str = "--at") -> datetime:
    """An ISO 8601 time with a zone, or now (UTC) when the option was not given."""
    if value is None:
        return datetime.now(UTC)
    try:
        return parse_time(value, option)
    except ValueError as exc:
        raise QueryError(str(exc)) from None


def event_json(e: ConsentEvent) -> dict[str, Any]:
    """An event as JSON: the stored fields, times with their zones."""
    return {
        "event_id": e.event_id,
        "seq": e.seq,
        "subject": e.subject,
        "action": e.action.value,
        "purpose": e.purpose,
        "notice_id": e.notice_id,
        "notice_version": e.notice_version,
        "wording_hash": e.wording_hash,
        "region": e.region,
        "locale": e.locale,
        "source": e.source,
        "occurred_at": e.occurred_at.isoformat(),
        "recorded_at": e.recorded_at.isoformat(),
        "signals": dict(e.signals),
        "hash": e.hash,
    }


def require_intact_head(ledger: Ledger) -> None:
    """Refuse to chain onto a head that was altered or deleted: new events would vouch for it.

    The same check every append makes inside its transaction (``ledger/records.py``), asked before
    the command parses its input or files a request (a request is not chained, but it would lead to
    events that are), so the person hears about the ledger first and exit code 6 means nothing was
    stored. Reads at most three rows whatever the ledger's size: a full walk (``ledger verify``)
    takes about a minute per million events (docs/benchmarks.md). A row altered further back is for
    ``ledger verify`` and the HTTP service's periodic check to find.
    """
    problem, seq = ledger.head_problem()
    if problem is None:
        return
    raise ChainBroken(
        f"the ledger's hash chain is broken at its head: {problem}; nothing was recorded. Run "
        "`consentgate ledger verify` and restore the ledger before recording more (docs/ledger.md)",
        seq=seq,
    )

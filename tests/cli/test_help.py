"""The help teaches: every command and option explains itself, every command shows an example."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from consentgate.auth.identity import ALIAS_KINDS
from consentgate.cli import app
from consentgate.cli.link import AliasKind

EXPECTED = {
    "init", "serve", "record", "import-events", "link", "decide", "history", "evidence",
    "ledger verify", "ledger head", "ledger checkpoint", "ledger signals", "keys create", "keys list",
    "keys revoke", "keys ledger",
    "tokens issue", "tokens verify", "policy check", "policy schema", "snapshot", "filter", "runs",
    "export", "classify", "scan-text", "requests file", "requests list", "requests show",
    "requests complete",
}  # fmt: skip


def _walk(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    subcommands = getattr(command, "commands", None)
    if subcommands:
        for name, sub in subcommands.items():
            yield from _walk(sub, (*path, name))
    else:
        yield " ".join(path), command


def _commands() -> dict[str, Any]:
    return dict(_walk(typer.main.get_command(app)))


def test_the_command_list_is_the_documented_one() -> None:
    assert set(_commands()) >= EXPECTED


def _all() -> list[str]:
    return sorted(_commands())


@pytest.mark.parametrize("name", _all())
def test_every_command_has_help_with_an_example(name: str) -> None:
    command = _commands()[name]
    assert command.help, f"{name} has no help"
    assert "Example" in command.help, f"{name}'s help shows no example"
    assert "consentgate" in command.help, f"{name}'s example does not show the command line"


@pytest.mark.parametrize("name", _all())
def test_every_option_has_help_with_an_example(name: str) -> None:
    for param in _commands()[name].params:
        if param.name == "help":
            continue
        text = getattr(param, "help", None)
        assert text, f"{name}: {param.name} has no help"
        assert "e.g." in text, f"{name}: the help of {param.name} gives no example"


def test_root_options_have_help() -> None:
    root = typer.main.get_command(app)
    for param in root.params:
        assert getattr(param, "help", None), f"--{param.name} has no help"


def test_alias_kinds_match_the_identity_module() -> None:
    assert tuple(k.value for k in AliasKind) == ALIAS_KINDS


def test_help_renders_and_lists_commands() -> None:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in ("init", "record", "import-events", "decide", "evidence", "ledger", "keys", "serve"):
        assert name in result.stdout
    assert "CONSENTGATE_DB" in result.stdout


def test_no_arguments_shows_help_instead_of_failing_silently() -> None:
    result = CliRunner().invoke(app, [])
    assert "Usage" in result.output


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.startswith("consentgate ")

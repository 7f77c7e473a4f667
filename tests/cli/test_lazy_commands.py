"""The CLI imports a command only when it runs: the lazy table must agree with the real commands, and
the cheap paths (``--version``, ``--help``) must not import what the commands need."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest
import typer

from consentgate.cli import app
from consentgate.cli.app import COMMANDS, load_command


def _listed_help(command: typer.core.TyperCommand) -> str:
    """The line ``consentgate --help`` shows for a command: its first help paragraph, on one line."""
    text = command.short_help or command.help or ""
    return inspect.cleandoc(text).split("\n\n")[0].replace("\n", " ").strip()


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_stored_help_line_is_the_commands_own(name: str) -> None:
    command = load_command(name, COMMANDS[name].target)
    assert command.name == name
    assert COMMANDS[name].help == _listed_help(command)


def test_every_command_module_is_in_the_table() -> None:
    """A command module nobody lists would be dead code; a listed module must define what it names."""
    root = typer.main.get_command(app)
    assert list(root.commands) == list(COMMANDS)  # type: ignore[attr-defined]
    modules = {lazy.target.partition(":")[0] for lazy in COMMANDS.values()}
    import pkgutil

    import consentgate.cli as cli

    commands = {
        f"consentgate.cli.{m.name}"
        for m in pkgutil.iter_modules(cli.__path__)
        if not m.name.startswith("_") and m.name not in {"app", "options"}
    }
    assert modules == commands


def _imported_after(*argv: str) -> set[str]:
    code = (
        "import sys\n"
        f"sys.argv = ['consentgate', *{list(argv)!r}]\n"
        "from consentgate.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(run.stdout.split())


def test_version_and_help_import_no_command_and_no_driver() -> None:
    for argv in (["--version"], ["--help"]):
        loaded = _imported_after(*argv)
        heavy = {m for m in loaded if m.split(".")[0] in {"sqlalchemy", "httpx", "pydantic", "pyarrow"}}
        assert not heavy, (argv, sorted(heavy)[:5])
        commands = {
            m for m in loaded if m.startswith("consentgate.cli.") and not m.startswith("consentgate.cli._")
        }
        assert commands <= {"consentgate.cli.app"}, (argv, commands)


def test_a_command_imports_its_own_module_only() -> None:
    loaded = _imported_after("decide", "--help")
    assert "consentgate.cli.decide" in loaded
    assert not {"consentgate.cli.filter", "consentgate.cli.scan", "consentgate.cli.requests"} & loaded


def test_a_lazily_loaded_command_still_reports_errors_through_the_root() -> None:
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, ["--db", "/nonexistent/dir/x.db", "runs"])
    assert result.exit_code == 1
    assert "error (" in result.stderr

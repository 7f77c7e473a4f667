"""The ``consentgate`` command line: one module per command group, all sharing one service.

``consentgate.cli:main`` is the console entry point; ``app`` is the Typer application (tests drive it
with ``typer.testing.CliRunner``).
"""

from consentgate.cli.app import app, main

__all__ = ["app", "main"]

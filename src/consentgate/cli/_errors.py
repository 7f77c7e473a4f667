"""How the CLI reports an error: one line on stderr, the error's kind in the label.

Its own module so that any command can report without importing the root of the CLI (``app``), which
imports the commands lazily: no command module depends on ``app``, so the import graph has no cycle.
"""

from __future__ import annotations


def report_error(label: str, message: str) -> None:
    from rich.console import Console
    from rich.text import Text

    err = Console(stderr=True, soft_wrap=True, highlight=False)
    text = Text()
    text.append(f"error ({label}): ", style="bold red")
    # Printed as plain Text: messages hold brackets (purposes[0]) that Rich would read as markup.
    text.append(message)
    err.print(text)

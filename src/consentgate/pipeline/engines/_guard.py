"""The import guard every engine module uses: a missing library names the extra that brings it."""

from __future__ import annotations

from consentgate.errors import BadInput


class EngineMissing(BadInput):
    """An engine's library is not installed; the message is the ``pip install`` line to run."""

    def __init__(self, engine: str, module: str, extra: str) -> None:
        super().__init__(
            f"the {engine} engine needs the {module!r} package, which is not installed; "
            f"install it with: pip install 'consentgate[{extra}]'"
        )
        self.engine = engine
        self.extra = extra

"""The import guard of the classify package: a missing library names the extra that brings it."""

from __future__ import annotations

from consentgate.errors import BadInput


class ClassifyMissing(BadInput):
    """A library the detectors need is not installed; the message is the ``pip install`` line."""


def require() -> None:
    missing = []
    for module, dist in (
        ("phonenumbers", "phonenumbers"),
        ("ahocorasick", "pyahocorasick"),
        ("faker", "faker"),
    ):
        try:
            __import__(module)
        except ImportError:
            missing.append(dist)
    if missing:
        raise ClassifyMissing(
            f"classification needs {', '.join(missing)}, which is not installed; "
            "install it with: pip install 'consentgate[classify]'"
        )

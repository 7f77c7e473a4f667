"""The import check of the classify package: a missing library names the extra that brings it."""

from __future__ import annotations

from consentgate.errors import MissingExtra


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
        raise MissingExtra("classification", missing, "classify")

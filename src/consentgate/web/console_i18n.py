"""The operator console's own words, one JSON file per locale in ``web/console/i18n/``.

The console offers exactly the privacy center's locales (``web/i18n/``; issue 16 asks for "English
plus the locales the privacy center has", and tests/console/test_i18n.py compares the two sets); a
locale neither has falls back to its language, then English. Every file has every key of
``en.json`` with its placeholders, and the legal terms of ``web/glossary.json`` (the same tests).
Every sentence a console page or error page shows comes from here, errors included; codes and values
from the policy and the ledger (purpose ids, actions, bases, statuses) are shown as they are: they
are the words of the CLI and the policy file the same team reads. Dates and times are written as the
locale writes them, by Babel (CLDR data), not by hand.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from importlib.resources import files

from babel import Locale
from babel.dates import format_datetime

from consentgate.policy.locales import language
from consentgate.web import i18n as web_i18n

LOCALE_PATTERN = web_i18n.LOCALE_PATTERN
direction = web_i18n.direction


@cache
def available() -> tuple[str, ...]:
    folder = files("consentgate.web") / "console" / "i18n"
    return tuple(sorted(f.name[: -len(".json")] for f in folder.iterdir() if f.name.endswith(".json")))


@cache
def strings(locale: str) -> dict[str, str]:
    if locale not in available():
        raise KeyError(locale)
    text = (files("consentgate.web") / "console" / "i18n" / f"{locale}.json").read_text(encoding="utf-8")
    data: dict[str, str] = json.loads(text)
    return data


@cache
def languages() -> tuple[tuple[str, str], ...]:
    """``(code, name in that language)`` for the language picker, from the privacy center's files."""
    return tuple(
        (code, web_i18n.strings(code)["lang_name"] if code in web_i18n.available() else code)
        for code in available()
    )


def negotiate(requested: str | None, accept_language: str | None, default: str) -> str:
    """The best console locale: as :func:`consentgate.web.i18n.negotiate`, over the console's files."""
    found = web_i18n.negotiate(requested, accept_language, default)
    for candidate in (found, language(found)):
        if candidate in available():
            return candidate
    return "en"


def instant(at: datetime, locale: str) -> str:
    """``at`` as a reader of ``locale`` writes a date and time, in UTC with the zone named: the
    console's figures are at one instant, whatever the reader's own zone."""
    return format_datetime(at, "long", tzinfo=UTC, locale=Locale.parse(locale, sep="-"))

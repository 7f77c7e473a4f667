"""The operator console's own words, one JSON file per locale in ``web/console/i18n/``.

The console offers a subset of the privacy center's locales (``web/i18n/``): every official EU
language, Arabic and Hebrew; ``pt-BR`` gets ``pt``, a language it lacks gets English. Every file has
every key of ``en.json`` (tests/console/test_i18n.py). Codes and values from the policy and the ledger
(purpose ids, actions, bases, statuses) are shown as they are: they are the words of the CLI and the
policy file the same team reads.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files

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

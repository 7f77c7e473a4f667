"""The banner's and privacy center's own words, one JSON file per locale in ``web/i18n/``.

Notice wording and purpose titles come from the policy; these files hold only the interface: button
labels, headings, messages. Every file has every key of ``en.json`` (tests/web/test_i18n.py), so a
visitor never sees a mix of languages in the interface. Files are served as they are
(``GET /i18n/{locale}.json``) and the banner's configuration carries the one the visitor needs, so no
locale is bundled into ``banner.js``.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files

from consentgate.policy.locales import INTERFACE_LOCALES, LOCALE_PATTERN, language, negotiate

__all__ = ["LOCALE_PATTERN", "RTL_LANGUAGES", "available", "direction", "language", "negotiate", "strings"]

# Scripts written right to left among the languages we ship or may ship (ISO 639-1).
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur", "yi"})


def available() -> tuple[str, ...]:
    """Locales with a translation file, sorted (``ar``, ``bg``, …): the list in ``policy/locales.py``,
    which tests/web/test_i18n.py holds to the files in ``web/i18n/``."""
    return INTERFACE_LOCALES


@cache
def strings(locale: str) -> dict[str, str]:
    """The interface strings of one available locale."""
    if locale not in available():
        raise KeyError(locale)
    text = (files("consentgate.web") / "i18n" / f"{locale}.json").read_text(encoding="utf-8")
    data: dict[str, str] = json.loads(text)
    return data


def direction(locale: str) -> str:
    return "rtl" if language(locale) in RTL_LANGUAGES else "ltr"

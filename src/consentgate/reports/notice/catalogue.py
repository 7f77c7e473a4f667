"""The notice's frame text in every banner language: ``i18n/<locale>.json``, one file per locale.

Each file has every key of ``en.json`` with the same placeholders (tests/reports/notice checks both,
and that a string naming a legal concept uses the locale's term from ``web/glossary.json``). A
placeholder's value is a piece of :mod:`.document` — a name, a link, the policy's wording — so a
translated sentence may put it anywhere without it ever becoming frame text.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from string import Formatter

from consentgate.reports.notice.document import Frame, Inline, Line, Value
from consentgate.web import i18n


@cache
def strings(locale: str) -> dict[str, str]:
    """The frame strings of one interface locale (:data:`consentgate.policy.locales.INTERFACE_LOCALES`)."""
    if locale not in i18n.available():
        raise KeyError(locale)
    text = (files("consentgate.reports.notice") / "i18n" / f"{locale}.json").read_text(encoding="utf-8")
    data: dict[str, str] = json.loads(text)
    return data


@cache
def language_name(locale: str, reader: str) -> str:
    """The name of ``locale``'s language in the ``reader``'s ("Englisch" for a German reader), from
    the Unicode CLDR through Babel; the tag itself where CLDR has no name for it."""
    from babel import Locale, UnknownLocaleError

    try:
        return str(
            Locale.parse(locale.replace("-", "_")).get_display_name(reader.replace("-", "_")) or locale
        )
    except (UnknownLocaleError, ValueError):
        return locale


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name}


class Catalogue:
    """One locale's frame strings, filled with pieces."""

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self._strings = strings(locale)

    def text(self, key: str) -> str:
        return self._strings[key]

    def say(self, key: str, **values: Inline | Line | str) -> Line:
        """The string ``key`` as pieces: its own words as :class:`Frame`, each placeholder as the value
        given (a plain ``str`` becomes a :class:`Value`, a tuple of pieces goes in whole)."""
        out: list[Inline] = []
        for literal, name, _, _ in Formatter().parse(self._strings[key]):
            if literal:
                out.append(Frame(literal))
            if name:
                value = values[name]
                if isinstance(value, tuple):
                    out.extend(value)
                else:
                    out.append(Value(value) if isinstance(value, str) else value)
        return tuple(out)

"""The access report's own words per locale, which locale a report is written in, and how it writes
dates, numbers and durations there.

The report ships in the privacy center's locales (``policy/locales.py``), one catalogue per locale in
``requests/i18n/<locale>.json`` with every key of ``en.json`` (tests/requests/test_report_locale.py).
The catalogue holds only the report's interface; notice wording and purpose titles are the policy's
and are shown as recorded, never translated.

Dates, numbers and day counts are formatted by Babel from CLDR data: 50 locales' month names, digit
grouping and plural rules ("1 Tag", "730 Tage", "730 يومًا") are not ours to hand-write.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib.resources import files

from babel import Locale
from babel.dates import format_date, format_datetime, get_timezone_gmt
from babel.lists import format_list
from babel.numbers import format_decimal
from babel.units import format_unit

from consentgate.policy.locales import INTERFACE_LOCALES, language, negotiate

__all__ = ["FALLBACK", "ReportLocale", "catalogue", "choose"]

RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur"})
# Shown, in English, when the locale asked for is not one the report ships in.
FALLBACK = (
    "This report is not available in the language you asked for ({requested}), so it is shown in English."
)
# CLDR's "pt" is Brazilian Portuguese; our "pt" is European Portuguese (pt-BR has its own catalogue).
_CLDR = {"pt": "pt_PT"}


@dataclass(frozen=True, slots=True)
class ReportLocale:
    """The locale a report is written in, and what was asked for (``fell_back``: asked for a locale the
    report lacks, so it is in English and says so)."""

    locale: str
    requested: str | None = None
    fell_back: bool = False

    @property
    def direction(self) -> str:
        return "rtl" if language(self.locale) in RTL_LANGUAGES else "ltr"

    @property
    def strings(self) -> dict[str, str]:
        return catalogue(self.locale)

    def text(self, key: str, **values: str) -> str:
        """A catalogue string with its placeholders filled. In a right-to-left page each value is a
        bidi isolate (FSI … PDI), as in the privacy center, so a Latin name, id or date keeps its
        place in the sentence."""
        wording = self.strings[key]
        if self.direction == "rtl":
            values = {k: f"\u2068{v}\u2069" for k, v in values.items()}
        return wording.format(**values) if values else wording

    def when(self, value: str | None) -> str | None:
        """An ISO timestamp as the locale writes a date and time, in the zone it was recorded in (the
        person acted at 10:00 their time, not at 08:00 UTC), with that zone named."""
        if not value:
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is None:
            return format_datetime(moment, "medium", locale=_babel(self.locale))
        shown = format_datetime(moment, "medium", tzinfo=moment.tzinfo, locale=_babel(self.locale))
        return f"{shown} ({get_timezone_gmt(moment, locale=_babel(self.locale))})"

    def day(self, value: str | None) -> str | None:
        """A calendar date (``2026-08-01``, a request's due date) in the locale's long form."""
        if not value:
            return None
        try:
            return format_date(date.fromisoformat(value[:10]), "long", locale=_babel(self.locale))
        except ValueError:
            return value

    def number(self, value: int) -> str:
        return format_decimal(value, locale=_babel(self.locale))

    def join(self, items: list[str]) -> str:
        """A list as the locale writes one ("a, b and c", "a، b و c")."""
        return format_list(items, locale=_babel(self.locale)) if items else ""

    def days(self, value: int) -> str:
        """``730`` → "730 days", "730 Tage", with the locale's plural rules."""
        return format_unit(value, "duration-day", length="long", locale=_babel(self.locale))


def choose(requested: str | None, accept_language: str | None, default: str) -> ReportLocale:
    """The report's locale the way the privacy center picks its own: an explicit locale (query
    parameter, ``--locale``), else the browser's ``Accept-Language``, else the policy's default.

    An explicit locale the report lacks is not silently swapped for another the person did not ask
    for: the report is then in English and says so.
    """
    if requested:
        found = negotiate(requested, None, "und")  # "und" matches nothing: a miss ends in "en"
        if found == "en" and language(requested) != "en":
            return ReportLocale("en", requested, fell_back=True)
        return ReportLocale(found, requested)
    return ReportLocale(negotiate(None, accept_language, default))


@cache
def catalogue(locale: str) -> dict[str, str]:
    """The report's strings in one shipped locale."""
    if locale not in INTERFACE_LOCALES:
        raise KeyError(locale)
    text = (files("consentgate.requests") / "i18n" / f"{locale}.json").read_text(encoding="utf-8")
    strings: dict[str, str] = json.loads(text)
    return strings


@cache
def _babel(locale: str) -> Locale:
    return Locale.parse(_CLDR.get(locale, locale.replace("-", "_")))

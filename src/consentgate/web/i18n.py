"""The banner's and privacy center's own words, one JSON file per locale in ``web/i18n/``.

Notice wording and purpose titles come from the policy; these files hold only the interface: button
labels, headings, messages. Every file has every key of ``en.json`` (tests/web/test_i18n.py), so a
visitor never sees a mix of languages in the interface. Files are served as they are
(``GET /i18n/{locale}.json``) and the banner's configuration carries the one the visitor needs, so no
locale is bundled into ``banner.js``.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib.resources import files

# Scripts written right to left among the languages we ship or may ship (ISO 639-1).
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur", "yi"})
LOCALE_PATTERN = r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$"
_LOCALE = re.compile(LOCALE_PATTERN)
_QUALITY = re.compile(r"^q=([01](?:\.\d{0,3})?)$")


@cache
def available() -> tuple[str, ...]:
    """Locales with a translation file, sorted (``en``, ``de``, ``pt``, …)."""
    folder = files("consentgate.web") / "i18n"
    return tuple(sorted(f.name[: -len(".json")] for f in folder.iterdir() if f.name.endswith(".json")))


@cache
def strings(locale: str) -> dict[str, str]:
    """The interface strings of one available locale."""
    if locale not in available():
        raise KeyError(locale)
    text = (files("consentgate.web") / "i18n" / f"{locale}.json").read_text(encoding="utf-8")
    data: dict[str, str] = json.loads(text)
    return data


def direction(locale: str) -> str:
    return "rtl" if _language(locale) in RTL_LANGUAGES else "ltr"


def negotiate(requested: str | None, accept_language: str | None, default: str) -> str:
    """The best available locale: the requested one (exact, then its language), then the browser's
    ``Accept-Language`` in order of preference, then the policy's default, then English."""
    offered = {loc.lower(): loc for loc in available()}

    def match(tag: str) -> str | None:
        tag = tag.strip().replace("_", "-").lower()
        if not tag or not _LOCALE.match(tag):
            return None
        return offered.get(tag) or offered.get(_language(tag))

    candidates = [requested] if requested else []
    candidates += _preferences(accept_language or "")
    candidates += [default, "en"]
    for tag in candidates:
        if tag and (found := match(tag)) is not None:
            return found
    return available()[0]


def _language(tag: str) -> str:
    return tag.replace("_", "-").split("-", 1)[0].lower()


def _preferences(header: str) -> list[str]:
    """``Accept-Language`` tags by descending quality (RFC 9110 §12.5.4); malformed entries dropped."""
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")[:20]):
        tag, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            found = _QUALITY.match(param.replace(" ", ""))
            if found:
                quality = float(found.group(1))
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, i, tag))
    return [tag for _, _, tag in sorted(ranked)]

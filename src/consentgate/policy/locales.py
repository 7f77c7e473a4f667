"""The languages the banner's interface ships in, and how one of them is picked for a visitor.

The policy lint needs the list (a notice should have wording in every language the banner offers),
and so do the banner and the privacy center; it lives here, below both, so that the policy never
imports the web package. The interface strings themselves stay in ``web/i18n/<locale>.json``:
``tests/web/test_i18n.py`` checks that those files are exactly :data:`INTERFACE_LOCALES`.
"""

from __future__ import annotations

import re

# One per file in web/i18n/, sorted: every official EU language and 26 more (Arabic, Hebrew, Persian and
# Urdu right to left). A region or script appears only where the wording differs (pt-BR, zh-Hans,
# zh-Hant); ``negotiate`` maps the tags browsers send onto them (pt-PT → pt, zh-TW → zh-Hant, no → nb).
INTERFACE_LOCALES: tuple[str, ...] = (
    "ar", "bg", "bs", "ca", "cs", "da", "de", "el", "en", "es", "et", "eu", "fa", "fi", "fr", "ga",
    "gl", "he", "hi", "hr", "hu", "id", "is", "it", "ja", "ko", "lt", "lv", "mk", "ms", "mt", "nb",
    "nl", "pl", "pt", "pt-BR", "ro", "ru", "sk", "sl", "sq", "sr", "sv", "th", "tr", "uk", "ur", "vi",
    "zh-Hans", "zh-Hant",
)  # fmt: skip
LOCALE_PATTERN = r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$"
_LOCALE = re.compile(LOCALE_PATTERN)
_QUALITY = re.compile(r"^q=([01](?:\.\d{0,3})?)$")


# Tags browsers send for a locale we ship under another name (lower case): Chinese by region, since
# browsers rarely send the script; Norwegian "no" and Nynorsk readers get Bokmål, which they all read.
_ALIASES = {
    "zh": "zh-Hans", "zh-cn": "zh-Hans", "zh-sg": "zh-Hans", "zh-my": "zh-Hans",
    "zh-tw": "zh-Hant", "zh-hk": "zh-Hant", "zh-mo": "zh-Hant",
    "no": "nb", "nn": "nb",
}  # fmt: skip


def negotiate(requested: str | None, accept_language: str | None, default: str) -> str:
    """The best interface locale: the requested one (exact, then shorter prefixes: ``zh-Hant-TW`` →
    ``zh-Hant`` → ``zh``), then the browser's ``Accept-Language`` in order of preference, then the
    policy's default, then English."""
    offered = {loc.lower(): loc for loc in INTERFACE_LOCALES}

    def match(tag: str) -> str | None:
        tag = tag.strip().replace("_", "-").lower()
        if not tag or not _LOCALE.match(tag):
            return None
        parts = tag.split("-")
        for end in range(len(parts), 0, -1):
            prefix = "-".join(parts[:end])
            found = offered.get(prefix) or offered.get(_ALIASES.get(prefix, "").lower())
            if found:
                return found
        return None

    candidates = [requested] if requested else []
    candidates += _preferences(accept_language or "")
    candidates += [default, "en"]
    for tag in candidates:
        if tag and (found := match(tag)) is not None:
            return found
    return INTERFACE_LOCALES[0]


def language(tag: str) -> str:
    """``pt-BR`` → ``pt``: the language part of a locale tag, lower-case."""
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

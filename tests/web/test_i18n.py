"""The interface in at least every official EU language, right to left where the script is."""

from __future__ import annotations

import itertools
import json
import re
import unicodedata
from importlib.resources import files

import pytest

from consentgate.web import i18n

EU_LANGUAGES = {"bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr", "hu", "it", "lt",
                "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv"}  # fmt: skip
MORE_LANGUAGES = {"nb", "is", "ca", "eu", "gl", "sr", "bs", "mk", "sq", "uk", "ru", "tr", "ar", "he", "hi",
                  "ja", "ko", "zh-Hans", "zh-Hant", "th", "vi", "id", "ms", "pt-BR", "fa", "ur"}  # fmt: skip
KEYS = list(json.loads((files("consentgate.web") / "i18n" / "en.json").read_text(encoding="utf-8")))
MARKUP = re.compile(r"<[a-zA-Z/!]")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def test_the_declared_interface_locales_are_exactly_the_shipped_files() -> None:
    # The policy lint reads the list (policy/locales.py) without importing the web package; a file
    # added or removed here without the list would make it warn about the wrong languages.
    shipped = sorted(f.name.removesuffix(".json") for f in (files("consentgate.web") / "i18n").iterdir()
                     if f.name.endswith(".json"))  # fmt: skip
    assert list(i18n.available()) == shipped


def test_every_official_eu_language_and_the_issues_list_are_offered() -> None:
    # Issue 17: at least 42, every EU official language and these, right to left where the script is.
    offered = set(i18n.available())
    assert offered >= EU_LANGUAGES | MORE_LANGUAGES
    assert len(offered) >= 42
    assert {loc for loc in offered if i18n.direction(loc) == "rtl"} == {"ar", "fa", "he", "ur"}


@pytest.mark.parametrize("locale", i18n.available())
def test_every_locale_file_has_every_key(locale: str) -> None:
    strings = i18n.strings(locale)
    assert list(strings) == KEYS, "same keys, same order as en.json"
    for key, text in strings.items():
        assert isinstance(text, str)
        assert text.strip() == text
        assert text, f"{locale}.{key} is empty"
        assert not MARKUP.search(text), f"{locale}.{key} looks like markup; strings are shown as text"
    if locale != "en":
        # A file copied from English and never translated would pass the key check; buttons tell.
        english = i18n.strings("en")
        assert (strings["accept_all"], strings["reject_all"]) != (
            english["accept_all"],
            english["reject_all"],
        )


@pytest.mark.parametrize("locale", i18n.available())
def test_placeholders_match_english(locale: str) -> None:
    # "{id}" and "{date}" are filled in by the privacy center: a translation that drops or renames one
    # would show a message without the request's reference or due date.
    english = i18n.strings("en")
    for key, text in i18n.strings(locale).items():
        assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(english[key])), (
            f"{locale}.{key} must keep the placeholders of en.{key}"
        )


def test_request_strings_are_translated() -> None:
    # The privacy center's request section, like the buttons, must not be an untranslated copy.
    english = i18n.strings("en")
    keys = [k for k in KEYS if k.startswith(("pc_erase", "pc_object", "pc_access", "pc_req_"))]
    assert len(keys) >= 10
    for locale in i18n.available():
        if locale != "en":
            same = [k for k in keys if i18n.strings(locale)[k] == english[k]]
            assert not same, f"{locale} keeps English text for {same}"


def test_buttons_read_accept_all_and_reject_all_in_english() -> None:
    strings = i18n.strings("en")
    assert (strings["accept_all"], strings["reject_all"]) == ("Accept all", "Reject all")  # docs/web.md


@pytest.mark.parametrize(
    ("requested", "accept_language", "expected"),
    [
        ("de-AT", None, "de"),
        ("pt_BR", None, "pt-BR"),
        ("zh-TW", None, "zh-Hant"),
        ("zh-Hant-HK", None, "zh-Hant"),
        ("zh-Hans-TW", None, "zh-Hans"),
        (None, "zh-CN,zh;q=0.9", "zh-Hans"),
        (None, "zh", "zh-Hans"),
        ("no", None, "nb"),
        (None, "nn-NO, en;q=0.3", "nb"),
        ("sr-Cyrl-RS", None, "sr"),
        ("fa-IR", None, "fa"),
        ("pt-PT", None, "pt"),
        ("pt", None, "pt"),
        (None, "pt-br;q=0.8, en;q=0.5", "pt-BR"),
        ("GA", None, "ga"),
        (None, "fr-CH;q=0.9, he;q=1", "he"),
        (None, "xx, nl;q=0.5", "nl"),
        ("zz", "q=bogus, *;q=0.1", "en"),
        ("<script>", None, "en"),
        (None, None, "en"),
    ],
)
def test_locale_negotiation(requested: str | None, accept_language: str | None, expected: str) -> None:
    assert i18n.negotiate(requested, accept_language, "en") == expected


def test_the_policy_default_locale_is_the_fallback() -> None:
    assert i18n.negotiate("zz", None, "sv") == "sv"


# French puts a no-break space before the two-part marks (U+00A0 before ":", the narrow U+202F before
# ";", "?" and "!"), so a line never starts with one of them.
FRENCH_MARK_AFTER_SPACE = re.compile(r"[ \t]+[:;?!]")
ARABIC_SCRIPT = ("ar", "fa", "ur")
GRAMMATICAL_PAIRS = {"vous vous", "nous nous", "të të"}


@pytest.mark.parametrize("locale", [loc for loc in i18n.available() if i18n.language(loc) == "fr"])
def test_french_has_no_break_spaces_before_two_part_marks(locale: str) -> None:
    for key, text in i18n.strings(locale).items():
        assert not FRENCH_MARK_AFTER_SPACE.search(text), f"{locale}.{key}: {text!r}"


@pytest.mark.parametrize("locale", [loc for loc in i18n.available() if i18n.language(loc) in ARABIC_SCRIPT])
def test_arabic_script_uses_its_own_comma_and_semicolon(locale: str) -> None:
    for key, text in i18n.strings(locale).items():
        assert not re.search(r"[,;?]", text), f"{locale}.{key} uses a Latin mark where ، ؛ ؟ belong"


@pytest.mark.parametrize("locale", i18n.available())
def test_no_word_is_doubled(locale: str) -> None:
    # el and bg once read "σας σας" / "ви ви": a pronoun repeated by two clauses that met. French
    # reflexives ("vous vous y opposez") and Albanian's article before "të dhënat" (data) are grammar.
    # Words are what whitespace separates: a regular-expression \w stops at Devanagari vowel signs and
    # would see "द द" in "पसंद देखने".
    for key, text in i18n.strings(locale).items():
        words = [
            "".join(c for c in w if not unicodedata.category(c).startswith("P")).casefold()
            for w in PLACEHOLDER.sub("", text).split()
        ]
        doubled = [f"{a} {b}" for a, b in itertools.pairwise(words) if a and a == b]
        assert not [d for d in doubled if d not in GRAMMATICAL_PAIRS], f"{locale}.{key} repeats {doubled}"

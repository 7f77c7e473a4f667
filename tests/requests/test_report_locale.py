"""The access report in the person's language (issue 17 item 2): its own catalogue per locale, the
locale picked the way the privacy center picks its own, dates and numbers written the locale's way,
and the policy's own wording shown as recorded, never translated."""

from __future__ import annotations

import json
import re
from importlib.resources import files
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from consentgate.pipeline import FilterOptions
from consentgate.pipeline.export import export_files
from consentgate.pipeline.training import TrainingRun
from consentgate.policy.locales import INTERFACE_LOCALES
from consentgate.requests import RequestDesk, access_report, report_html
from consentgate.requests.report_locale import FALLBACK, ReportLocale, catalogue, choose
from tests.web.test_glossary import uses  # the banner's glossary matching, one definition

from .conftest import Invoke, grant, ok, record_filtered

ENGLISH = catalogue("en")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
MARKUP = re.compile(r"<[a-zA-Z/!]")
GLOSSARY = json.loads((files("consentgate.web") / "glossary.json").read_text(encoding="utf-8"))
TERMS: dict[str, dict[str, list[str]]] = GLOSSARY["terms"]
NOTICE = "Use my chats to train models."  # the policy's wording (tests/requests/policy.yaml)


def sentences(text: str) -> list[str]:
    """The runs of three or more words between a string's placeholders: what would show up verbatim
    in a page that leaked the string (single words such as "Region" or "Banner" are often the same)."""
    return [part.strip() for part in PLACEHOLDER.split(text)[::2] if len(part.split()) >= 3]


def visible_text(page: str) -> str:
    body = page.split("<body>", 1)[1]
    text = re.sub(r"[ \t\n]+", " ", re.sub(r"<[^>]+>", " ", body))  # \s would fold French no-break spaces
    return text.replace("&#x27;", "'").replace("&amp;", "&")


# -- the catalogues ---------------------------------------------------------------------------------


def test_the_report_ships_in_exactly_the_privacy_centers_locales() -> None:
    shipped = sorted(f.name.removesuffix(".json") for f in (files("consentgate.requests") / "i18n").iterdir()
                     if f.name.endswith(".json"))  # fmt: skip
    assert shipped == sorted(INTERFACE_LOCALES)


@pytest.mark.parametrize("locale", INTERFACE_LOCALES)
def test_every_catalogue_has_every_key_and_keeps_the_placeholders(locale: str) -> None:
    strings = catalogue(locale)
    assert list(strings) == list(ENGLISH), "same keys, same order as en.json"
    for key, text in strings.items():
        assert text, f"{locale}.{key} is empty"
        assert text == text.strip(), f"{locale}.{key}"
        assert not MARKUP.search(text), f"{locale}.{key} looks like markup; the page escapes it"
        assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(ENGLISH[key])), (
            f"{locale}.{key} must keep the placeholders of en.{key}"
        )
        if locale != "en":
            assert not set(sentences(ENGLISH[key])) & {text, *sentences(text)}, f"{locale}.{key} is English"


@pytest.mark.parametrize("locale", INTERFACE_LOCALES)
def test_every_string_that_names_a_legal_term_uses_the_locales_glossary(locale: str) -> None:
    # The banner's glossary (web/glossary.json): a string whose English names consent, withdrawal,
    # objection, opt-out or erasure says it with the locale's one term, as the banner and privacy
    # center do, so the report never calls an erasure "deleted" where the center says "erased".
    named = {k: [c for c, forms in TERMS["en"].items() if uses(text, forms)] for k, text in ENGLISH.items()}
    assert sum(map(len, named.values())) >= 15  # the check has something to check
    strings = catalogue(locale)
    wrong = [
        f"{key} ({concept}): {strings[key]!r}"
        for key, concepts in named.items()
        for concept in concepts
        if not uses(strings[key], TERMS[locale][concept])
    ]
    assert not wrong, f"{locale} strings missing the glossary term: {wrong}"


# -- choosing the locale ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requested", "accept", "default", "expected"),
    [
        ("de-AT", None, "en", ReportLocale("de", "de-AT")),
        ("zh-Hant-HK", None, "en", ReportLocale("zh-Hant", "zh-Hant-HK")),
        ("zh-TW", None, "en", ReportLocale("zh-Hant", "zh-TW")),
        ("pt-BR", None, "en", ReportLocale("pt-BR", "pt-BR")),
        ("pt-PT", None, "en", ReportLocale("pt", "pt-PT")),
        ("en-GB", "de", "fr", ReportLocale("en", "en-GB")),
        # Asked for a language the report lacks: English, and it says so (not the Accept-Language).
        ("sw", "de", "fr", ReportLocale("en", "sw", fell_back=True)),
        (None, "sw, fr-CA;q=0.8, de;q=0.5", "en", ReportLocale("fr")),
        (None, None, "nb", ReportLocale("nb")),
        (None, "sw", "sv", ReportLocale("sv")),
    ],
)
def test_the_locale_is_negotiated_like_the_privacy_centers(
    requested: str | None, accept: str | None, default: str, expected: ReportLocale
) -> None:
    assert choose(requested, accept, default) == expected


def test_dates_numbers_and_durations_are_written_the_locales_way() -> None:
    when = "2026-02-02T10:00:00-05:00"  # as the person acted, in their zone
    de, ja, en = ReportLocale("de"), ReportLocale("ja"), ReportLocale("en")
    assert de.when(when) == "02.02.2026, 10:00:00 (GMT-05:00)"
    assert en.when(when) == "Feb 2, 2026, 10:00:00\u202fAM (GMT-05:00)"  # CLDR's narrow no-break space
    assert ja.day("2026-03-01") == "2026年3月1日"
    assert (de.days(730), de.days(1), en.days(1)) == ("730 Tage", "1 Tag", "1 day")
    assert (de.number(12345), en.number(12345)) == ("12.345", "12,345")
    assert ReportLocale("ar").join(["a", "b", "c"]) == "a وb وc"
    assert ReportLocale("pt").day("2026-03-01") == "1 de março de 2026"
    assert ReportLocale("pt-BR").day("2026-03-01") == "1 de março de 2026"
    assert ReportLocale("he").direction == "rtl"
    # Filled-in values are bidi isolates in a right-to-left page, so a Latin name keeps its place.
    assert ReportLocale("ar").text("title", org="Example Ltd") == "بياناتك لدى \u2068Example Ltd\u2069"
    assert de.text("title", org="Example Ltd") == "Ihre Daten bei Example Ltd"
    assert de.direction == "ltr"


# -- the report in every locale ---------------------------------------------------------------------


@pytest.fixture
def used(desk: RequestDesk, site: Path, ledger_url: str) -> RequestDesk:
    """ann's data used everywhere the report looks: a filtered dataset, a training run, a vendor
    export, and an access request carried out."""
    svc = desk.service
    record_filtered(svc, site, "in.parquet")
    with TrainingRun(
        "train_chat", model="support-bot-v1", dataset=site / "clean.parquet", policy=site / "policy.yaml",
        ledger=ledger_url, options=FilterOptions("user_id"),
    ) as run:  # fmt: skip
        run.check(pq.read_table(site / "clean.parquet"))
    export_files(svc.policy, svc.ledger, "llm-host", "train_chat", site / "in.parquet", site / "out.parquet",
                 FilterOptions(subject_column="user_id"))  # fmt: skip
    req = desk.file("access", "ann")
    desk.complete(desk.verify(req.request_id, method="signed-in account").request_id)
    return desk


def check_page(page: str, locale: str) -> None:
    words = ReportLocale(locale)
    assert f'<html lang="{locale}" dir="{words.direction}">' in page
    text = visible_text(page)
    assert not PLACEHOLDER.search(text), "a placeholder was left unfilled"
    assert "None" not in text
    for key in ("h_choices", "h_purposes", "h_sources", "h_runs", "h_limits", "as_recorded", "limit_forget"):
        assert words.text(key) in text, f"{locale}.{key} is missing from the page"
    if locale != "en":
        leaked = [s for value in ENGLISH.values() for s in sentences(value) if s in text]
        assert not leaked, f"English in the {locale} report: {leaked}"
    # The policy's wording, as recorded and in the language it was shown in, whatever the report's.
    assert f'<td lang="en" dir="auto">{NOTICE}</td>' in page
    assert "Train the support chatbot" in text


def in_locale(report: dict[str, Any], locale: str) -> dict[str, Any]:
    """The same report as if built in ``locale``: the page takes every word from the catalogue, so
    re-rendering skips rebuilding the report 50 times (the JSON side is checked on its own)."""
    return {**report, "locale": {"used": locale, "requested": None, "fell_back": False}}


def test_every_locale_renders_the_whole_report(used: RequestDesk) -> None:
    english = access_report(used, "ann", locale=ReportLocale("en"))
    assert english["training_runs"]
    assert english["datasets"]
    assert english["vendors"]
    assert english["requests"]
    for locale in INTERFACE_LOCALES:
        check_page(report_html(in_locale(english, locale)), locale)
    for locale in ("de", "ar", "ja", "pt-BR"):
        report = access_report(used, "ann", locale=ReportLocale(locale))
        check_page(report_html(report), locale)
        # JSON keys and codes are contracts: the same in every locale; only the sentences differ.
        assert shape(report) == shape(english), locale
        assert [e["action"] for e in report["consent_history"]] == ["grant", "grant"]
        assert report["locale"] == {"used": locale, "requested": None, "fell_back": False}
        assert report["limits"] == [catalogue(locale)["limit_forget"], catalogue(locale)["limit_erasure"]]
        assert report["training_runs"][0]["model_status"] == catalogue(locale)["model_status"]
        assert report["retention"]["consent_records"] == catalogue(locale)["retention_records"]


def shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items() if k not in ("generated_at",)}
    if isinstance(value, list):
        return [shape(v) for v in value]
    return type(value).__name__


def test_an_erased_person_s_report_in_every_locale(desk: RequestDesk) -> None:
    req = desk.file("erase", "ann")
    desk.complete(desk.verify(req.request_id, method="signed-in account").request_id)
    erased = access_report(desk, "ann")
    for locale in INTERFACE_LOCALES:
        words = ReportLocale(locale)
        report = in_locale(erased, locale)
        page = report_html(report)
        when = words.when(report["erased"]["at"])
        assert when
        assert words.text("erased", date=when) in visible_text(page)
        assert words.text("why_erased", date=when) in visible_text(page)
        assert f'<html lang="{locale}" dir="{words.direction}">' in page


def test_the_why_column_tells_the_decision_in_the_persons_words(desk: RequestDesk) -> None:
    svc = desk.service
    svc.record([("", {"subject": "dee", "action": "object", "purposes": ["tune_ranker"], "region": "DE",
                      "occurred_at": "2026-02-03T09:30:00+01:00"})])  # fmt: skip
    de = ReportLocale("de")
    page = visible_text(report_html(access_report(desk, "dee", locale=de)))
    # tune_ranker: legitimate interest, objected; train_chat and analytics: consent, none given.
    objected = de.when("2026-02-03T09:30:00+01:00") or ""
    assert de.text("why_choice", date=objected, choice="Widersprochen") in page
    assert page.count(de.text("why_no_consent")) == 2
    ann = visible_text(report_html(access_report(desk, "ann", locale=de)))
    assert de.text("why_granted", date=de.when("2026-02-01T10:00:00+00:00") or "") in ann
    assert de.text("why_no_objection") in ann  # tune_ranker: ann never objected
    # A "yes" under legitimate interest is a choice, not consent: it is not called consent.
    svc.record([grant("eve", "tune_ranker", when="2026-02-04T08:00:00Z")])
    eve = visible_text(report_html(access_report(desk, "eve", locale=de)))
    said = de.when("2026-02-04T08:00:00+00:00") or ""
    assert de.text("why_choice", date=said, choice=catalogue("de")["act_grant"]) in eve
    assert de.text("why_granted", date=said) not in eve


def test_a_ledger_with_nothing_to_check_is_not_called_intact(desk: RequestDesk) -> None:
    page = visible_text(report_html(access_report(desk, "nobody@example.com", locale=ReportLocale("fr"))))
    assert catalogue("fr")["chain_nothing"] in page
    assert catalogue("fr")["chain_intact"] not in page


def test_a_language_the_report_lacks_gives_english_and_says_so(desk: RequestDesk) -> None:
    words = choose("sw", None, "de")
    report = access_report(desk, "ann", locale=words)
    assert report["locale"] == {"used": "en", "requested": "sw", "fell_back": True}
    page = report_html(report)
    assert '<html lang="en" dir="ltr">' in page
    assert FALLBACK.format(requested="sw") in page


def test_a_report_stored_before_reports_had_a_locale_still_renders(desk: RequestDesk) -> None:
    report = access_report(desk, "ann")
    del report["locale"]
    assert '<html lang="en" dir="ltr">' in report_html(report)


# -- the CLI ----------------------------------------------------------------------------------------


def test_the_cli_writes_the_report_in_the_locale_asked_for(cg: Invoke, site: Path) -> None:
    ok(cg("record", "--subject", "ann", "--action", "grant", "--purpose", "train_chat", "--region", "DE",
          "--notice-version", "1"))  # fmt: skip
    page = ok(cg("requests", "report", "--subject", "ann", "--html", "--locale", "ar")).stdout
    check_page(page, "ar")
    body = json.loads(ok(cg("requests", "report", "--subject", "ann", "--locale", "ja")).stdout)
    assert body["locale"]["used"] == "ja"
    assert body["limits"][0] == catalogue("ja")["limit_forget"]
    out = site / "ann.html"
    result = ok(cg("requests", "report", "--subject", "ann", "--out", str(out), "--locale", "sw"))
    assert FALLBACK.format(requested="sw") in result.stderr
    assert '<html lang="en" dir="ltr">' in out.read_text(encoding="utf-8")
    bad = cg("requests", "report", "--subject", "ann", "--locale", "de; rm")
    assert bad.exit_code == 2
    assert "is not a language tag" in bad.output


def test_completing_an_access_request_writes_the_report_in_the_locale(cg: Invoke, site: Path) -> None:
    ok(cg("record", "--subject", "ann", "--action", "grant", "--purpose", "train_chat", "--region", "DE",
          "--notice-version", "1"))  # fmt: skip
    rid = ok(cg("requests", "file", "--kind", "access", "--subject", "ann")).stdout.strip()
    out = site / "report.html"
    ok(cg("requests", "complete", rid, "--out", str(out), "--locale", "he"))
    check_page(out.read_text(encoding="utf-8"), "he")

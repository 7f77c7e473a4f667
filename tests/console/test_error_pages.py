"""Every error the console shows is in the reader's language (issue 16 item 2): sign-in failures,
Origin and CSRF refusals, the sign-in rate limit, a field of the overview form to fix, a page that
does not exist, a method or a body the console does not take, a parameter out of shape, a scan that
cannot be read. Each path is rendered in a language other than English and no English sentence of the
catalogue may appear on it, while the locale's own sentence for that error must."""

from __future__ import annotations

import html
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from consentgate.server import consoleviews as views
from consentgate.server import create_app
from consentgate.service import ConsentService
from consentgate.settings import Settings
from consentgate.web import console_i18n
from tests.console.conftest import ORIGIN, csrf_of, sign_in
from tests.server.test_chain_guard import alter

LOCALES = ("ja", "fa", "de")
FOREIGN = "https://attacker.example.net"


def _text(page: str) -> str:
    """What a person reads: the page without its tags, scripts and attribute values."""
    page = re.sub(r"<script\b.*?</script>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def english_leaks(page: str, locale: str) -> list[str]:
    """English catalogue sentences (each stretch of three words or more between placeholders) that
    appear on a page meant to be in ``locale``, where the locale's sentence differs."""
    english, strings = console_i18n.strings("en"), console_i18n.strings(locale)
    text = " ".join(_text(page).split())
    leaks = []
    for key, sentence in english.items():
        if strings[key] == sentence:
            continue
        for stretch in re.split(r"\{\w+\}", sentence):
            stretch = stretch.strip(" .:;,()")
            if len(stretch.split()) >= 3 and stretch in text:
                leaks.append(f"{key}: {stretch!r}")
    return leaks


def shows(page: str, sentence: str) -> bool:
    return " ".join(sentence.split()) in " ".join(_text(page).split())


def says(page: str, sentence: str, locale: str) -> None:
    """The page says ``sentence`` and no English sentence of the catalogue."""
    assert shows(page, sentence), _text(page)
    assert english_leaks(page, locale) == []


@pytest.fixture(params=LOCALES)
def locale(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def reader(console_client: TestClient, locale: str) -> TestClient:
    """The console's client, reading in ``locale`` (the browser's Accept-Language, as for POSTs
    and error pages, which have no ``lang`` parameter)."""
    console_client.headers["Accept-Language"] = f"{locale}, en;q=0.1"
    return console_client


def test_the_checker_sees_english(console_client: TestClient, locale: str) -> None:
    english = console_client.get("/console/sign-in", params={"lang": "en"}).text
    assert english_leaks(english, locale)  # the English page is full of English sentences
    own = console_client.get("/console/sign-in", params={"lang": locale}).text
    assert english_leaks(own, locale) == []


def test_sign_in_failures(reader: TestClient, locale: str) -> None:
    t = console_i18n.strings(locale)
    bad = reader.post("/console/sign-in", data={"key": "cg_not_a_key"}, headers={"Origin": ORIGIN})
    assert bad.status_code == 401
    says(bad.text, t["bad_key"], locale)
    foreign = reader.post("/console/sign-in", data={"key": "cg_not_a_key"}, headers={"Origin": FOREIGN})
    assert foreign.status_code == 403
    says(foreign.text, t["csrf_refused"], locale)
    for response in (bad, foreign):
        assert f'<html lang="{locale}"' in response.text
    for _ in range(6):
        limited = reader.post("/console/sign-in", data={"key": "x"}, headers={"Origin": ORIGIN})
    assert limited.status_code == 429
    says(limited.text, t["too_many"], locale)


def test_refused_posts_of_a_signed_in_page(
    reader: TestClient, console_keys: dict[str, str], locale: str
) -> None:
    t = console_i18n.strings(locale)
    sign_in(reader, console_keys["audit"])
    csrf = csrf_of(reader.get("/console/ledger").text)
    refusals = [
        reader.post("/console/ledger", data={"subject": "ana@example.com"}, headers={"Origin": ORIGIN}),
        reader.post("/console/ledger", data={"subject": "ana@example.com", "csrf": csrf},
                    headers={"Origin": FOREIGN}),
        reader.post("/console/sign-out", data={"csrf": "forged"}, headers={"Origin": ORIGIN}),
    ]  # fmt: skip
    for response in refusals:
        assert response.status_code == 403
        says(response.text, t["csrf_refused"], locale)
    unknown = reader.post(
        "/console/ledger", data={"subject": "nobody@example.com", "csrf": csrf}, headers={"Origin": ORIGIN}
    )
    says(unknown.text, t["unknown_subject"], locale)


def test_pages_methods_bodies_and_parameters_the_console_does_not_take(
    reader: TestClient, console_keys: dict[str, str], locale: str
) -> None:
    t = console_i18n.strings(locale)
    sign_in(reader, console_keys["audit"])
    cases = [
        (reader.get("/console/no-such-page"), 404, t["not_found"]),
        (reader.get("/console/static/no-such-file.js"), 404, t["not_found"]),
        (reader.put("/console/ledger"), 405, t["method_not_allowed"]),
        (reader.post("/console/sign-in", content=b"key=" + b"k" * 5000,
                     headers={"Origin": ORIGIN, "Content-Type": "application/x-www-form-urlencoded"}),
         413, t["too_large"]),
        (reader.get("/console/risk", params={"lang": "<b>"}), 422, t["bad_parameter"].format(fields="lang")),
    ]  # fmt: skip
    for response, status, sentence in cases:
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("text/html")
        assert f'<html lang="{locale}"' in response.text
        says(response.text, sentence, locale)
    assert "GET" in cases[2][0].headers["allow"]
    # Outside the console the JSON API keeps its one error shape.
    api = reader.get("/v1/no-such-endpoint")
    assert api.status_code == 404
    assert api.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"from": "last tuesday"}, "query_not_time"),
        ({"to": "2026-02-30"}, "query_not_time"),
        ({"from": "2026-03-01T10:00:00"}, "query_no_zone"),
        ({"to": "2999-01-01"}, "query_future"),
        ({"from": "2026-05-02", "to": "2026-05-01"}, "query_order"),
        ({"interval": "year"}, "query_choice"),
        ({"by": "source"}, "query_choice"),
        ({"from": "2016-01-01", "to": "2026-01-01", "interval": "day"}, "query_too_long"),
    ],
)
def test_a_field_to_fix_is_named_in_the_readers_language(
    reader: TestClient, console_keys: dict[str, str], locale: str, params: dict[str, str], key: str
) -> None:
    t = console_i18n.strings(locale)
    sign_in(reader, console_keys["audit"])
    with pytest.raises(views.FormProblem) as problem:
        views.OverviewQuery.parse(params)
    assert problem.value.key == key
    expected = problem.value.shown(t)
    # The field is named by its label on this page, and what was typed is quoted back.
    assert t[views.FIELD_LABELS[problem.value.field]] in expected
    assert all(
        f'"{v}"' in expected
        for k, v in params.items()
        if k == problem.value.field and key != "query_too_long"
    )
    page = reader.get("/console", params=params)
    assert page.status_code == 400
    says(page.text, expected, locale)
    csv = reader.get("/console/overview.csv", params=params)
    assert csv.status_code == 400
    assert csv.text.strip() == expected


@pytest.fixture
def unreadable_scan(console_client: TestClient, tmp_path: Path) -> Iterator[Path]:
    scan = tmp_path / "scan.json"
    kept = scan.read_text(encoding="utf-8")
    scan.write_text("this is not a scan", encoding="utf-8")
    yield scan
    scan.write_text(kept, encoding="utf-8")


def test_a_scan_that_cannot_be_read_or_does_not_exist(
    reader: TestClient, console_keys: dict[str, str], locale: str, unreadable_scan: Path,
    console_service: ConsentService, tmp_path: Path, example_policy_path: Path,
) -> None:  # fmt: skip
    t = console_i18n.strings(locale)
    sign_in(reader, console_keys["audit"])
    page = reader.get("/console/website").text
    says(page, t["scan_unreadable"].format(scan=unreadable_scan), locale)
    # A service that names no scan file and keeps no history: how to get a scan, in the reader's words.
    settings = Settings(db=str(tmp_path / "ledger.db"), policy=example_policy_path)
    with TestClient(create_app(settings, service=console_service), base_url=ORIGIN) as bare:
        bare.headers["Accept-Language"] = locale
        sign_in(bare, console_keys["audit"])
        page = bare.get("/console/website").text
    says(page, t["no_scan"].format(command="consentgate scan URL --out scan.json"), locale)


def _intro(page: str) -> str:
    found = re.search(r'<h2 id="h-chart-by-region">.*?</h2>\s*<p>(.*?)</p>', page, re.S)
    assert found, "the region chart has no intro"
    return html.unescape(found.group(1))


@pytest.mark.parametrize("locale", ["en", *LOCALES])
def test_the_overview_names_the_instant_it_shows(
    console_client: TestClient, console_keys: dict[str, str], locale: str
) -> None:
    # Issue 16: the intro said "now" whatever `to` the form chose. It names the instant the region
    # table is at: the end of the day chosen (a date means its whole day), as the locale writes it.
    sign_in(console_client, console_keys["audit"])
    day = datetime.now(UTC).date() - timedelta(days=30)
    end = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    past = _intro(console_client.get("/console", params={"to": day.isoformat(), "lang": locale}).text)
    assert console_i18n.instant(end, locale) in past
    assert past == console_i18n.strings(locale)["rates_intro"].format(at=console_i18n.instant(end, locale))
    current = _intro(console_client.get("/console", params={"lang": locale}).text)
    assert current != past
    if locale == "en":
        assert "now" not in past.split()
        assert end.strftime("%B") in past
        assert str(end.year) in past


def test_a_database_the_console_cannot_read(
    reader: TestClient, console_keys: dict[str, str], locale: str, tmp_path: Path
) -> None:
    # The events table gone from under the service (a restore gone wrong): the ledger page cannot be
    # drawn, and says so in the reader's language, with the status the JSON API gives such a failure.
    t = console_i18n.strings(locale)
    sign_in(reader, console_keys["audit"])
    with closing(sqlite3.connect(tmp_path / "ledger.db")) as db:
        db.execute("ALTER TABLE events RENAME TO events_elsewhere")
        db.commit()
    page = reader.get("/console/ledger")
    assert page.status_code in (500, 503)
    assert page.headers["content-type"].startswith("text/html")
    says(page.text, t["server_error"] if page.status_code == 500 else t["unavailable"], locale)
    api = reader.get("/v1/reports/ledger", headers={"Authorization": f"Bearer {console_keys['audit']}"})
    assert api.status_code == page.status_code
    assert api.json()["error"]["code"] in ("storage_failed", "storage_unavailable")


def test_a_broken_chain_is_told_in_the_readers_language(
    console_service: ConsentService,
    console_keys: dict[str, str],
    tmp_path: Path,
    example_policy_path: Path,
    locale: str,
) -> None:
    """The ledger page says where the chain breaks in the reader's language; the verifier's own
    sentence follows as a technical detail, marked as English so a screen reader reads it so."""
    alter(str(tmp_path / "ledger.db"), 2)
    settings = Settings(db=str(tmp_path / "ledger.db"), policy=example_policy_path)
    app = create_app(settings, service=console_service)
    with TestClient(app, base_url=ORIGIN) as client:
        assert app.state.consentgate.chain.check().state == "broken"
        client.headers["Accept-Language"] = f"{locale}, en;q=0.1"
        sign_in(client, console_keys["audit"])
        page = client.get("/console/ledger").text
    t = console_i18n.strings(locale)
    says(page, t["chain_broken_event"].format(seq=2), locale)
    detail = re.search(r'<details><summary>(.*?)</summary><p lang="en" dir="ltr">(.*?)</p>', page, re.S)
    assert detail is not None, page
    assert html.unescape(detail[1]) == t["chain_detail"]
    assert "no longer matches its hash" in html.unescape(detail[2])

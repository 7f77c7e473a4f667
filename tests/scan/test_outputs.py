"""The HTML report, the cookie declaration (HTML and Markdown, four languages) and /v1/declaration."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from consentgate.cli import app
from consentgate.ledger.store import Ledger
from consentgate.policy import Policy
from consentgate.scan import declaration_html, declaration_markdown, render_html
from consentgate.scan.declaration import duration, pick_language
from consentgate.server import create_app
from consentgate.service import ConsentService
from consentgate.settings import Settings

from .docs import cookie, document, host, violation

EVIL = "<script>alert(1)</script>"
DOC = document(
    cookies=[
        cookie("_ga", "analytics", ["accepted"], platform="Google Analytics", description="Counts visits."),
        cookie("sid", "necessary", session=True, description="Keeps you | signed in"),
        cookie(EVIL, "unknown", domain="evil.example.net", party="third"),
    ],
    hosts=[host("ads.example.net", "marketing")],
    violations=[violation("request", None, "ads.example.net")],
    storage=[
        {"key": "cart", "kind": "sessionStorage", "origin": "https://www.example.com", "party": "first",
         "category": "necessary", "category_source": "policy", "platform": None, "description": "Basket.",
         "phases": ["no_consent"], "first_seen": "https://www.example.com/", "first_seen_phase": "no_consent",
         "set_by": None, "pages": 1},
    ],
)  # fmt: skip


def test_report_is_self_contained_and_escaped() -> None:
    html = render_html(DOC)
    assert EVIL not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html
    assert "src=" not in html
    assert "<svg" in html
    assert "<style>" in html
    assert "ads.example.net" in html


@pytest.mark.parametrize(
    ("locale", "heading", "analytics", "session"),
    [
        ("en", "Cookie declaration", "Statistics", "Session"),
        ("de-DE", "Cookie-Erklärung", "Statistik", "Sitzung"),
        ("fr", "Déclaration relative aux cookies", "Mesure d'audience", "Session"),
        ("es-MX", "Declaración de cookies", "Estadísticas", "Sesión"),
        ("ja", "Cookie declaration", "Statistics", "Session"),  # falls back to English
    ],
)
def test_declaration_in_the_visitors_language(
    locale: str, heading: str, analytics: str, session: str
) -> None:
    md = declaration_markdown(DOC, locale)
    assert md.startswith(f"## {heading}")
    assert f"### {analytics} (1)" in md
    assert session in md
    html = declaration_html(DOC, locale)
    assert heading.replace("'", "&#x27;") in html


def test_declaration_groups_by_category_in_a_fixed_order_and_escapes() -> None:
    md = declaration_markdown(DOC, "en")
    assert md.index("Strictly necessary") < md.index("Statistics") < md.index("Not yet classified")
    assert "Keeps you \\| signed in" in md  # a pipe would break the table
    assert "&lt;script&gt;" in md
    assert EVIL not in md
    assert "| cart | this site | Basket. | Session | Session storage |" in md
    assert "| _ga | Google Analytics | Counts visits. | 1 year | HTTP cookie |" in md
    html = declaration_html(DOC, "en")
    assert EVIL not in html
    assert html.startswith('<section class="cg-declaration" lang="en">')


def test_languages_and_durations() -> None:
    assert pick_language("fr-CH, de;q=0.9, en;q=0.8") == "fr"
    assert pick_language("pt-BR, es;q=0.5") == "es"
    assert pick_language("da, nl;q=0.7") == "en"
    assert pick_language(None) == "en"
    assert duration({"lifetime_s": 86400 * 90}, "de") == "3 Monate"
    assert duration({"lifetime_s": 1800}, "es") == "30 minutos"
    assert duration({"lifetime_s": 86400}, "fr") == "1 jour"


def test_declaration_cli(tmp_path: Path) -> None:
    scan = tmp_path / "scan.json"
    scan.write_text(json.dumps(DOC))
    result = CliRunner().invoke(app, ["scan", "declaration", str(scan), "--locale", "de", "--format", "md"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("## Cookie-Erklärung")
    out = tmp_path / "report.html"
    assert CliRunner().invoke(app, ["scan", "report", str(scan), "--out", str(out)]).exit_code == 0
    assert "ads.example.net" in out.read_text()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _get(settings: Settings, service: ConsentService, url: str, **headers: str) -> httpx.Response:
    app_ = create_app(settings, service=service)
    transport = httpx.ASGITransport(app=app_)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.get(url, headers=headers)


@pytest.fixture
def service(example_policy: Policy, tmp_path: Path) -> Any:
    ledger = Ledger.open(str(tmp_path / "ledger.db"))
    yield ConsentService(example_policy, ledger)
    ledger.close()


@pytest.mark.anyio
async def test_service_serves_the_declaration(tmp_path: Path, service: ConsentService) -> None:
    scan = tmp_path / "scan.json"
    scan.write_text(json.dumps(DOC))
    settings = Settings(db=str(tmp_path / "ledger.db"), scan_file=scan)
    r = await _get(settings, service, "/v1/declaration", **{"Accept-Language": "de-DE,de;q=0.9"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["content-language"] == "de"
    assert "Cookie-Erklärung" in r.text
    r = await _get(settings, service, "/v1/declaration?format=md&locale=es")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/markdown")
    assert r.text.startswith("## Declaración de cookies")
    # A new scan written over the file is served at once.
    scan.write_text(json.dumps(document()))
    r = await _get(settings, service, "/v1/declaration?format=md")
    assert "This site sets no cookies." in r.text


@pytest.mark.anyio
async def test_declaration_without_a_scan_is_a_clear_404(tmp_path: Path, service: ConsentService) -> None:
    settings = Settings(db=str(tmp_path / "ledger.db"))
    r = await _get(settings, service, "/v1/declaration")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    assert "scan_file" in r.json()["error"]["message"]
    settings = Settings(db=str(tmp_path / "ledger.db"), scan_file=tmp_path / "missing.json")
    r = await _get(settings, service, "/v1/declaration")
    assert r.status_code == 404
    r = await _get(settings, service, "/v1/declaration?format=pdf")
    assert r.status_code == 422

"""GET /notice: the AI-training notice in the visitor's language, with the models of the ledger's
training runs, under the site's strict CSP (no inline style or script), HEAD like every page."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import escape

import httpx
import pytest

from consentgate.reports.notice.catalogue import strings
from consentgate.server.headers import HTML_HEADERS
from consentgate.service import ConsentService
from consentgate.store.runs import RunStore

pytestmark = pytest.mark.anyio


async def test_the_notice_follows_locale_then_accept_language(client: httpx.AsyncClient) -> None:
    de = await client.get("/notice?locale=de-AT")
    assert de.status_code == 200
    assert de.headers["Content-Language"] == "de"
    assert f"<h1>{escape(strings('de')['title'])}</h1>" in de.text
    fr = await client.get("/notice", headers={"Accept-Language": "kl, fr;q=0.8, en;q=0.5"})
    assert fr.headers["Content-Language"] == "fr"
    assert "<html lang='fr' dir='ltr'>" in fr.text
    fa = await client.get("/notice", headers={"Accept-Language": "fa"})
    assert "dir='rtl'" in fa.text
    assert "Accept-Language" in fr.headers["Vary"]
    # The privacy center is linked relatively: the page works wherever the service is mounted.
    assert "href='privacy-center'" in fr.text


async def test_the_page_needs_nothing_the_sites_csp_refuses(client: httpx.AsyncClient) -> None:
    page = await client.get("/notice")
    assert page.headers["Content-Security-Policy"] == HTML_HEADERS["Content-Security-Policy"]
    assert "<script" not in page.text
    assert "<style" not in page.text
    assert " style=" not in page.text
    assert "<link rel='stylesheet' href='notice.css'>" in page.text
    css = await client.get("/notice.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    head = await client.head("/notice")
    assert head.status_code == 200
    assert head.content == b""
    assert int(head.headers["Content-Length"]) == len(page.content)


async def test_a_bad_locale_is_refused(client: httpx.AsyncClient) -> None:
    assert (await client.get("/notice?locale=<script>")).status_code in (400, 422)


async def test_the_models_of_stored_training_runs_are_named(
    client: httpx.AsyncClient, service: ConsentService
) -> None:
    store = RunStore(service.ledger.engine)
    now = datetime.now(UTC)
    store.start(
        run_id="run-1", kind="training", purpose="finetune_recommender", model="recommender-2026-12",
        started_at=now, manifest={},
    )  # fmt: skip
    store.finish(run_id="run-1", status="completed", finished_at=now, records=1, subjects=1, manifest={})
    page = await client.get("/notice?locale=en")
    said = strings("en")["systems_trained"].format(systems="recommender-2026-12")
    # The sentence as a reader sees it: names sit in their own elements (bidi isolation).
    assert escape(said, quote=True) in re.sub(r"<[^>]+>", "", page.text)

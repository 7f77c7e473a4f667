"""Markdown and HTML keep the template's order and stamps, mark what is to be completed, and escape
what the provider wrote; the page opens in real Chromium loading nothing and running nothing."""

from __future__ import annotations

import re

import pytest
import yaml
from playwright.sync_api import Browser

from consentgate.reports.aiact import LAYOUT, Summary, build_summary, render_html, render_markdown
from consentgate.reports.aiact.answers import load_answers
from tests.browser import new_context

from .conftest import Trained, chats, write

HOSTILE = (
    '<script>window.__x = 1</script><img src=x onerror="window.__y=1"> **bold** [link](https://example.com)'
)
NUMBERS = [s.number for s in LAYOUT]


@pytest.fixture
def summary(trained: Trained) -> Summary:
    trained.train("support-bot-v1", write(chats(3), trained.dir / "c.parquet"))
    file = trained.dir / "ai-act-answers.yaml"
    answers = {"version": "7", "processing": {"illegal_content": {"measures": HOSTILE}}}
    file.write_text(yaml.safe_dump(answers), encoding="utf-8")
    return build_summary(trained.ledger.engine, trained.policy, "support-bot", answers=load_answers(file))


def test_markdown_follows_the_template_order_with_stamps(summary: Summary) -> None:
    md = render_markdown(summary)
    found = re.findall(r"^### (\d\.\d) ", md, flags=re.MULTILINE)
    assert found == NUMBERS
    parts = re.findall(r"^## (\d)\. ", md, flags=re.MULTILINE)
    assert parts == ["1", "2", "3"]
    assert "**Version of the Summary:** 7" in md
    assert f"**Last update:** {summary.last_update.value}" in md
    assert "C(2025) 8311" in md
    # Each open answer is marked and says what fills it.
    assert md.count("**TO BE COMPLETED**") == len(summary.open)
    assert "general.model.placed\\_on\\_market in the answers file" in md
    # What the provider wrote is text, not markup.
    assert "<script>" not in md
    assert "\\*\\*bold\\*\\*" in md


def test_html_follows_the_template_order_and_escapes(summary: Summary) -> None:
    page = render_html(summary)
    assert re.findall(r"<section id='s(\d\.\d)'>", page) == NUMBERS
    assert "<script" not in page
    assert "&lt;script&gt;" in page
    assert "Content-Security-Policy" in page
    assert page.count("class='tbc'") == len(summary.open)


def test_the_page_opens_offline_runs_nothing_and_shows_the_gaps(
    browser: Browser, summary: Summary, trained: Trained
) -> None:
    path = trained.dir / "summary.html"
    path.write_text(render_html(summary), encoding="utf-8")
    requests: list[str] = []
    problems: list[str] = []
    with new_context(browser, java_script_enabled=True) as context:
        page = context.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        assert requests == [path.as_uri()]
        assert problems == []
        assert page.evaluate("typeof window.__x === 'undefined' && typeof window.__y === 'undefined'")
        assert page.locator("script, img").count() == 0
        headings = page.locator("section h3").all_inner_texts()
        assert [h.split(" ")[0] for h in headings] == NUMBERS
        gaps = page.locator(".tbc")
        assert gaps.count() == len(summary.open)
        assert gaps.first.is_visible()
        assert HOSTILE in page.locator("#s3\\.2").inner_text()

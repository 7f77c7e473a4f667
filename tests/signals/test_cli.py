"""``consentgate signals check|list`` in-process: exit codes, the table, JSON, what is stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from consentgate.cli import app

from .site import Route, Site, closed_origin, page

READABLE = {"/robots.txt": Route(body="User-agent: CCBot\nDisallow: /\n"), "/": page()}


@pytest.fixture
def policy_file(tmp_path: Path, example_policy_path: Path) -> Path:
    return _policy(tmp_path, example_policy_path, None)


def _policy(tmp_path: Path, example: Path, crawl: dict[str, list[str]] | None) -> Path:
    """The example policy, with a crawled source when ``crawl`` is given (inserted as text: a YAML
    round trip would turn the country code NO into false)."""
    text = example.read_text(encoding="utf-8")
    if crawl is not None:
        source = {"id": "news-crawl", "kind": "web_pages", "categories": ["public.content"], "crawl": crawl}
        text = text.replace("\nsources:\n", f"\nsources:\n  - {json.dumps(source)}\n", 1)
    target = tmp_path / "policy.yaml"
    target.write_text(text, encoding="utf-8")
    return target


def _cg(tmp_path: Path, policy: Path, *args: str) -> Result:
    argv = ["--db", str(tmp_path / "cg.db"), "--policy", str(policy), *args]
    return CliRunner(env={"COLUMNS": "240"}).invoke(app, argv)


def test_every_mechanism_read_exits_0_and_prints_the_table(
    tmp_path: Path, policy_file: Path, site: Site
) -> None:
    site.routes.update(READABLE)
    result = _cg(tmp_path, policy_file, "signals", "check", site.url("/"))
    assert result.exit_code == 0, result.output
    assert f"{site.origin}: robots.txt reserved" in result.stdout
    assert "reserved for CCBot" in result.stdout
    assert "line 2: Disallow: /" in result.stdout
    assert "robots.txt: HTTP 200, sha256" in result.stdout
    listed = json.loads(_cg(tmp_path, policy_file, "signals", "list", "--json").stdout)["checks"]
    assert [c["url"] for c in listed] == [site.url("/")]
    assert listed[0]["verdicts"] == {"robots": "yes", "tdmrep": "no", "noai": "no"}


def test_an_unknown_answer_exits_3_and_says_why(tmp_path: Path, policy_file: Path, site: Site) -> None:
    site.routes.update({"/robots.txt": Route(0), "/": page()})
    result = _cg(tmp_path, policy_file, "signals", "check", "--json", site.url("/"))
    assert result.exit_code == 3, result.output
    body = json.loads(result.stdout)
    (origin,) = body["origins"]
    assert origin["verdicts"]["robots"] == "unknown"
    assert origin["complete"] is False
    assert "not 'not reserved'" in result.stderr
    table = _cg(tmp_path, policy_file, "signals", "check", site.url("/"))
    assert table.exit_code == 3
    assert "UNKNOWN" in table.stdout


def test_an_origin_nobody_answers_for_exits_3_and_is_stored(tmp_path: Path, policy_file: Path) -> None:
    nobody = closed_origin()
    result = _cg(tmp_path, policy_file, "signals", "check", nobody + "/page")
    assert result.exit_code == 3, result.output
    listed = _cg(tmp_path, policy_file, "signals", "list", "--origin", nobody + "/")
    assert listed.exit_code == 0
    assert "unknown" in listed.stdout


def test_the_policy_crawlers_are_checked_and_its_origins_used_without_urls(
    tmp_path: Path, example_policy_path: Path, site: Site
) -> None:
    site.routes.update({"/robots.txt": Route(body="User-agent: ExampleNewsBot\nDisallow: /\n"), "/": page()})
    policy = _policy(tmp_path, example_policy_path, {"agents": ["ExampleNewsBot"], "origins": [site.origin]})
    result = _cg(tmp_path, policy, "signals", "check", "--json", "--agent", "OtherBot")
    assert result.exit_code == 0, result.output
    (url,) = json.loads(result.stdout)["origins"][0]["urls"]
    assert url["url"] == site.url("/")
    assert {"ExampleNewsBot", "OtherBot", "GPTBot", "*"} <= set(url["agents"])
    assert url["crawlers"] == ["ExampleNewsBot"]  # the policy's crawler is yours; --agent is not
    reserved = [f["agent"] for f in url["findings"] if f["mechanism"] == "robots" and f["verdict"] == "yes"]
    assert reserved == ["ExampleNewsBot"]


def test_bad_input_exits_1(tmp_path: Path, policy_file: Path) -> None:
    not_http = _cg(tmp_path, policy_file, "signals", "check", "ftp://news.example.com/")
    assert not_http.exit_code == 1
    assert "is not an http(s) URL" in not_http.stderr
    nothing = _cg(tmp_path, policy_file, "signals", "check")
    assert nothing.exit_code == 1
    assert "sources[].crawl.origins" in nothing.stderr
    bad_origin = _cg(tmp_path, policy_file, "signals", "list", "--origin", "news.example.com")
    assert bad_origin.exit_code == 1


def test_a_crawl_origin_with_a_path_is_refused_by_the_policy(
    tmp_path: Path, example_policy_path: Path
) -> None:
    policy = _policy(tmp_path, example_policy_path, {"origins": ["https://news.example.com/articles"]})
    result = _cg(tmp_path, policy, "signals", "check")
    assert result.exit_code == 1
    assert "is not a site's origin: write scheme://host[:port] without a path" in result.stderr


def test_list_on_a_missing_ledger_is_an_error_not_an_empty_list(tmp_path: Path, policy_file: Path) -> None:
    result = _cg(tmp_path, policy_file, "signals", "list")
    assert result.exit_code == 1
    assert "does not exist" in result.stderr

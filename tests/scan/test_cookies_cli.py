"""`cookies update` against a local server (never the real upstream), `cookies lookup`, and the help."""

from __future__ import annotations

import csv
import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from consentgate.cli import app
from consentgate.scan.knowledge import KnowledgeBase


def _newer_database() -> str:
    text = (resources.files("consentgate.scan") / "data" / "open-cookie-database.csv").read_text("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    fields = list(rows[0])
    for r in rows:
        if r["Cookie / Data Key name"] == "_ga":
            r["Category"] = "Marketing"
    rows = [r for r in rows if r["Cookie / Data Key name"] != "_gid"]
    rows.append(
        {**rows[0], "ID": "00000000-0000-4000-8000-000000000001", "Cookie / Data Key name": "brand_new"}
    )
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    files = {"/ocd.csv": _newer_database(), "/tiny.csv": "ID,Platform\n1,x\n"}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            body = files.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.end_headers()
            self.wfile.write((body or "missing").encode())

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_update_downloads_checks_and_reports(upstream: str, tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path / "xdg"), "COLUMNS": "200"}
    result = CliRunner().invoke(app, ["cookies", "update", "--url", f"{upstream}/ocd.csv"], env=env)
    assert result.exit_code == 0, result.output
    assert "1 added, " in result.stdout
    assert "removed, 1 re-categorised" in result.stdout
    assert "_ga (Google Analytics): analytics → marketing" in result.stdout
    written = tmp_path / "xdg" / "consentgate" / "open-cookie-database.csv"
    assert written.exists()
    # Later scans and look-ups use the downloaded copy.
    lookup = CliRunner().invoke(app, ["cookies", "lookup", "_ga", "--json"], env=env)
    assert json.loads(lookup.stdout)["category"] == "marketing"
    assert KnowledgeBase.load(written).provenance.source == str(written)


def test_update_to_an_explicit_file_and_the_setting(upstream: str, tmp_path: Path) -> None:
    target = tmp_path / "ocd.csv"
    env = {"XDG_DATA_HOME": str(tmp_path / "xdg"), "CONSENTGATE_COOKIE_DATABASE_URL": f"{upstream}/ocd.csv"}
    result = CliRunner().invoke(app, ["cookies", "update", "--out", str(target)], env=env)
    assert result.exit_code == 0, result.output
    lookup = CliRunner().invoke(
        app,
        ["cookies", "lookup", "brand_new", "--json"],
        env={**env, "CONSENTGATE_COOKIE_DATABASE": str(target)},
    )
    assert json.loads(lookup.stdout)["source"] == "open-cookie-database"


@pytest.mark.parametrize(("path", "message"), [("/tiny.csv", "missing column"), ("/gone.csv", "HTTP 404")])
def test_a_bad_download_changes_nothing(upstream: str, tmp_path: Path, path: str, message: str) -> None:
    target = tmp_path / "ocd.csv"
    result = CliRunner().invoke(app, ["cookies", "update", "--url", upstream + path, "--out", str(target)])
    assert result.exit_code == 1
    assert message in result.output
    assert not target.exists()


def test_lookup_uses_the_bundled_database(tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path), "COLUMNS": "200"}
    result = CliRunner().invoke(app, ["cookies", "lookup", "_pk_id.1.abc"], env=env)
    assert result.exit_code == 0
    assert "_pk_id.1.abc: analytics (open-cookie-database, Piwik)" in result.stdout


def _commands(command: object, path: tuple[str, ...] = ()) -> dict[str, object]:
    subs = getattr(command, "commands", None)
    if not subs:
        return {" ".join(path): command}
    out: dict[str, object] = {}
    for name, sub in subs.items():
        out |= _commands(sub, (*path, name))
    return out


def test_every_scanner_command_has_help_and_examples() -> None:
    commands = _commands(typer.main.get_command(app))
    mine = ["scan site", "scan diff", "scan report", "scan declaration", "cookies update", "cookies lookup"]
    for name in mine:
        command = commands[name]
        help_text = getattr(command, "help", "") or ""
        assert "Example" in help_text, name
        assert "consentgate" in help_text, name
        for param in getattr(command, "params", []):
            assert "e.g." in (getattr(param, "help", None) or ""), f"{name}: {param.name}"


def test_scan_url_is_short_for_scan_site() -> None:
    result = CliRunner().invoke(app, ["scan", "not a url"])
    assert result.exit_code == 1
    assert "is not an http(s) URL" in result.output
    assert "site" in CliRunner().invoke(app, ["scan", "--help"]).stdout

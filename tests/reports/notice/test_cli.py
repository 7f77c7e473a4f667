"""``consentgate notice render``: formats, files, locales and the notes on stderr."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from consentgate.cli import app
from consentgate.reports.notice.catalogue import strings
from tests.conftest import EXAMPLE_POLICY


def cg(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    db = tmp_path / "missing.db"
    result = CliRunner().invoke(
        app, ["--db", str(db), "--policy", str(EXAMPLE_POLICY), "notice", "render", *args]
    )
    return result.exit_code, result.stdout, result.stderr


def test_markdown_to_stdout_with_a_note_that_no_ledger_was_read(tmp_path: Path) -> None:
    code, out, err = cg(tmp_path)
    assert code == 0, err
    assert out.startswith(f"# {strings('en')['title']}\n")
    assert "no ledger at" in err
    assert "--no-runs" in err
    assert not (tmp_path / "missing.db").exists()  # reading the notice creates no ledger
    code, _, err = cg(tmp_path, "--no-runs")
    assert code == 0
    assert err == ""


def test_html_to_a_file_in_another_language(tmp_path: Path) -> None:
    out = tmp_path / "notice.ar.html"
    code, stdout, err = cg(tmp_path, "--no-runs", "--locale", "ar", "--format", "html", "--out", str(out))
    assert code == 0, err
    assert stdout == ""
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html><html lang='ar' dir='rtl'>")
    assert "<script" not in page
    assert "default-src 'none'" in page


def test_a_language_the_banner_lacks_falls_back_and_says_so(tmp_path: Path) -> None:
    code, out, err = cg(tmp_path, "--no-runs", "--locale", "kl")
    assert code == 0
    assert "no text in 'kl'" in err
    assert "'en'" in err
    assert out.startswith(f"# {strings('en')['title']}")
    code, out, err = cg(tmp_path, "--no-runs", "--locale", "de-AT")
    assert code == 0
    assert err == ""
    assert out.startswith(f"# {strings('de')['title']}")


def test_bad_options_are_refused_with_what_to_fix(tmp_path: Path) -> None:
    code, _, err = cg(tmp_path, "--locale", "<de>")
    assert code == 1
    assert "not a language tag" in err
    code, _, err = cg(tmp_path, "--privacy-center", "javascript:alert(1)")
    assert code == 1
    assert "not an http(s) address" in err
    code, _, err = cg(tmp_path, "--no-runs", "--out", str(tmp_path / "no" / "such" / "dir" / "n.md"))
    assert code == 1
    assert "cannot write the notice" in err


def test_the_privacy_center_address_is_linked(tmp_path: Path) -> None:
    url = "https://consent.example.com/privacy-center"
    code, out, _ = cg(tmp_path, "--no-runs", "--privacy-center", url)
    assert code == 0
    assert f"[{strings('en')['privacy_center']}](<{url}>)" in out

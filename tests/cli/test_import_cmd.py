"""``import-events``: historical JSONL, all or nothing, every problem with its line number."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from consentgate.ledger.store import Ledger

from .conftest import Invoke, count_events, write_jsonl

AI = "train_support_chatbot"


def _event(subject: str, action: str = "grant", **over: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "subject": subject,
        "action": action,
        "purposes": [AI],
        "region": "DE",
        "locale": "de",
        "source": "legacy_cmp",
        "occurred_at": "2026-02-01T09:30:00+01:00",
        "signals": {},
    }
    if action == "grant":
        raw.update(notice_id="ai-training", notice_version=1)
    raw.update(over)
    return raw


def _good_rows() -> list[Any]:
    return [
        _event("user-1"),
        _event("user-2", "deny"),
        "",  # blank lines are skipped
        {**_event("user-3", "withdraw"), "purposes": None, "purpose": AI},
        _event("user-4", recorded_at="2026-02-02T00:00:00Z"),
        _event("user-5", occurred_at="2030-01-01T00:00:00Z"),  # future is fine for imports
    ]


def test_good_file_is_imported(cg: Invoke, tmp_path: Path, db_file: Path) -> None:
    path = write_jsonl(tmp_path / "events.jsonl", _good_rows())
    result = cg("import-events", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "imported 5 events (5 lines)"
    with Ledger.open(str(db_file)) as ledger:
        assert ledger.count() == 5
        assert ledger.verify().ok
        events = list(ledger.iter_events())
    assert [e.subject for e in events] == ["user-1", "user-2", "user-3", "user-4", "user-5"]
    assert events[0].source == "legacy_cmp"
    assert events[3].recorded_at.isoformat().startswith("2026-02-02T00:00:00")


def test_json_summary_and_default_source(cg: Invoke, tmp_path: Path, db_file: Path) -> None:
    row = _event("user-1")
    del row["source"]
    path = write_jsonl(tmp_path / "e.jsonl", [row])
    body = json.loads(cg("import-events", str(path), "--json").stdout)
    assert body["imported"] == 1
    assert body["lines"] == 1
    assert body["head"]["seq"] == 1
    with Ledger.open(str(db_file)) as ledger:
        assert next(ledger.iter_events()).source == "import"


def test_stdin(cg: Invoke, db_file: Path) -> None:
    result = cg("import-events", "-", input=json.dumps(_event("user-1")) + "\n")
    assert result.exit_code == 0, result.output
    assert count_events(db_file) == 1


def _assert_refused(cg: Invoke, path: Path, db_file: Path, *expected: str) -> str:
    cg("record", "--subject", "existing", "--action", "deny", "--purpose", AI)
    before = count_events(db_file)
    result = cg("import-events", str(path))
    assert result.exit_code == 1, result.output
    assert "nothing was stored" in result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert count_events(db_file) == before
    return result.stderr


def test_bad_line_3_stores_nothing_and_names_the_line(cg: Invoke, tmp_path: Path, db_file: Path) -> None:
    rows = [_event("user-1"), _event("user-2"), _event("user-3", action="agree"), _event("user-4")]
    path = write_jsonl(tmp_path / "bad.jsonl", rows)
    err = _assert_refused(cg, path, db_file, "line 3", "action", "agree")
    assert "line 1" not in err
    assert "line 4" not in err


def test_invalid_json_line(cg: Invoke, tmp_path: Path, db_file: Path) -> None:
    path = write_jsonl(
        tmp_path / "bad.jsonl", [_event("user-1"), '{"subject": "user-2", "action": ', _event("u3")]
    )
    _assert_refused(cg, path, db_file, "line 2", "not valid JSON")


def test_problems_from_parsing_and_validation_are_reported_together(
    cg: Invoke, tmp_path: Path, db_file: Path
) -> None:
    rows = [_event("a", purposes=["nope"]), "not json", "[1, 2]", _event("b")]
    path = write_jsonl(tmp_path / "bad.jsonl", rows)
    err = _assert_refused(cg, path, db_file, "line 1", "line 2", "line 3")
    assert err.index("line 1") < err.index("line 2") < err.index("line 3")


def test_unknown_purpose(cg: Invoke, tmp_path: Path, db_file: Path) -> None:
    path = write_jsonl(tmp_path / "bad.jsonl", [_event("a"), _event("b", purposes=["sell_data"])])
    _assert_refused(cg, path, db_file, "line 2: purposes", "sell_data", AI)


def test_timestamp_without_zone(cg: Invoke, tmp_path: Path, db_file: Path) -> None:
    path = write_jsonl(tmp_path / "bad.jsonl", [_event("a", occurred_at="2026-02-01T09:30:00")])
    _assert_refused(cg, path, db_file, "line 1: occurred_at", "time zone")


def test_blank_lines_count_in_line_numbers(cg: Invoke, tmp_path: Path, db_file: Path) -> None:
    path = write_jsonl(tmp_path / "bad.jsonl", [_event("a"), "", "   ", {**_event("b"), "subject": ""}])
    _assert_refused(cg, path, db_file, "line 4: subject")


def test_not_utf8(cg: Invoke, tmp_path: Path, db_file: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(json.dumps(_event("a")).encode() + b"\n" + b'{"subject": "J\xf6rg"}\n')
    _assert_refused(cg, path, db_file, "line 2", "UTF-8")


def test_missing_file(cg: Invoke, tmp_path: Path) -> None:
    result = cg("import-events", str(tmp_path / "nope.jsonl"))
    assert result.exit_code == 1
    assert "no such file" in result.stderr


def test_free_form_signals_are_refused_with_the_allowed_keys(
    cg: Invoke, tmp_path: Path, db_file: Path
) -> None:
    rows = [_event("a"), _event("b", signals={"gpc": True, "email": "b@example.com"})]
    path = write_jsonl(tmp_path / "bad.jsonl", rows)
    err = _assert_refused(cg, path, db_file, "line 2: signals", "'email' is not a signal")
    assert "do_not_train" in err  # the allowed keys are listed

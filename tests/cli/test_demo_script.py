"""``scripts/demo.py`` (behind `make run`) sets up once and reuses everything on the next run."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from consentgate.auth.apikeys import Scope, authenticate
from consentgate.ledger.store import Ledger

DEMO = Path(__file__).resolve().parents[2] / "scripts" / "demo.py"


@pytest.fixture(scope="module")
def demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("consentgate_demo", DEMO)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _state(directory: Path) -> tuple[dict[str, dict[str, str]], int]:
    keys = json.loads((directory / "keys.json").read_text(encoding="utf-8"))
    with Ledger.open(str(directory / "consentgate.db")) as ledger:
        assert authenticate(ledger.engine, keys["admin"]["key"]) is Scope.ADMIN
        assert authenticate(ledger.engine, keys["collect"]["key"]) is Scope.COLLECT
        assert ledger.verify().ok
        return keys, ledger.count()


def test_setup_is_idempotent(demo: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = tmp_path / ".demo"
    assert demo.main(["--dir", str(directory), "--no-serve"]) == 0
    keys, events = _state(directory)
    assert events > 0
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8000/docs" in out
    assert keys["admin"]["key"] in out
    assert f"--db {directory / 'consentgate.db'} --policy {directory / 'policy.yaml'}" in out
    assert (directory / "keys.json").stat().st_mode & 0o077 == 0

    assert demo.main(["--dir", str(directory), "--no-serve", "--port", "8001"]) == 0
    assert _state(directory) == (keys, events)
    assert "http://127.0.0.1:8001/healthz" in capsys.readouterr().out


def test_keys_are_replaced_when_the_ledger_was_deleted(demo: ModuleType, tmp_path: Path) -> None:
    assert demo.main(["--dir", str(tmp_path), "--no-serve"]) == 0
    keys, _ = _state(tmp_path)
    for name in ("consentgate.db", "consentgate.db-wal", "consentgate.db-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    assert demo.main(["--dir", str(tmp_path), "--no-serve"]) == 0
    new_keys, _ = _state(tmp_path)
    assert new_keys["admin"]["key"] != keys["admin"]["key"]

"""``init`` and ``serve``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from consentgate.cli import app
from consentgate.policy import load_policy

from .conftest import Invoke, count_events


def test_init_writes_the_example_policy_and_a_ledger(tmp_path: Path, example_policy_path: Path) -> None:
    target = tmp_path / "consent"
    result = CliRunner().invoke(app, ["init", str(target)])
    assert result.exit_code == 0, result.output
    assert (target / "policy.yaml").read_text(encoding="utf-8") == example_policy_path.read_text(
        encoding="utf-8"
    )
    assert load_policy(target / "policy.yaml").purposes
    assert count_events(target / "consentgate.db") == 0
    assert "next steps" in result.stdout
    assert f"CONSENTGATE_DB={target / 'consentgate.db'}" in result.stdout


def test_init_refuses_to_overwrite_a_policy_without_force(tmp_path: Path) -> None:
    (tmp_path / "policy.yaml").write_text("# ours\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 1
    assert "already exists" in result.stderr
    assert "--force" in result.stderr
    assert (tmp_path / "policy.yaml").read_text(encoding="utf-8") == "# ours\n"

    forced = CliRunner().invoke(app, ["init", str(tmp_path), "--force"])
    assert forced.exit_code == 0, forced.output
    assert "purposes:" in (tmp_path / "policy.yaml").read_text(encoding="utf-8")


def test_init_keeps_an_existing_ledger(tmp_path: Path, cg: Invoke, db_file: Path) -> None:
    cg("record", "--subject", "user-1", "--action", "deny", "--purpose", "marketing")
    result = CliRunner().invoke(app, ["init", str(db_file.parent), "--force"])
    assert result.exit_code == 0, result.output
    assert "kept the existing ledger" in result.stdout
    assert count_events(db_file) == 1


def test_init_on_a_file_is_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    result = CliRunner().invoke(app, ["init", str(blocker)])
    assert result.exit_code == 1
    assert "not a directory" in result.stderr


def test_serve_runs_the_app_with_the_cli_settings(
    cg: Invoke, monkeypatch: pytest.MonkeyPatch, db_file: Path
) -> None:
    import uvicorn

    from consentgate.server.connections import ConnectionLimits, GuardedHttpToolsProtocol

    seen: dict[str, Any] = {}

    async def health(asgi: FastAPI) -> int:
        # Through the lifespan, as uvicorn would run it, so the app also closes its ledger.
        async with asgi.router.lifespan_context(asgi):
            transport = httpx.ASGITransport(app=asgi)
            async with httpx.AsyncClient(transport=transport, base_url="http://cg.example.com") as client:
                return (await client.get("/healthz")).status_code

    def fake_run(
        asgi: FastAPI, *, host: str, port: int, access_log: bool, log_config: dict[str, Any], http: Any
    ) -> None:
        seen.update(host=host, port=port, health=asyncio.run(health(asgi)), access_log=access_log)
        seen["access_logger"] = log_config["loggers"]["uvicorn.access"]
        seen["http"] = http

    monkeypatch.setattr(uvicorn, "run", fake_run)
    for name, value in (
        ("MAX_HEAD_BYTES", "4096"),
        ("MAX_HEADER_FIELDS", "50"),
        ("HEAD_TIMEOUT_SECONDS", "3"),
        ("MAX_CONNECTIONS_PER_IP", "7"),
    ):
        monkeypatch.setenv(f"CONSENTGATE_{name}", value)
    result = cg("serve", "--port", "8123")
    assert result.exit_code == 0, result.output
    # uvicorn's access log prints client addresses and raw paths: off, in favour of ours (JSON).
    assert seen.pop("access_logger") == {"handlers": [], "level": "CRITICAL", "propagate": False}
    # The HTTP protocol is uvicorn's httptools one with the head and connection limits of the settings.
    http = seen.pop("http")
    assert http.func is GuardedHttpToolsProtocol
    assert http.keywords["limits"] == ConnectionLimits(
        max_head_bytes=4096, max_header_fields=50, head_timeout=3.0, max_connections_per_ip=7
    )
    assert seen == {"host": "127.0.0.1", "port": 8123, "health": 200, "access_log": False}


def test_serve_reports_a_broken_policy_before_starting(cg: Invoke, policy_file: Path) -> None:
    policy_file.write_text("purposes: []\n", encoding="utf-8")
    result = cg("serve")
    assert result.exit_code == 1
    assert str(policy_file) in result.stderr

"""``tokens issue|verify``: the printed token is the token, and the server on the same settings
accepts it — whether the secret is configured or generated into the ledger."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from consentgate.auth.secrets import load_keyring
from consentgate.auth.tokens import Keyring
from consentgate.ledger.store import Ledger

from .conftest import Invoke

SECRET = "t" * 16 + "-fictional-cli-secret-000"


def test_issue_prints_only_a_token_the_ledgers_secret_verifies(cg: Invoke, db_file: Path) -> None:
    result = cg("tokens", "issue", "--subject", "user-42@example.com", "--ttl", "900")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert result.stdout == token + "\n"
    with Ledger.open(str(db_file)) as ledger:  # what a server on this database would use
        claims = load_keyring(ledger.engine, None).verify(token)
    assert claims.subject == "user-42@example.com"
    assert (claims.expires_at - claims.issued_at).total_seconds() == 900
    assert "valid until" in result.stderr


def test_a_configured_secret_signs_and_no_ledger_is_opened(
    cg: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONSENTGATE_TOKEN_SECRET", f"{SECRET},{'o' * 32}")
    missing = tmp_path / "nowhere" / "ledger.db"
    result = cg("tokens", "issue", "--subject", "u", "--json", db=str(missing))
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert Keyring([SECRET]).verify(body["token"]).subject == body["subject"] == "u"
    assert body["expires_at"].endswith("+00:00")
    assert not missing.exists()


def test_verify_shows_the_claims_and_refuses_a_broken_token(cg: Invoke) -> None:
    token = cg("tokens", "issue", "--subject", "user-1@example.com").stdout.strip()
    shown = json.loads(cg("tokens", "verify", token).stdout)
    assert shown["subject"] == "user-1@example.com"
    assert set(shown) == {"subject", "issued_at", "expires_at", "kid"}
    broken = cg("tokens", "verify", token[:-3] + "AAA")
    assert broken.exit_code == 1
    assert "altered" in broken.stderr


def test_a_missing_ledger_without_a_secret_is_an_error_not_a_new_secret(cg: Invoke, tmp_path: Path) -> None:
    result = cg("tokens", "issue", "--subject", "u", db=str(tmp_path / "typo.db"))
    assert result.exit_code == 1
    assert "does not exist" in result.stderr
    assert not (tmp_path / "typo.db").exists()


@pytest.mark.parametrize("ttl", ["0", "86401", "soon"])
def test_ttl_is_bounded(cg: Invoke, ttl: str) -> None:
    assert cg("tokens", "issue", "--subject", "u", "--ttl", ttl).exit_code == 2

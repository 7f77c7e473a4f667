"""``keys create|list|revoke``: the printed key is the key, and it works."""

from __future__ import annotations

import json
from pathlib import Path

from consentgate.auth.apikeys import Scope, authenticate
from consentgate.ledger.store import Ledger

from .conftest import Invoke


def _scope(db_file: Path, key: str) -> Scope | None:
    with Ledger.open(str(db_file)) as ledger:
        return authenticate(ledger.engine, key)


def test_create_prints_only_the_key(cg: Invoke, db_file: Path) -> None:
    result = cg("keys", "create", "--scope", "admin", "--label", "ops")
    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    assert result.stdout == key + "\n"
    assert _scope(db_file, key) is Scope.ADMIN
    assert "shown" in result.stderr


def test_collect_key_and_json(cg: Invoke, db_file: Path) -> None:
    body = json.loads(cg("keys", "create", "--scope", "collect", "--json").stdout)
    assert body["scope"] == "collect"
    assert _scope(db_file, body["key"]) is Scope.COLLECT


def test_list_and_revoke(cg: Invoke, db_file: Path) -> None:
    key = cg("keys", "create", "--scope", "read", "--label", "pipeline").stdout.strip()
    (row,) = json.loads(cg("keys", "list", "--json").stdout)
    assert (row["scope"], row["label"], row["revoked_at"]) == ("read", "pipeline", None)
    assert key not in cg("keys", "list").stdout
    assert row["key_id"] in cg("keys", "list").stdout

    revoked = cg("keys", "revoke", row["key_id"])
    assert revoked.exit_code == 0, revoked.output
    assert _scope(db_file, key) is None
    again = cg("keys", "revoke", row["key_id"])
    assert again.exit_code == 1
    assert "no active key" in again.stderr


def test_bad_scope_is_a_usage_error(cg: Invoke) -> None:
    assert cg("keys", "create", "--scope", "root").exit_code == 2

"""The demo behind `make run`: a working consentgate on SQLite in one command.

Creates (once) a demo directory with the example policy, a ledger, an admin and a collect key and a
few recorded choices, prints where to look, then serves the HTTP API. Running it again reuses
everything, so the keys printed last time keep working.

    .venv/bin/python scripts/demo.py --dir .demo --host 127.0.0.1 --port 8000 [--no-serve]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from consentgate.auth.apikeys import authenticate, create_key
from consentgate.auth.secrets import load_keyring
from consentgate.errors import ConsentgateError
from consentgate.ledger.store import Ledger
from consentgate.policy import load_policy
from consentgate.service import ConsentService
from consentgate.settings import Settings

POLICY_NAME = "policy.yaml"
DB_NAME = "consentgate.db"
KEYS_NAME = "keys.json"
DEMO_SCOPES = ("admin", "collect", "audit")


def example_policy_text() -> str:
    # The same file `consentgate init` writes (package data, so it works from a wheel too).
    from importlib.resources import files

    return files("consentgate.policy").joinpath("example.yaml").read_text(encoding="utf-8")


def ensure_keys(ledger: Ledger, path: Path) -> dict[str, dict[str, str]]:
    """Keys are shown once by design; the demo remembers its own in keys.json so a rerun can print
    them again. A remembered key the ledger no longer accepts (the database was deleted) is replaced."""
    stored: dict[str, dict[str, str]] = {}
    if path.exists():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            stored = {}
    changed = False
    for scope in DEMO_SCOPES:
        entry = stored.get(scope)
        if entry is None or authenticate(ledger.engine, entry.get("key", "")) is None:
            key_id, key = create_key(ledger.engine, scope, f"demo {scope} key")
            stored[scope] = {"key_id": key_id, "key": key}
            changed = True
    if changed:
        path.write_text(json.dumps(stored, indent=2) + "\n", encoding="utf-8")
        os.chmod(path, 0o600)  # secrets: readable by their owner only
    return stored


def demo_events(now: datetime) -> list[dict[str, Any]]:
    """A handful of fictional people whose choices exercise the main rules."""
    earlier = (now - timedelta(days=3)).isoformat()
    recent = (now - timedelta(hours=2)).isoformat()
    return [
        # EU, consent: granted AI training and analytics under the current notice wording, in German.
        {"subject": "demo-anna", "action": "grant",
         "purposes": ["train_support_chatbot", "finetune_recommender"],
         "region": "DE", "locale": "de", "source": "banner", "occurred_at": earlier},
        {"subject": "demo-anna", "action": "grant", "purposes": ["product_analytics"],
         "region": "DE", "locale": "de", "source": "banner", "occurred_at": earlier},
        # EU: granted, then withdrew AI training in the privacy center.
        {"subject": "demo-bruno", "action": "grant", "purposes": ["train_support_chatbot"],
         "region": "FR", "locale": "fr", "source": "banner", "occurred_at": earlier},
        {"subject": "demo-bruno", "action": "withdraw", "purposes": ["train_support_chatbot"],
         "region": "FR", "locale": "fr", "source": "privacy_center", "occurred_at": recent},
        # California, opt-out basis: a browser sending Global Privacy Control.
        {"subject": "demo-casey", "action": "gpc", "signals": {"gpc": True},
         "region": "US-CA", "source": "banner", "occurred_at": recent},
        # Brazil: objected to fine-tuning, which rests on legitimate interest there.
        {"subject": "demo-dora", "action": "object", "purposes": ["finetune_recommender"],
         "region": "BR", "source": "form", "occurred_at": recent},
    ]  # fmt: skip


def with_current_versions(service: ConsentService, raw: dict[str, Any]) -> dict[str, Any]:
    """Grants name the notice version the person saw: the one in force when they acted."""
    if raw["action"] != "grant":
        return raw
    purpose = service.policy.purpose(raw["purposes"][0])
    assert purpose is not None
    assert purpose.notice is not None
    version = service.policy.current_version(purpose.notice, datetime.fromisoformat(raw["occurred_at"]))
    assert version is not None, f"the example policy has a {purpose.notice} version in force"
    return {**raw, "notice_id": purpose.notice, "notice_version": version.label}


def seed(service: ConsentService) -> int:
    if service.ledger.count():
        return 0
    now = datetime.now(UTC)
    raws = [(f"demo event {i}", with_current_versions(service, r)) for i, r in enumerate(demo_events(now), 1)]
    return len(service.record(raws, source="demo"))


def print_guide(
    base: str, directory: Path, keys: dict[str, dict[str, str]], seeded: int, total: int, visitor: str
) -> None:
    db = shlex.quote(str(directory / DB_NAME))
    pol = shlex.quote(str(directory / POLICY_NAME))
    admin = keys["admin"]["key"]
    collect = keys["collect"]["key"]
    cli = f".venv/bin/consentgate --db {db} --policy {pol}"
    body = json.dumps(
        {"subject": visitor, "region": "DE", "locale": "en", "source": "banner", "notice_version": 1,
         "choices": [{"purpose": "product_analytics", "action": "grant"}]}
    )  # fmt: skip
    auth = f"-H 'Authorization: Bearer {admin}'"
    news = f", {seeded} demo choices recorded now" if seeded else ""
    print(
        f"""
consentgate demo — {directory}/ ({total} events in the ledger{news})

  demo site     {base}/demo/        (banner, gated tags, chat toggle, privacy center)
  console       {base}/console      (sign in with the audit key: rates, ledger, requests, risk)
  API docs      {base}/docs
  health        {base}/healthz
  admin key     {admin}
  collect key   {collect}      (public: for the banner / POST /v1/consents)
  audit key     {keys["audit"]["key"]}      (read-only: the console and /v1/reports)
  (keys are kept in {directory / KEYS_NAME}; delete {directory}/ to start over)

try the API:
  curl -s {base}/healthz
  curl -s {auth} '{base}/v1/decisions?subject=demo-anna&purpose=train_support_chatbot'
  curl -s {auth} {base}/v1/subjects/demo-bruno/state
  curl -s {auth} {base}/v1/subjects/demo-anna/evidence
  # a collect key records only for visitor ids the server issued (POST /v1/visitors); this is one:
  curl -s -X POST -H 'Authorization: Bearer {collect}' -H 'Content-Type: application/json' \\
       -d '{body}' {base}/v1/consents
  # a subject token lets one person's browser read their own choices (docs/security.md):
  curl -s -H "X-Consentgate-Subject-Token: $({cli} tokens issue --subject demo-bruno)" \\
       {base}/v1/subjects/demo-bruno/state

try the CLI:
  {cli} decide --subject demo-anna --purpose train_support_chatbot --json
  {cli} decide --subject demo-casey --purpose train_support_chatbot --region US-CA
  {cli} history --subject demo-bruno
  {cli} evidence --subject demo-anna --json
  {cli} ledger verify
""",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Set up and serve the consentgate demo (used by `make run`)."
    )
    parser.add_argument("--dir", type=Path, default=Path(".demo"), help="demo directory (default .demo)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--no-serve", action="store_true", help="set up and print the guide, then exit")
    args = parser.parse_args(argv)
    directory: Path = args.dir

    try:
        directory.mkdir(parents=True, exist_ok=True)
        policy_path = directory / POLICY_NAME
        if not policy_path.exists():
            policy_path.write_text(example_policy_text(), encoding="utf-8")
        settings = Settings(db=str(directory / DB_NAME), policy=policy_path, host=args.host, port=args.port)
        with Ledger.open(settings.db) as ledger:
            service = ConsentService(load_policy(settings.policy), ledger)
            keys = ensure_keys(ledger, directory / KEYS_NAME)
            # The demo site at /demo embeds the banner with the demo's collect key.
            settings = settings.model_copy(update={"demo_key": keys["collect"]["key"]})
            seeded = seed(service)
            total = ledger.count()
            visitor = load_keyring(ledger.engine, settings.token_secret).new_visitor_id()
    except ConsentgateError as exc:
        print(f"demo setup failed: {exc.message}", file=sys.stderr)
        return 1

    print_guide(f"http://{args.host}:{args.port}", directory, keys, seeded, total, visitor)
    if args.no_serve:
        return 0
    import uvicorn

    from consentgate.server.app import create_app
    from consentgate.server.logs import log_config

    # JSON request logs without addresses or subject ids, instead of uvicorn's access log.
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        access_log=False,
        log_config=log_config(settings.log_level),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Where the subject-token secrets come from: the setting, or one generated once into the database.

``CONSENTGATE_TOKEN_SECRET`` wins when set (comma-separated for rotation, newest first): that is the
value a site's backend shares to mint tokens offline, and it can live in a secrets manager. Without
it, the first process to need a secret generates one and stores it in ``service_secrets``; every
other process on the same database reads that one, so tokens and visitor ids issued by any of them
verify on all of them. Whoever can read the database can then forge tokens — but they can already
read every choice in it, which is what tokens protect.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from pydantic import SecretStr
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from consentgate.ledger import schema as t
from consentgate.tokens import Keyring, key_id

PURPOSE = "subject_tokens"


def load_keyring(engine: Engine | None, configured: SecretStr | str | None) -> Keyring:
    """The configured secrets, else the database's (generated on first use). ``engine`` may be None
    only when a secret is configured (the CLI then never opens the ledger)."""
    if isinstance(configured, SecretStr):
        configured = configured.get_secret_value()
    if configured is not None and configured.strip():
        return Keyring.from_setting(configured)
    if engine is None:
        raise RuntimeError("load_keyring needs the ledger's engine when no token secret is configured")
    stored = stored_secrets(engine)
    if not stored:
        _generate_first(engine)
        stored = stored_secrets(engine)
    return Keyring(stored)


def stored_secrets(engine: Engine) -> list[str]:
    """The database's secrets, newest generation first (it signs)."""
    table = t.service_secrets
    with engine.connect() as conn:
        rows = conn.execute(
            select(table.c.secret).where(table.c.purpose == PURPOSE).order_by(table.c.generation.desc())
        )
        return [r.secret for r in rows]


def _generate_first(engine: Engine) -> None:
    # Generation 1 is the primary key, so of two processes racing here exactly one insert succeeds and
    # the other reads the winner's secret.
    secret = secrets.token_urlsafe(32)
    try:
        with engine.execution_options(ledger_write=True).begin() as conn:
            conn.execute(
                insert(t.service_secrets).values(
                    purpose=PURPOSE,
                    generation=1,
                    kid=key_id(secret),
                    secret=secret,
                    created_at=datetime.now(UTC).isoformat(),
                )
            )
    except IntegrityError:
        pass

"""Where the subject-token secrets come from: the setting, or one generated once into the database.

``CONSENTGATE_TOKEN_SECRET`` wins when set (comma-separated for rotation, newest first): that is the
value a site's backend shares to mint tokens offline, and it can live in a secrets manager. Without
it, the first process to need a secret generates one and stores it in ``service_secrets``
(``store/secrets.py``, the same get-or-create as the erasure and run-subject keys); every other
process on the same database reads that one, so tokens and visitor ids issued by any of them verify
on all of them. Whoever can read the database can then forge tokens — but they can already read
every choice in it, which is what tokens protect.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import SecretStr

from consentgate.auth.tokens import Keyring, key_id

if TYPE_CHECKING:
    from consentgate.store.engine import Engine

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
    # Here, not at the top: `consentgate tokens issue` with a configured secret never loads SQLAlchemy.
    from consentgate.store.secrets import ensure_secret, stored_secrets

    stored = stored_secrets(engine, PURPOSE)
    if not stored:
        ensure_secret(engine, PURPOSE, key_id)
        stored = stored_secrets(engine, PURPOSE)
    return Keyring(stored)

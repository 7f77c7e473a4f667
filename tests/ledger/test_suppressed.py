"""Who is on the suppression list, asked for many identifiers at once, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

from consentgate.ledger.erasure import suppress, suppressed_identifiers
from consentgate.ledger.store import Ledger
from consentgate.store.secrets import erasure_key

PEOPLE = [f"user-{i:03d}@example.com" for i in range(40)]


def test_an_empty_list_finds_nobody_and_each_suppression_is_found_from_then_on(ledger: Ledger) -> None:
    """The key exists before any erasure (the server makes it at start-up); an empty list is asked
    first and no identifier is hashed, so the first suppression must still be seen right away."""
    key = erasure_key(ledger.engine)
    assert suppressed_identifiers(ledger.engine, key, PEOPLE) == set()
    with ledger.engine.begin() as conn:
        suppress(conn, [key.hash(PEOPLE[3])], request_id=None, at=datetime.now(UTC))
    assert suppressed_identifiers(ledger.engine, key, PEOPLE) == {PEOPLE[3]}
    with ledger.engine.begin() as conn:
        suppress(conn, [key.hash(p) for p in PEOPLE[10:12]], request_id=None, at=datetime.now(UTC))
    assert suppressed_identifiers(ledger.engine, key, PEOPLE) == {PEOPLE[3], PEOPLE[10], PEOPLE[11]}
    assert suppressed_identifiers(ledger.engine, key, []) == set()
    assert suppressed_identifiers(ledger.engine, key, ["someone-else@example.com"]) == set()

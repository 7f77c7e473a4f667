"""A ledger made before the record chain (migration 0005) keeps verifying after the upgrade: no event
is re-hashed, and the side-table rows found at upgrade are adopted, then held to their records."""

from __future__ import annotations

import json

from sqlalchemy import text

from consentgate.ledger.db import downgrade
from consentgate.ledger.signing import Signer
from consentgate.ledger.store import Ledger

from .test_tamper import populate, run_sql


def _as_before_0005(url: str) -> tuple[int, str]:
    with Ledger.open(url) as ledger:
        populate(ledger)
        head = ledger.head()
        downgrade(ledger.engine, "0004")  # what today's ledgers look like: no records, seals or salts
    return head


def test_an_old_ledger_verifies_after_the_upgrade_and_says_it_is_unsigned(ledger_url: str) -> None:
    head = _as_before_0005(ledger_url)
    with Ledger.open(ledger_url) as ledger:
        assert ledger.head() == head  # the event chain is untouched
        report = ledger.verify()
        assert report.ok, report
        assert not report.intact
        assert report.signature_note.startswith("UNSIGNED")
        with ledger.engine.connect() as conn:
            kinds = [
                (kind, json.loads(body).get("adopted"))
                for kind, body in conn.execute(text("SELECT kind, body FROM ledger_records ORDER BY seq"))
            ]
        assert {k for k, _ in kinds} == {"text", "link", "suppress", "pseudonymise"}
        assert all(adopted is True for _, adopted in kinds)


def test_adopted_rows_are_held_to_their_records(ledger_url: str) -> None:
    _as_before_0005(ledger_url)
    with Ledger.open(ledger_url) as ledger:
        run_sql(ledger, "DELETE FROM suppressions")
        report = ledger.verify()
        assert not report.ok
        assert report.table == "suppressions"


def test_the_first_signed_write_after_the_upgrade_makes_it_intact(
    ledger_url: str, ledger_signer: Signer
) -> None:
    _as_before_0005(ledger_url)
    with Ledger.open(ledger_url, signer=ledger_signer) as ledger:
        ledger.seal()
        assert ledger.verify().intact

"""The hash chain: each event's hash covers a canonical encoding of it and the previous hash.

The subject is not hashed in the clear: the chain commits to ``sha256(salt ":" subject)`` with a
random per-event salt. Erasure (GDPR Art. 17) can then drop the raw subject and its salt while every
hash still verifies, and nobody can recover the identifier from what is left.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from typing import Any

GENESIS = "0" * 64
# Between the previous hash and the canonical JSON in every hash input (events and records alike).
DELIMITER = b"\n"
CHAIN_FIELDS = (
    "seq",
    "event_id",
    "subject_commit",
    "action",
    "purpose",
    "notice_id",
    "notice_version",
    "wording_hash",
    "region",
    "locale",
    "source",
    "occurred_at",
    "recorded_at",
    "signals",
)


def new_salt() -> str:
    return secrets.token_hex(16)


def commit_subject(subject: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{subject}".encode()).hexdigest()


def canonical(record: Mapping[str, Any]) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the same bytes on every machine and database."""
    body = {name: record.get(name) for name in CHAIN_FIELDS}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(prev_hash: str, record: Mapping[str, Any]) -> str:
    h = hashlib.sha256(prev_hash.encode())
    h.update(DELIMITER)
    h.update(canonical(record))
    return h.hexdigest()


def wording_hash(text: str) -> str:
    """sha256 of the exact wording shown, as UTF-8; the banner computes the same in the browser."""
    return hashlib.sha256(text.encode()).hexdigest()


# -- the record chain: what the tables beside ``events`` hold -------------------------------------
# Aliases, suppression entries and erasure pseudonyms change decisions, so each write to them is a
# *record* in a second hash chain (table ``ledger_records``), built exactly like the event chain:
# ``hash = sha256(prev_hash "\n" canonical_json({"seq", "kind", "body"}))``.

RECORD_FIELDS = ("seq", "kind", "body")


def canonical_record(seq: int, kind: str, body: Mapping[str, Any]) -> bytes:
    return json.dumps(
        {"seq": seq, "kind": kind, "body": body}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()


def record_hash(prev_hash: str, seq: int, kind: str, body: Mapping[str, Any]) -> str:
    h = hashlib.sha256(prev_hash.encode())
    h.update(DELIMITER)
    h.update(canonical_record(seq, kind, body))
    return h.hexdigest()


def alias_commit(salt: str, alias: str, subject: str, kind: str, linked_at: str) -> str:
    """What a ``link`` record holds of an ``aliases`` row: salted like the event subject, so once
    erasure drops the salt nobody can test the record against a list of likely identifiers."""
    row = json.dumps([alias, subject, kind, linked_at], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{salt}:{row}".encode()).hexdigest()


# -- seals: a signed statement of both heads ------------------------------------------------------


def seal_message(
    events_seq: int, events_hash: str, records_seq: int, records_hash: str, signed_at: str
) -> bytes:
    """The exact bytes a seal or checkpoint signs (Ed25519): both chain heads and when."""
    body = {
        "format": "consentgate-seal/1",
        "events": {"seq": events_seq, "hash": events_hash},
        "records": {"seq": records_seq, "hash": records_hash},
        "signed_at": signed_at,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

"""Attacks on a copy of the database: every column a decision or the evidence reads, altered, added or
deleted one at a time with raw SQL, must fail ``verify`` naming the table; forging needs the key.

The ledger under attack holds what the service writes: events with notice wording (non-ASCII
included), an alias link, and an erased person (erase event, suppression entries, pseudonymised
events and alias). Each case runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from consentgate.auth import identity
from consentgate.errors import ChainBroken
from consentgate.ledger.chain import commit_subject, event_hash, wording_hash
from consentgate.ledger.erasure import pseudonymise, suppress
from consentgate.ledger.events import Action, NewEvent, NoticeText
from consentgate.ledger.signing import PublicKeys, Signer, create_key
from consentgate.ledger.store import Ledger
from consentgate.store.secrets import erasure_key

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
AI = "train_support_chatbot"
WORDING = "Verwendung meiner Chats zum Training des Support-Chatbots \u2013 jederzeit widerrufbar."
W_HASH = wording_hash(WORDING)
ANN, BOB, EVE = "ann@example.com", "bob@example.com", "eve@example.com"


def _event(subject: str, action: Action, minutes: int, **extra: object) -> NewEvent:
    fields: dict[str, object] = {"purpose": AI} if action not in (Action.GPC, Action.ERASE) else {}
    if action is Action.GRANT:
        fields.update(notice_id="ai-training", notice_version="1", wording_hash=W_HASH, locale="de-AT")
    fields.update(extra)
    return NewEvent(
        subject=subject,
        action=action,
        occurred_at=T0 + timedelta(minutes=minutes),
        region="DE",
        source="api",
        **fields,  # type: ignore[arg-type]
    )


def populate(ledger: Ledger) -> None:
    texts = [NoticeText("ai-training", "1", "de", WORDING, W_HASH)]
    ledger.append([_event(ANN, Action.GRANT, 0), _event(BOB, Action.GRANT, 1)], texts)
    ledger.append([_event(EVE, Action.GRANT, 2)], texts)
    identity.link(ledger.engine, "c-ann", ANN, "cookie_id", signer=ledger.signer)
    identity.link(ledger.engine, "c-eve", EVE, "cookie_id", signer=ledger.signer)
    key = erasure_key(ledger.engine)
    ledger.append([_event(EVE, Action.ERASE, 3, signals={"request_id": "req-1"})])
    with ledger.engine.execution_options(ledger_write=True).begin() as conn:
        suppress(conn, {key.hash(i) for i in (EVE, "c-eve")}, request_id="req-1", at=T0, signer=ledger.signer)
    with ledger.engine.execution_options(ledger_write=True).begin() as conn:
        pseudonymise(conn, key, {EVE, "c-eve"}, ledger.signer)
    ledger.append([_event(ANN, Action.WITHDRAW, 90), _event(BOB, Action.GPC, 91, signals={"gpc": True})])


def run_sql(ledger: Ledger, *statements: str) -> None:
    with ledger.engine.begin() as conn:
        for s in statements:
            conn.exec_driver_sql(s)


@dataclass(frozen=True)
class Attack:
    name: str
    table: str  # the table verify must name
    sql: tuple[str, ...]


def _a(name: str, table: str, *sql: str) -> Attack:
    return Attack(name, table, sql)


LIVE = "(SELECT MIN(seq) FROM events WHERE subject_salt IS NOT NULL)"
ERASED = "(SELECT MIN(seq) FROM events WHERE subject_salt IS NULL)"
WITHDRAWAL = "(SELECT seq FROM events WHERE action = 'withdraw')"
DAY_US = 86_400_000_000
ATTACKS = [
    # -- events: every column ---------------------------------------------------------------------
    _a("seq", "events", "UPDATE events SET seq = 1000 WHERE seq = 2"),
    _a("event_id", "events", f"UPDATE events SET event_id = 'forged-id' WHERE seq = {LIVE}"),
    _a("subject", "events", f"UPDATE events SET subject = 'mallory@example.com' WHERE seq = {LIVE}"),
    _a("subject_salt", "events", f"UPDATE events SET subject_salt = 'ab' WHERE seq = {LIVE}"),
    _a("subject_commit", "events", f"UPDATE events SET subject_commit = '{'1' * 64}' WHERE seq = {LIVE}"),
    _a("action", "events", f"UPDATE events SET action = 'grant' WHERE seq = {WITHDRAWAL}"),
    _a("purpose", "events", f"UPDATE events SET purpose = 'product_analytics' WHERE seq = {WITHDRAWAL}"),
    _a("notice_id", "events", f"UPDATE events SET notice_id = 'cookies' WHERE seq = {LIVE}"),
    _a("notice_version", "events", f"UPDATE events SET notice_version = '2' WHERE seq = {LIVE}"),
    _a("wording_hash", "events", f"UPDATE events SET wording_hash = '{'2' * 64}' WHERE seq = {LIVE}"),
    _a("region", "events", f"UPDATE events SET region = 'US-CA' WHERE seq = {LIVE}"),
    _a("locale", "events", f"UPDATE events SET locale = 'en' WHERE seq = {LIVE}"),
    _a("source", "events", f"UPDATE events SET source = 'banner' WHERE seq = {LIVE}"),
    _a(
        "occurred_at",
        "events",
        f"UPDATE events SET occurred_at = '2026-01-01T00:00:00+00:00' WHERE seq = {LIVE}",
    ),
    _a(
        "withdrawal 62 days earlier (occurred_us)",
        "events",
        f"UPDATE events SET occurred_us = occurred_us - {62 * DAY_US} WHERE seq = {WITHDRAWAL}",
    ),
    _a(
        "recorded_at",
        "events",
        f"UPDATE events SET recorded_at = '2020-01-01T00:00:00.000000+00:00' WHERE seq = {LIVE}",
    ),
    _a("recorded_us", "events", f"UPDATE events SET recorded_us = recorded_us - 1 WHERE seq = {WITHDRAWAL}"),
    _a("signals", "events", "UPDATE events SET signals = '{\"gpc\":false}' WHERE action = 'gpc'"),
    _a("prev_hash", "events", f"UPDATE events SET prev_hash = '{'3' * 64}' WHERE seq = 2"),
    _a("hash", "events", f"UPDATE events SET hash = '{'4' * 64}' WHERE seq = 2"),
    _a("middle row deleted", "events", "DELETE FROM events WHERE seq = 2"),
    _a(
        "erased subject swapped",
        "events",
        f"UPDATE events SET subject = 'erased:{'5' * 64}' WHERE seq = {ERASED}",
    ),
    _a(
        "salt dropped to move an event off its person",
        "events",
        f"UPDATE events SET subject_salt = NULL, subject = 'erased:{'6' * 64}' WHERE seq = {WITHDRAWAL}",
    ),
    _a("erased subject nulled", "events", f"UPDATE events SET subject = NULL WHERE seq = {ERASED}"),
    # -- ledger_head ------------------------------------------------------------------------------
    _a("head seq", "ledger_head", "UPDATE ledger_head SET seq = seq - 1"),
    _a("head hash", "ledger_head", f"UPDATE ledger_head SET hash = '{'7' * 64}'"),
    _a("head records_seq", "ledger_head", "UPDATE ledger_head SET records_seq = records_seq - 1"),
    _a("head records_hash", "ledger_head", f"UPDATE ledger_head SET records_hash = '{'8' * 64}'"),
    _a("head row id", "ledger_head", "UPDATE ledger_head SET id = 2"),
    _a(
        "second head row",
        "ledger_head",
        "INSERT INTO ledger_head SELECT 2, seq - 1, hash, records_seq, records_hash FROM ledger_head",
    ),
    _a(
        "last event cut off, head moved back",
        "ledger_seals",
        "DELETE FROM events WHERE seq = (SELECT MAX(seq) FROM events)",
        "UPDATE ledger_head SET seq = seq - 1, hash = (SELECT hash FROM events WHERE seq = "
        "(SELECT MAX(seq) FROM events))",
    ),
    # -- notice_texts -----------------------------------------------------------------------------
    _a("wording text", "notice_texts", "UPDATE notice_texts SET text = 'Something milder.'"),
    _a("wording notice_id", "notice_texts", "UPDATE notice_texts SET notice_id = 'cookies'"),
    _a("wording notice_version", "notice_texts", "UPDATE notice_texts SET notice_version = '9'"),
    _a("wording locale", "notice_texts", "UPDATE notice_texts SET locale = 'fr'"),
    _a(
        "wording first_recorded_at",
        "notice_texts",
        "UPDATE notice_texts SET first_recorded_at = '2020-01-01'",
    ),
    _a("wording text_hash", "notice_texts", f"UPDATE notice_texts SET text_hash = '{'9' * 64}'"),
    _a("wording deleted", "notice_texts", "DELETE FROM notice_texts"),
    _a(
        "wording added",
        "notice_texts",
        "INSERT INTO notice_texts VALUES ('"
        + wording_hash("x")
        + "', 'ai-training', '1', 'en', 'x', '2026')",
    ),
    # -- aliases ----------------------------------------------------------------------------------
    _a("alias", "aliases", "UPDATE aliases SET alias = 'c-mallory' WHERE alias = 'c-ann'"),
    _a("alias subject", "aliases", f"UPDATE aliases SET subject = '{BOB}' WHERE alias = 'c-ann'"),
    _a("alias kind", "aliases", "UPDATE aliases SET kind = 'device_id' WHERE alias = 'c-ann'"),
    _a("alias linked_at", "aliases", "UPDATE aliases SET linked_at = '2020-01-01' WHERE alias = 'c-ann'"),
    _a("alias salt", "aliases", "UPDATE aliases SET salt = 'ab' WHERE alias = 'c-ann'"),
    _a("alias record_seq", "aliases", "UPDATE aliases SET record_seq = record_seq + 1 WHERE alias = 'c-ann'"),
    _a("erased alias", "aliases", f"UPDATE aliases SET subject = 'erased:{'a' * 64}' WHERE salt IS NULL"),
    _a("alias deleted", "aliases", "DELETE FROM aliases WHERE alias = 'c-ann'"),
    _a(
        "alias added: links a person to someone else's grant",
        "aliases",
        f"INSERT INTO aliases (alias, subject, kind, linked_at) VALUES ('mallory', '{ANN}', 'other', '2026')",
    ),
    _a(
        "alias added reusing a link record",
        "aliases",
        f"INSERT INTO aliases SELECT 'mallory', '{ANN}', kind, linked_at, salt, record_seq FROM aliases "
        "WHERE alias = 'c-ann'",
    ),
    # -- suppressions -----------------------------------------------------------------------------
    _a(
        "suppression id_hash",
        "suppressions",
        f"UPDATE suppressions SET id_hash = '{'b' * 64}' "
        "WHERE id_hash = (SELECT MIN(id_hash) FROM suppressions)",
    ),
    _a("suppression request_id", "suppressions", "UPDATE suppressions SET request_id = 'req-2'"),
    _a("suppression added_at", "suppressions", "UPDATE suppressions SET added_at = '2020-01-01'"),
    _a(
        "suppressions deleted: the erased person is allowed again", "suppressions", "DELETE FROM suppressions"
    ),
    _a("suppression added", "suppressions", f"INSERT INTO suppressions VALUES ('{'c' * 64}', NULL, '2026')"),
    # -- ledger_records ---------------------------------------------------------------------------
    _a("record kind", "ledger_records", "UPDATE ledger_records SET kind = 'text' WHERE kind = 'link'"),
    _a("record body", "ledger_records", "UPDATE ledger_records SET body = '{}' WHERE seq = 1"),
    _a(
        "record prev_hash",
        "ledger_records",
        f"UPDATE ledger_records SET prev_hash = '{'d' * 64}' WHERE seq = 2",
    ),
    _a("record hash", "ledger_records", f"UPDATE ledger_records SET hash = '{'e' * 64}' WHERE seq = 2"),
    _a("record seq", "ledger_records", "UPDATE ledger_records SET seq = 100 WHERE seq = 2"),
    _a("record deleted", "ledger_records", "DELETE FROM ledger_records WHERE seq = 2"),
    # -- ledger_seals -----------------------------------------------------------------------------
    _a("seal events_seq", "ledger_seals", "UPDATE ledger_seals SET events_seq = events_seq - 1 WHERE id = 2"),
    _a(
        "seal events_hash", "ledger_seals", f"UPDATE ledger_seals SET events_hash = '{'f' * 64}' WHERE id = 2"
    ),
    _a("seal records_seq", "ledger_seals", "UPDATE ledger_seals SET records_seq = 0 WHERE id = 3"),
    _a(
        "seal records_hash",
        "ledger_seals",
        f"UPDATE ledger_seals SET records_hash = '{'0' * 63}1' WHERE id = 3",
    ),
    _a("seal signed_at", "ledger_seals", "UPDATE ledger_seals SET signed_at = '2020-01-01T00:00:00+00:00'"),
    _a("seal key_id", "ledger_seals", "UPDATE ledger_seals SET key_id = '0000000000000000'"),
    _a("seal signature", "ledger_seals", "UPDATE ledger_seals SET signature = 'AAAA' WHERE id = 1"),
    _a("seal id (reordered)", "ledger_seals", "UPDATE ledger_seals SET id = 1000 WHERE id = 1"),
]


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_every_alteration_fails_verify_naming_the_table(signed_ledger: Ledger, attack: Attack) -> None:
    populate(signed_ledger)
    before = signed_ledger.verify()
    assert before.intact, before
    run_sql(signed_ledger, *attack.sql)
    report = signed_ledger.verify()
    assert not report.ok, f"{attack.name}: verify passed"
    assert report.table == attack.table, report
    assert report.problem


def test_erasure_and_links_verify_as_written(signed_ledger: Ledger) -> None:
    populate(signed_ledger)
    report = signed_ledger.verify()
    assert report.ok
    assert report.signed
    assert report.intact
    assert report.checked == report.head_seq == 6
    with signed_ledger.engine.connect() as conn:
        erased = conn.execute(text("SELECT subject FROM events WHERE subject_salt IS NULL")).scalars().all()
    assert len(erased) == 2
    assert all(s.startswith("erased:") for s in erased)


# -- forging without the key ----------------------------------------------------------------------


def _forge_event(ledger: Ledger, subject: str) -> None:
    """What an attacker with database access can do: a correctly hashed event appended to the chain."""
    with ledger.engine.begin() as conn:
        seq, prev = conn.execute(text("SELECT seq, hash FROM ledger_head")).one()
        last = dict(conn.execute(text("SELECT * FROM events WHERE seq = :s"), {"s": seq}).one()._mapping)
        row = {**last, "seq": seq + 1, "event_id": "forged", "action": "grant", "subject": subject}
        row["subject_salt"] = "00"
        row["subject_commit"] = commit_subject(subject, "00")
        row["signals"] = {}
        row["hash"] = event_hash(prev, row)
        row["prev_hash"], row["signals"] = prev, "{}"
        cols = ", ".join(row)
        conn.execute(text(f"INSERT INTO events ({cols}) VALUES ({', '.join(':' + c for c in row)})"), row)
        conn.execute(text("UPDATE ledger_head SET seq = :s, hash = :h"), {"s": seq + 1, "h": row["hash"]})


def test_a_forged_append_is_not_intact(signed_ledger: Ledger) -> None:
    populate(signed_ledger)
    _forge_event(signed_ledger, ANN)
    report = signed_ledger.verify()
    assert report.ok  # every hash is right: the forger re-hashed
    assert not report.signed
    assert not report.intact
    assert "UNSIGNED TAIL" in report.signature_note


def test_a_seal_made_with_another_key_fails(
    signed_ledger: Ledger, ledger_signer: Signer, tmp_path: Path
) -> None:
    populate(signed_ledger)
    forger = create_key(tmp_path / "forger.key")
    _forge_event(signed_ledger, ANN)
    with Ledger(signed_ledger.engine, signer=forger) as forged:
        forged.seal()
    pinned = PublicKeys.load([ledger_signer.path.with_suffix(".pub")])  # type: ignore[union-attr]
    report = signed_ledger.verify(keys=pinned)
    assert not report.ok
    assert report.table == "ledger_seals"
    assert "not among the trusted keys" in (report.problem or "")


def test_without_a_key_verify_never_says_intact(ledger: Ledger) -> None:
    populate(ledger)
    report = ledger.verify()
    assert report.ok
    assert not report.signed
    assert not report.intact
    assert report.signature_note.startswith("UNSIGNED")


def test_rotation_keeps_older_seals_verifying(signed_ledger: Ledger, ledger_signer: Signer) -> None:
    populate(signed_ledger)
    path = ledger_signer.path
    assert path is not None
    rotated = create_key(path, rotate=True)
    assert rotated.key_id != ledger_signer.key_id
    with Ledger(signed_ledger.engine, signer=rotated) as after:
        after.append([_event(BOB, Action.DENY, 200)])
        report = after.verify(keys=PublicKeys.load([path.with_suffix(".pub")]))
    assert report.intact, report
    assert rotated.key_id in report.signature_note


# -- checkpoints -----------------------------------------------------------------------------------


def test_checkpoint_catches_a_cut_off_end_even_with_the_last_seal_removed(signed_ledger: Ledger) -> None:
    populate(signed_ledger)
    cp = signed_ledger.checkpoint()
    assert signed_ledger.verify(checkpoint=cp).intact
    run_sql(
        signed_ledger,  # the last write (two events) and its seal, gone; the head moved back to match
        "DELETE FROM ledger_seals WHERE id = (SELECT MAX(id) FROM ledger_seals)",
        "DELETE FROM events WHERE seq > (SELECT MAX(events_seq) FROM ledger_seals)",
        "UPDATE ledger_head SET seq = (SELECT MAX(seq) FROM events), hash = (SELECT hash FROM events WHERE "
        "seq = (SELECT MAX(seq) FROM events))",
    )
    # Without the checkpoint this truncation is indistinguishable from a shorter ledger (docs/ledger.md).
    assert signed_ledger.verify().intact
    report = signed_ledger.verify(checkpoint=cp)
    assert not report.ok
    assert report.table == "checkpoint"
    assert "no longer extends the checkpoint" in (report.problem or "")


def test_checkpoint_catches_a_rewritten_suffix(signed_ledger: Ledger) -> None:
    populate(signed_ledger)
    cp = signed_ledger.checkpoint()
    signed_ledger.append([_event(BOB, Action.DENY, 300)])
    assert signed_ledger.verify(checkpoint=cp).intact  # a longer ledger still extends it
    last = cp.events_seq
    run_sql(
        signed_ledger,
        f"DELETE FROM events WHERE seq >= {last}",
        f"DELETE FROM ledger_seals WHERE events_seq >= {last}",
    )
    with signed_ledger.engine.begin() as conn:
        h = conn.execute(text(f"SELECT hash FROM events WHERE seq = {last - 1}")).scalar_one()
        conn.execute(text("UPDATE ledger_head SET seq = :s, hash = :h"), {"s": last - 1, "h": h})
    signed_ledger.append([_event(ANN, Action.GRANT, 400)])  # the attacker has the key too
    assert signed_ledger.verify().intact
    report = signed_ledger.verify(checkpoint=cp)
    assert not report.ok
    assert report.table == "checkpoint"


def test_a_forged_checkpoint_fails(signed_ledger: Ledger, tmp_path: Path) -> None:
    populate(signed_ledger)
    with Ledger(signed_ledger.engine, signer=create_key(tmp_path / "other.key")) as other:
        cp = other.checkpoint()
    report = signed_ledger.verify(checkpoint=cp)
    assert not report.ok
    assert report.table == "checkpoint"


# -- appends refuse a broken head, and verify resumes ----------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE events SET action = 'grant' WHERE seq = (SELECT MAX(seq) FROM events)",
        "UPDATE ledger_head SET hash = '" + "1" * 64 + "'",
        "UPDATE ledger_records SET body = '{}' WHERE seq = (SELECT MAX(seq) FROM ledger_records)",
    ],
    ids=["last event", "head hash", "last record"],
)
def test_append_refuses_a_broken_head(signed_ledger: Ledger, sql: str) -> None:
    populate(signed_ledger)
    run_sql(signed_ledger, sql)
    head = signed_ledger.head()
    with pytest.raises(ChainBroken, match="refusing to append"):
        signed_ledger.append([_event(BOB, Action.DENY, 500)])
    with pytest.raises(ChainBroken, match="refusing to append"):
        identity.link(signed_ledger.engine, "c-bob", BOB, signer=signed_ledger.signer)
    assert signed_ledger.head() == head  # nothing half-stored


def test_verify_resumes_from_a_verified_point(signed_ledger: Ledger) -> None:
    populate(signed_ledger)
    first = signed_ledger.verify()
    signed_ledger.append([_event(BOB, Action.DENY, 600), _event(ANN, Action.GRANT, 601)])
    again = signed_ledger.verify(resume=(first.verified_seq, first.verified_hash))
    assert again.intact
    assert again.checked == 2
    assert (again.verified_seq, again.verified_hash) == signed_ledger.head()
    run_sql(signed_ledger, f"UPDATE events SET action = 'deny' WHERE seq = {first.verified_seq}")
    broken = signed_ledger.verify(resume=(first.verified_seq, first.verified_hash))
    assert not broken.ok
    assert broken.bad_seq == first.verified_seq


def test_writes_made_while_verify_walks_are_not_taken_for_alterations(
    signed_ledger: Ledger, ledger_url: str, ledger_signer: Signer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server's chain monitor verifies while others append: an event, a link and a suppression
    committed after verify read the heads must not look like rows the chain does not commit to."""
    from consentgate.ledger import verify

    populate(signed_ledger)
    before = signed_ledger.verify()
    other = Ledger.open(ledger_url, signer=ledger_signer)
    read_head = verify.Verification._head

    def head_then_others_write(self: verify.Verification) -> tuple[int, str, int, str] | None:
        head = read_head(self)
        other.append([_event(BOB, Action.WITHDRAW, 120)])
        identity.link(other.engine, "c-bob", BOB, "cookie_id", signer=other.signer)
        key = erasure_key(other.engine)
        with other.engine.execution_options(ledger_write=True).begin() as conn:
            suppress(conn, {key.hash("c-bob")}, request_id="req-2", at=T0, signer=other.signer)
        return head

    try:
        monkeypatch.setattr(verify.Verification, "_head", head_then_others_write)
        during = signed_ledger.verify()
        monkeypatch.undo()
        after = signed_ledger.verify()
    finally:
        other.close()
    assert during.intact, during.problem
    assert (during.head_seq, during.checked) == (before.head_seq, before.checked)  # the heads it read
    assert after.intact, after.problem
    assert after.head_seq == before.head_seq + 1

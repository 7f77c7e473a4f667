"""Erasure in the ledger database: the erasure key, the suppression list, and pseudonymised ids.

When a person is erased (GDPR Art. 17) the ledger must still prove that their request was honoured,
but must stop holding their identifiers. Each identifier ``x`` of the person (their subject id and
every linked alias) is replaced, in ``events``, ``aliases`` and ``requests``, by its *pseudonym*
``erased:`` + ``HMAC-SHA256(key, x)`` (hex), and each event's subject salt is dropped. The chain
commits to a salted commitment of the subject, not the subject, so it still verifies; the salt is
gone, so the commitment can no longer be tied to the identifier.

The same keyed hash goes into ``suppressions``, which every pipeline gate checks, so a copy of the
person's data that is re-ingested later never comes back. And it lets the service still answer for
the person: asked about ``x``, it finds ``x``'s hash on the list and reads the events filed under
the pseudonym — the erase event among them, which denies every purpose.

The key is a service secret generated once into ``service_secrets`` (purpose ``erasure``), so every
process hashes alike (``store/secrets.py`` loads it: ``erasure_key`` and ``find_erasure_key``). The
key and the pseudonyms are computed in ``pseudonyms.py`` (re-exported here), which needs no database.
Without it the hashes cannot be tested against a list of likely emails.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, case, insert, or_, select, update

from consentgate.ledger import schema as t
from consentgate.ledger.chain import alias_commit
from consentgate.ledger.db import connected, list_param, one_of
from consentgate.ledger.pseudonyms import KEY_PURPOSE as KEY_PURPOSE
from consentgate.ledger.pseudonyms import ErasureKey as ErasureKey
from consentgate.ledger.pseudonyms import by_hash as _by_hash
from consentgate.ledger.pseudonyms import is_pseudonym as is_pseudonym
from consentgate.ledger.pseudonyms import key_id as key_id
from consentgate.ledger.records import Records, write_records
from consentgate.ledger.signing import Signer

_CHUNK = 400


# -- the suppression list ---------------------------------------------------------------------------


def suppress(
    conn: Connection,
    hashes: Iterable[str],
    *,
    request_id: str | None,
    at: datetime,
    signer: Signer | None = None,
) -> int:
    """Add keyed hashes to the list (those already on it stay as they are); returns how many were new.

    The new rows are committed by a ``suppress`` record in the ledger's record chain, so deleting one
    (which would let an erased person's data back into training) fails ``ledger verify``."""
    wanted = set(hashes)
    added: list[list[str | None]] = []

    def change(_seq: int) -> Records:
        for h in sorted(wanted - suppressed(conn, wanted)):
            row = {"id_hash": h, "request_id": request_id, "added_at": at.isoformat()}
            conn.execute(insert(t.suppressions).values(**row))
            added.append([h, request_id, row["added_at"]])
        return [("suppress", {"rows": added})] if added else ()

    write_records(conn, signer, change)
    return len(added)


def suppressed(conn: Connection, hashes: Collection[str]) -> set[str]:
    """The hashes among ``hashes`` that are on the list."""
    if not hashes:
        return set()
    dialect = conn.dialect.name
    sql = f"SELECT id_hash FROM suppressions WHERE {one_of(dialect, 'id_hash', 'hashes')}"
    return {str(h) for (h,) in conn.exec_driver_sql(sql, {"hashes": list_param(dialect, hashes)})}


def erased_in(conn: Connection, identifiers: Iterable[str]) -> dict[str, str]:
    """Identifier → pseudonym, for those of ``identifiers`` on the suppression list; read in the
    caller's transaction, so what a writer stores matches the list as it commits."""
    s = t.service_secrets
    secret = conn.execute(
        select(s.c.secret).where(s.c.purpose == KEY_PURPOSE).order_by(s.c.generation).limit(1)
    ).scalar()
    if secret is None:
        return {}  # no erasure ever
    key = ErasureKey(str(secret).encode())
    by_hash = {key.hash(i): i for i in identifiers if not is_pseudonym(i)}
    return {by_hash[h]: key.pseudonym(by_hash[h]) for h in suppressed(conn, by_hash)}


def suppressed_identifiers(
    bind: Engine | Connection, key: ErasureKey, identifiers: Iterable[str]
) -> set[str]:
    """The identifiers whose keyed hash is on the suppression list (``bind``: an engine, or the
    caller's connection).

    An empty list (every deployment before its first erasure; the key may exist without one) is
    asked first, in the same connection: an HMAC per identifier was a fifth of a cold batch's
    decision time (1.8 ms of ~15 for 1,000 people, py-spy; docs/benchmarks.md)."""
    with connected(bind) as conn:
        if conn.execute(select(t.suppressions.c.id_hash).limit(1)).first() is None:
            return set()
        by_hash = _by_hash(key, identifiers)
        hits = suppressed(conn, by_hash) if by_hash else set()
    return {i for h in hits for i in by_hash[h]}


# -- pseudonymising the ledger ----------------------------------------------------------------------


def pseudonymise(
    conn: Connection, key: ErasureKey, identifiers: Collection[str], signer: Signer | None = None
) -> dict[str, int]:
    """Replace these identifiers by their pseudonyms in events, aliases and requests; drop the salts.

    Runs in the caller's transaction, so either every table changes or none does. Idempotent:
    identifiers already replaced are simply not found again. A ``pseudonymise`` record names each
    event and alias row changed and what it now holds, so verify can tell this erasure from an
    attacker who drops a salt to move an event off its person.
    """
    counts = {"events": 0, "aliases": 0, "requests": 0}
    ev, al, rq = t.events, t.aliases, t.requests
    ids = sorted(i for i in identifiers if not is_pseudonym(i))

    def change(_seq: int) -> Records:
        events: list[list[object]] = []
        links: list[list[object]] = []
        for ident in ids:
            p = key.pseudonym(ident)
            seqs = list(conn.execute(select(ev.c.seq).where(ev.c.subject == ident)).scalars())
            for i in range(0, len(seqs), _CHUNK):
                part = seqs[i : i + _CHUNK]
                conn.execute(update(ev).where(ev.c.seq.in_(part)).values(subject=p, subject_salt=None))
            events.extend([s, p] for s in seqs)
            counts["events"] += len(seqs)
            open_key = case((rq.c.open_key.is_(None), None), else_=rq.c.kind + ":" + p)
            counts["requests"] += conn.execute(
                update(rq).where(rq.c.subject == ident).values(subject=p, open_key=open_key)
            ).rowcount
        rows = conn.execute(select(al).where(or_(al.c.alias.in_(ids), al.c.subject.in_(ids)))).all()
        for r in rows:
            alias = key.pseudonym(r.alias) if r.alias in ids else r.alias
            subject = key.pseudonym(r.subject) if r.subject in ids else r.subject
            conn.execute(
                update(al).where(al.c.alias == r.alias).values(alias=alias, subject=subject, salt=None)
            )
            links.append([r.record_seq, alias_commit("", alias, subject, r.kind, r.linked_at)])
            counts["aliases"] += r.alias in ids
        return [("pseudonymise", {"events": events, "aliases": links})] if events or links else ()

    if ids:
        write_records(conn, signer, change)
    return counts


# Tables whose rows an erasure rewrites (ledger/erasure.py, store/requests.py).
_TOUCHED = ("events", "aliases", "requests", "request_log")


def purge_residue(engine: Engine) -> dict[str, Any]:
    """Make the database drop the old values an erasure overwrote, as far as it can; say what's left.

    SQLite: every connection runs with ``secure_delete`` (ledger/db.py), so overwritten and deleted
    content is zeroed in the pages; the old pages still sit in the write-ahead log until a checkpoint
    copies the new ones back and ``TRUNCATE`` empties it. A reader in another process holding an old
    snapshot blocks that (after the busy timeout): then the outcome says so, and the next checkpoint
    (any later erasure, or ``sqlite3 DB 'PRAGMA wal_checkpoint(TRUNCATE)'``) finishes it.

    PostgreSQL: an UPDATE leaves the old row version as a dead tuple; ``VACUUM`` of the touched tables
    (indexes included) removes them, so no query, ``pg_dump`` or replica can return them. It does not
    block reads or appends; it reads the tables' indexes whole, so it costs more as the ledger grows.
    PostgreSQL does not zero the space it frees in a table's pages: an old row's bytes can stay in the
    data file until the page is reused (``VACUUM FULL``, which locks the table, rewrites it). The
    write-ahead log, its archive and backups keep the old values until they rotate out. Both are the
    operator's to manage (docs/security.md).
    """
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            busy, _, _ = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
        if busy:
            return {
                "engine": "sqlite",
                "wal": "not emptied: another connection was reading; old values stay in the WAL "
                "until the next checkpoint (PRAGMA wal_checkpoint(TRUNCATE))",
            }
        return {"engine": "sqlite", "wal": "emptied", "freed_pages": "zeroed (secure_delete)"}
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in _TOUCHED:  # VACUUM cannot run inside a transaction block
            # INDEX_CLEANUP ON: PostgreSQL 14+ skips the indexes when few pages have dead rows (one
            # person's, in a large ledger), which would leave the old ids in ix_events_subject.
            conn.exec_driver_sql(f"VACUUM (INDEX_CLEANUP ON) {table}")
    return {
        "engine": engine.dialect.name,
        "vacuumed": list(_TOUCHED),
        "remains": "old values in the tables' free space until reused or VACUUM FULL, and in the "
        "write-ahead log, its archive and backups until they rotate out (docs/security.md)",
    }


def now_utc() -> datetime:
    return datetime.now(UTC)

"""The ``aliases`` table: which identifier is linked to which, each link a chained ledger record.

Links form an undirected graph; a person is a connected component, found here batch by batch. The
rules a new link must follow (kinds, lengths, no control characters) are ``auth/identity.py``'s.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, insert, select

from consentgate.errors import BadInput
from consentgate.ledger import schema as t
from consentgate.ledger.chain import alias_commit, new_salt
from consentgate.ledger.db import connected, list_param, one_of
from consentgate.ledger.erasure import erased_in
from consentgate.ledger.records import Records, write_records
from consentgate.ledger.signing import Signer
from consentgate.store.engine import writer
from consentgate.store.persons import components


def add_link(engine: Engine, alias: str, subject: str, kind: str, *, signer: Signer | None) -> bool:
    """Store the link as an ``aliases`` row and a ``link`` record, in one transaction that checks the
    record chain's head first; False when the two are already linked."""
    created = False

    def change(seq: int) -> Records:
        nonlocal created, alias, subject
        # An erased identifier is linked as its pseudonym, never stored again in the clear; the new
        # identifier then joins the erased person, whose erase event denies every purpose.
        erased = erased_in(conn, (alias, subject))
        alias, subject = erased.get(alias, alias), erased.get(subject, subject)
        if alias == subject:
            return ()
        existing = conn.execute(
            select(t.aliases.c.subject).where(t.aliases.c.alias == alias)
        ).scalar_one_or_none()
        if existing == subject:
            return ()
        if existing is not None:
            raise BadInput(
                "alias is already linked to another subject; one identifier belongs to one person "
                "(linking is for good: a wrong link is repaired by erasing the identifier)",
            )
        salt, linked_at = new_salt(), datetime.now(UTC).isoformat()
        conn.execute(
            insert(t.aliases).values(
                alias=alias, subject=subject, kind=kind, linked_at=linked_at, salt=salt, record_seq=seq
            )
        )
        created = True
        return [("link", {"row": alias_commit(salt, alias, subject, kind, linked_at)})]

    with writer(engine).begin() as conn:
        write_records(conn, signer, change)
    return created


def person(engine: Engine, subject: str) -> set[str]:
    """Every identifier connected to ``subject`` (including itself)."""
    return people(engine, [subject])[subject]


def people(bind: Engine | Connection, subjects: Collection[str]) -> dict[str, set[str]]:
    """Resolve many identifiers at once: each maps to its whole connected component. ``bind``: an
    engine, or the connection of a caller that reads more (:func:`consentgate.ledger.db.connected`)."""
    dialect = bind.dialect.name
    sql = (
        f"SELECT alias, subject FROM aliases WHERE {one_of(dialect, 'alias', 'ids')}"
        f" OR {one_of(dialect, 'subject', 'ids')}"
    )
    with connected(bind) as conn:

        def links_of(part: list[str]) -> Iterable[tuple[str, str]]:
            rows = conn.exec_driver_sql(sql, {"ids": list_param(dialect, part)})
            return [(alias, subject) for alias, subject in rows]

        # The identifiers go as one parameter (an array, or JSON on SQLite): no chunks needed.
        return components(subjects, links_of, chunk=None)


def aliases_of(engine: Engine, ids: Collection[str]) -> list[dict[str, str]]:
    """The alias rows among these identifiers, for evidence."""
    with engine.connect() as conn:
        q = select(t.aliases).where(t.aliases.c.alias.in_(list(ids)))
        return [
            {"alias": r.alias, "subject": r.subject, "kind": r.kind, "linked_at": r.linked_at}
            for r in conn.execute(q)
        ]

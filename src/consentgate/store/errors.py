"""Database errors as the library's storage errors (``errors.StorageError``), for the stores and
the server. The wording is ``ledger/db.py``'s (:func:`as_storage_error`), which the event store uses
too, so every layer says the same of the same failure.

A locked or unreachable database (``OperationalError``) is *transient*: retrying may help, and the
HTTP layer answers 503 with ``Retry-After``. Anything else is *terminal*. The message carries the
driver's first line, never ``str()`` of a statement error: SQLAlchemy's includes the SQL and its
parameters, which can hold subject ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from consentgate.ledger.db import storage_error as as_storage_error

DatabaseError = SQLAlchemyError
"""What a store lets escape when a caller does not wrap it (the server maps it in ``server/errors``)."""

__all__ = ["DatabaseError", "as_storage_error", "storage"]


@contextmanager
def storage(doing: str, *, integrity: bool = True) -> Iterator[None]:
    """Database errors inside the block as storage errors. ``integrity=False`` lets an
    ``IntegrityError`` through unchanged, for a store that turns a constraint into a domain answer
    (a duplicate open request is a Conflict, not a storage failure)."""
    try:
        yield
    except SQLAlchemyError as exc:
        if isinstance(exc, IntegrityError) and not integrity:
            raise
        raise as_storage_error(exc, doing) from exc

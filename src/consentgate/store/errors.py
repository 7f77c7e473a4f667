"""Database errors as the library's storage errors (``errors.StorageError``), in one place.

A locked or unreachable database (``OperationalError``) is *transient*: retrying may help, and the
HTTP layer answers 503 with ``Retry-After``. Anything else is *terminal*. The message carries the
driver's first line, never ``str()`` of a statement error: SQLAlchemy's includes the SQL and its
parameters, which can hold subject ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError, StatementError

from consentgate.errors import StorageError, TerminalStorageError, TransientStorageError

DatabaseError = SQLAlchemyError
"""What a store lets escape when a caller does not wrap it (the server maps it in ``server/errors``)."""

__all__ = ["DatabaseError", "IntegrityError", "as_storage_error", "storage"]


def as_storage_error(exc: BaseException, doing: str) -> StorageError:
    """``could not <doing>: <the driver's reason>``, transient for operational errors."""
    orig = getattr(exc, "orig", None)
    if orig is not None:
        source = str(orig)
    elif isinstance(exc, StatementError):
        source = type(exc).__name__
    else:
        source = str(exc) or type(exc).__name__
    lines = source.strip().splitlines()
    reason = lines[0] if lines else type(exc).__name__
    if isinstance(exc, OperationalError):
        return TransientStorageError(f"could not {doing}: {reason}")
    return TerminalStorageError(f"could not {doing}: {reason}")


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

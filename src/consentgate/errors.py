"""One exception tree for everything consentgate raises on purpose.

::

    ConsentgateError                 root; carries optional context (subject, purpose, event id)
    ├── Refused                      an answer, not a crash: the data may not be used
    │   ├── ConsentViolation         a gate found a record it must not let through
    │   └── StaleData                a snapshot or filtered input is further behind the ledger than allowed
    ├── BadInput                     the caller must change something; the message says what
    │   ├── PolicyError              the policy file is wrong (file, path inside it, problem)
    │   ├── EventError               an event or a batch of events is wrong (line number, field)
    │   ├── QueryError               a decision query is wrong
    │   ├── AuthError                missing, unknown or insufficient API key or subject token
    │   ├── NotFound                 no such request, or nothing held about a subject
    │   │   └── UnknownSubject       the ledger knows nothing under this identifier (CLI exit 5)
    │   ├── Conflict                 clashes with what is stored (a duplicate request, a wrong step)
    │   ├── MissingExtra             an optional library is not installed (the message is the pip line)
    │   └── WrongProcess             a training run used in a process that cannot record for it (a worker)
    ├── Incomplete                   work started and not finished; what is done stays, a retry goes on
    └── StorageError                 the ledger could not be read or written
        ├── TransientStorageError    retrying may help (locked database, lost connection)
        ├── TerminalStorageError     retrying will not help (schema too new, disk full)
        └── ChainBroken              the hash chain does not verify: evidence was altered

Usage errors of the library itself (calling things in the wrong order) stay plain ``RuntimeError``s
so they are never confused with a refused request or bad data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def shown(value: object) -> str:
    """A value as a message quotes it: ``'DE'``, or words for a missing one (never ``None``)."""
    return "none given" if value is None else repr(value)


class ConsentgateError(Exception):
    """Root of every error consentgate raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        subject: str | None = None,
        purpose: str | None = None,
        event_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.subject = subject
        self.purpose = purpose
        self.event_id = event_id

    def context(self) -> dict[str, Any]:
        """The non-empty context fields, for logs and JSON error bodies."""
        ctx = {"purpose": self.purpose, "event_id": self.event_id}
        return {k: v for k, v in ctx.items() if v is not None}


class Refused(ConsentgateError):
    """The data may not be used; this is an answer, not a failure."""


class ConsentViolation(Refused):
    """A gate met a record whose subject may not be used for the purpose.

    ``reason`` is the gate's reason code (``not_allowed``, ``do_not_train``, ``suppressed``,
    ``no_subject``), ``record`` the record's position in what the gate checked, and ``event_id`` the
    ledger event that decided, when one did. The subject is on ``subject``, not in the message, so
    logs carry no more than needed.
    """

    def __init__(
        self,
        message: str,
        *,
        subject: str | None = None,
        purpose: str | None = None,
        event_id: str | None = None,
        reason: str | None = None,
        record: int | None = None,
    ) -> None:
        super().__init__(message, subject=subject, purpose=purpose, event_id=event_id)
        self.reason = reason
        self.record = record


class StaleData(Refused):
    """A snapshot or a filtered input reflects the ledger further back than the caller allows
    (``max_staleness``), or at a head this ledger does not hold. ``events`` is how many ledger events
    it misses (None: unknown) and ``seconds`` how long it has been out of date. The CLI exits 7.
    """

    def __init__(
        self, message: str, *, events: int | None = None, seconds: float | None = None, **ctx: Any
    ) -> None:
        super().__init__(message, **ctx)
        self.events = events
        self.seconds = seconds


class StaleDataWarning(UserWarning):
    """Data is behind the ledger (or its head is unknown to it) and no ``max_staleness`` refuses it:
    the warning says how many events and how long, so nobody reads silence as "up to date"."""


class TrainingStoppedWarning(UserWarning):
    """A training loop stopped itself because a record may not be used (the run's record holds the
    :class:`ConsentViolation`): said out loud, because the loop returned normally."""


class BadInput(ConsentgateError):
    """Input the caller must fix; the message says what to change."""


class PolicyError(BadInput):
    """A policy file is invalid. ``problems`` lists ``(location, message)`` pairs."""

    def __init__(
        self, message: str, *, file: str | None = None, problems: list[tuple[str, str]] | None = None
    ):
        super().__init__(message)
        self.file = file
        self.problems = problems or []


class EventError(BadInput):
    """One or more events are invalid; nothing of the batch was stored.

    ``problems`` lists ``(location, message)`` pairs where location is e.g. ``line 7: occurred_at``.
    """

    def __init__(self, message: str, *, problems: list[tuple[str, str]] | None = None, **ctx: Any):
        super().__init__(message, **ctx)
        self.problems = problems or []


class QueryError(BadInput):
    """A decision query is invalid."""


class AuthError(BadInput):
    """The request's credentials are missing or invalid (``status`` 401: an unknown or revoked key, an
    expired or altered subject token) or do not allow what was asked (403)."""

    def __init__(self, message: str, *, status: int = 401):
        super().__init__(message)
        self.status = status


class NotFound(BadInput):
    """Something asked for does not exist: an unknown request id, or a subject consentgate holds
    nothing about."""


class UnknownSubject(NotFound):
    """The ledger holds nothing under an identifier: no event, no link, no erasure.

    Kept apart from other errors so an answer about nobody ("0 events, intact") can never pass for an
    answer about someone: the CLI exits with its own code (5) for it.
    """


class Conflict(BadInput):
    """The call clashes with what is stored: a second open request of the same kind for one person,
    or a status change the request's lifecycle does not allow. ``problems`` lists ``(where, what)``,
    e.g. ``("request_id", "req-…")`` naming the open request a duplicate clashes with."""

    def __init__(self, message: str, *, problems: list[tuple[str, str]] | None = None, **ctx: Any):
        super().__init__(message, **ctx)
        self.problems = problems or []


class MissingExtra(BadInput):
    """A feature needs an optional library that is not installed; the message names the package(s)
    and the ``pip install`` line of the extra that brings them, so the fix can be copied.

    One class for every extra (engines, classification, table readers, redaction, the scanner), so a
    caller catches "install something" once; ``packages`` and ``extra`` say what, for tools.
    """

    def __init__(self, feature: str, packages: Sequence[str], extra: str) -> None:
        names = " and ".join(repr(p) for p in packages)
        one = len(packages) == 1
        super().__init__(
            f"{feature} needs the {names} package{'' if one else 's'}, which "
            f"{'is' if one else 'are'} not installed; install {'it' if one else 'them'} with: "
            f"pip install 'consentgate[{extra}]'"
        )
        self.packages = tuple(packages)
        self.extra = extra


class WrongProcess(BadInput):
    """A :class:`~consentgate.pipeline.training.TrainingRun` was used in another process than the one
    that entered it (a DataLoader or ``datasets`` worker): what it would check and record there never
    reaches the run's record, so it refuses instead. The message says what to use in the worker."""


class Incomplete(ConsentgateError):
    """Work was started and not finished (an erasure source could not be reached). What was done
    stays done; running the same step again continues. ``problems`` lists ``(where, what)``."""

    def __init__(self, message: str, *, problems: list[tuple[str, str]] | None = None, **ctx: Any):
        super().__init__(message, **ctx)
        self.problems = problems or []


class StorageError(ConsentgateError):
    """The ledger could not be read or written."""

    transient = False


class TransientStorageError(StorageError):
    """Retrying may help."""

    transient = True


class TerminalStorageError(StorageError):
    """Retrying will not help."""


class ChainBroken(StorageError):
    """The ledger's hash chain does not verify; ``seq`` and ``event_id`` name the first bad event."""

    def __init__(self, message: str, *, seq: int | None = None, event_id: str | None = None):
        super().__init__(message, event_id=event_id)
        self.seq = seq

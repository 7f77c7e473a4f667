"""consentgate: may this person's data be used for this purpose, now — and can we prove it?

The curated public API. Everything else is an implementation detail that may move.

Names are resolved on first use (``_EXPORTS`` maps each to its module): ``import consentgate`` stays
cheap, so the CLI's ``--version`` and a backend that only decides do not pay for SQLAlchemy, httpx or
the service; ``TrainingRun`` and ``RequestDesk`` need the pipeline extra (pyarrow) only when used.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from consentgate.client import ConsentgateClient, issue_subject_token
    from consentgate.decide import Decision, Query, Timeline, decide, decide_batch
    from consentgate.errors import (
        AuthError,
        BadInput,
        ChainBroken,
        Conflict,
        ConsentgateError,
        ConsentViolation,
        EventError,
        Incomplete,
        NotFound,
        PolicyError,
        QueryError,
        Refused,
        StaleData,
        StaleDataWarning,
        StorageError,
        TerminalStorageError,
        TransientStorageError,
        UnknownSubject,
    )
    from consentgate.ledger.events import Action, ConsentEvent, NewEvent
    from consentgate.ledger.store import Ledger
    from consentgate.ledger.verify import VerifyReport
    from consentgate.pipeline.training import TrainingRun
    from consentgate.policy import Basis, Policy, Purpose, load_policy, parse_policy_text
    from consentgate.requests import RequestDesk
    from consentgate.service import ConsentService

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "Action": "consentgate.ledger.events",
    "AuthError": "consentgate.errors",
    "BadInput": "consentgate.errors",
    "Basis": "consentgate.policy",
    "ChainBroken": "consentgate.errors",
    "Conflict": "consentgate.errors",
    "ConsentEvent": "consentgate.ledger.events",
    "ConsentService": "consentgate.service",
    "ConsentViolation": "consentgate.errors",
    "ConsentgateClient": "consentgate.client",
    "ConsentgateError": "consentgate.errors",
    "Decision": "consentgate.decide",
    "EventError": "consentgate.errors",
    "Incomplete": "consentgate.errors",
    "Ledger": "consentgate.ledger.store",
    "NewEvent": "consentgate.ledger.events",
    "NotFound": "consentgate.errors",
    "Policy": "consentgate.policy",
    "PolicyError": "consentgate.errors",
    "Purpose": "consentgate.policy",
    "Query": "consentgate.decide",
    "QueryError": "consentgate.errors",
    "Refused": "consentgate.errors",
    "RequestDesk": "consentgate.requests",
    "StaleData": "consentgate.errors",
    "StaleDataWarning": "consentgate.errors",
    "StorageError": "consentgate.errors",
    "TerminalStorageError": "consentgate.errors",
    "Timeline": "consentgate.decide",
    "TrainingRun": "consentgate.pipeline.training",
    "TransientStorageError": "consentgate.errors",
    "UnknownSubject": "consentgate.errors",
    "VerifyReport": "consentgate.ledger.verify",
    "decide": "consentgate.decide",
    "decide_batch": "consentgate.decide",
    "issue_subject_token": "consentgate.client",
    "load_policy": "consentgate.policy",
    "parse_policy_text": "consentgate.policy",
}

__all__ = [
    "Action",
    "AuthError",
    "BadInput",
    "Basis",
    "ChainBroken",
    "Conflict",
    "ConsentEvent",
    "ConsentService",
    "ConsentViolation",
    "ConsentgateClient",
    "ConsentgateError",
    "Decision",
    "EventError",
    "Incomplete",
    "Ledger",
    "NewEvent",
    "NotFound",
    "Policy",
    "PolicyError",
    "Purpose",
    "Query",
    "QueryError",
    "Refused",
    "RequestDesk",
    "StaleData",
    "StaleDataWarning",
    "StorageError",
    "TerminalStorageError",
    "Timeline",
    "TrainingRun",
    "TransientStorageError",
    "UnknownSubject",
    "VerifyReport",
    "__version__",
    "decide",
    "decide_batch",
    "issue_subject_token",
    "load_policy",
    "parse_policy_text",
]


def __getattr__(name: str) -> Any:
    """Import the module that defines ``name`` on first use and keep the name here (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'consentgate' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

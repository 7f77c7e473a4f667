"""consentgate: may this person's data be used for this purpose, now — and can we prove it?

The curated public API. Everything else is an implementation detail that may move.
"""

from typing import TYPE_CHECKING, Any

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
from consentgate.policy import Basis, Policy, Purpose, load_policy, parse_policy_text
from consentgate.service import ConsentService

if TYPE_CHECKING:
    from consentgate.pipeline.training import TrainingRun
    from consentgate.requests import RequestDesk

__version__ = "0.1.0"

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
    """``TrainingRun`` and ``RequestDesk`` need the pipeline extra (pyarrow): imported on first use,
    so that ``import consentgate`` works without it."""
    if name == "TrainingRun":
        from consentgate.pipeline.training import TrainingRun

        return TrainingRun
    if name == "RequestDesk":
        from consentgate.requests import RequestDesk

        return RequestDesk
    raise AttributeError(f"module 'consentgate' has no attribute {name!r}")

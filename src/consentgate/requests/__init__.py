"""Data-subject requests: access, objection, withdrawal, erasure (with suppression), US-style opt-out.

See docs/requests.md. :class:`RequestDesk` is the entry point; the CLI (``consentgate requests``),
the HTTP API (``/v1/requests``) and the privacy center all go through it.

The names below resolve on first use, as the root package's do: ``requests/models.py`` holds values
the storage layer returns (``store/requests.py`` imports them), and importing it must not run the
desk, which imports that store — an import cycle that made ``import consentgate.store.requests``
fail on its own.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from consentgate.requests.dates import add_months, due_on, extended_due_on
    from consentgate.requests.desk import RequestDesk
    from consentgate.requests.models import DataRequest, RequestKind, Status
    from consentgate.requests.report import access_report, report_html

_HOMES = {
    "DataRequest": "consentgate.requests.models",
    "RequestDesk": "consentgate.requests.desk",
    "RequestKind": "consentgate.requests.models",
    "Status": "consentgate.requests.models",
    "access_report": "consentgate.requests.report",
    "add_months": "consentgate.requests.dates",
    "due_on": "consentgate.requests.dates",
    "extended_due_on": "consentgate.requests.dates",
    "report_html": "consentgate.requests.report",
}

__all__ = [
    "DataRequest",
    "RequestDesk",
    "RequestKind",
    "Status",
    "access_report",
    "add_months",
    "due_on",
    "extended_due_on",
    "report_html",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'consentgate.requests' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value  # once: later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

"""Data-subject requests: access, objection, withdrawal, erasure (with suppression), US-style opt-out.

See docs/requests.md. :class:`RequestDesk` is the entry point; the CLI (``consentgate requests``),
the HTTP API (``/v1/requests``) and the privacy center all go through it.
"""

from consentgate.requests.dates import add_months, due_on, extended_due_on
from consentgate.requests.desk import RequestDesk
from consentgate.requests.models import DataRequest, RequestKind, Status
from consentgate.requests.report import access_report, report_html

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

"""The lawful bases, the default-region key and the rule for links: what the policy models, their
TCF settings and their cross-reference check (``references.py``) share, kept below them all so none
imports another."""

from __future__ import annotations

import re
from enum import StrEnum

# The region key of a purpose's `basis` that applies where no listed region does.
DEFAULT_REGION = "*"


class Basis(StrEnum):
    """Lawful bases a purpose can rest on in a region (GDPR Art. 6, US opt-out laws)."""

    CONSENT = "consent"
    LEGITIMATE_INTEREST = "legitimate_interest"
    OPT_OUT = "opt_out"
    CONTRACT = "contract"
    NOT_ALLOWED = "not_allowed"


def web_address(url: str | None, example: str) -> str | None:
    """A link the policy gives people to click: only an http(s) address, never javascript: or data:."""
    if url is not None and not re.match(r"^https?://[^\s]+$", url):
        raise ValueError(f"{url!r} is not an http(s) address such as {example}")
    return url

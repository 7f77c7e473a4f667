"""The lawful bases and the default-region key: words both the policy models and their
cross-reference check (``references.py``) use, kept below both so neither imports the other."""

from __future__ import annotations

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

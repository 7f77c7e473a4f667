"""Policy as code: purposes, regions, lawful bases, versioned notices, vendors and sources.

The loader (YAML parsing, error wording) is imported on first use of ``load_policy`` or
``parse_policy_text``: the decision function needs only the models.
"""

from typing import TYPE_CHECKING, Any

from consentgate.policy.models import (
    DEFAULT_REGION,
    Basis,
    Notice,
    NoticeVersion,
    Policy,
    Purpose,
    PurposeKind,
    Region,
    Source,
    Vendor,
    to_micros,
)

if TYPE_CHECKING:
    from consentgate.policy.load import load_policy, parse_policy_text

__all__ = [
    "DEFAULT_REGION",
    "Basis",
    "Notice",
    "NoticeVersion",
    "Policy",
    "Purpose",
    "PurposeKind",
    "Region",
    "Source",
    "Vendor",
    "load_policy",
    "parse_policy_text",
    "to_micros",
]


def __getattr__(name: str) -> Any:
    if name in ("load_policy", "parse_policy_text"):
        from consentgate.policy import load

        return getattr(load, name)
    raise AttributeError(f"module 'consentgate.policy' has no attribute {name!r}")

"""Policy as code: purposes, regions, lawful bases, versioned notices, vendors and sources."""

from consentgate.policy.load import load_policy, parse_policy_text
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

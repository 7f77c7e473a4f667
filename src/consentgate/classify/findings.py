"""What a detector reports: a typed span of text with a score and the rule that fired.

Offsets are Python string indices, i.e. Unicode code points, with ``end`` exclusive — the contract of
``consentgate scan-text`` that docs/classify.md documents.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class EntityType(StrEnum):
    """Identifier and personal-data types the classifier knows."""

    EMAIL = "EMAIL"
    PHONE = "PHONE"
    IP_ADDRESS = "IP_ADDRESS"
    CREDIT_CARD = "CREDIT_CARD"
    IBAN = "IBAN"
    COOKIE_ID = "COOKIE_ID"
    DEVICE_ID = "DEVICE_ID"
    HASHED_EMAIL = "HASHED_EMAIL"
    USER_ID = "USER_ID"
    PERSON = "PERSON"
    STREET_ADDRESS = "STREET_ADDRESS"
    DATE_OF_BIRTH = "DATE_OF_BIRTH"


class Level(StrEnum):
    """How personal a column is, from least to most (ordered: compare with :data:`LEVEL_ORDER`)."""

    NON_PERSONAL = "non_personal"
    PSEUDONYMOUS = "pseudonymous"  # indirect identifiers: linkable to a person with other data
    PERSONAL = "personal"  # identifies a person directly
    SENSITIVE = "sensitive"  # special categories of GDPR Art. 9


LEVEL_ORDER = {level: rank for rank, level in enumerate(Level)}

# Direct identifiers make a column personal; online and internal identifiers make it pseudonymous
# (GDPR Recital 26 and 30: identifiable with additional information, still personal data).
DIRECT = frozenset(
    {
        EntityType.EMAIL,
        EntityType.PHONE,
        EntityType.PERSON,
        EntityType.STREET_ADDRESS,
        EntityType.DATE_OF_BIRTH,
        EntityType.CREDIT_CARD,
        EntityType.IBAN,
    }
)
INDIRECT = frozenset(set(EntityType) - DIRECT)


def level_of(entity: EntityType) -> Level:
    return Level.PERSONAL if entity in DIRECT else Level.PSEUDONYMOUS


@dataclass(frozen=True, slots=True)
class Finding:
    """One detected identifier: ``text[start:end]`` is of ``type``; ``rule`` names the rule that fired."""

    start: int
    end: int
    type: EntityType
    score: float
    rule: str

    def overlaps(self, other: Finding) -> bool:
        return self.start < other.end and other.start < self.end

    def as_json(self) -> dict[str, object]:
        return {
            "start": self.start,
            "end": self.end,
            "type": self.type.value,
            "score": round(self.score, 3),
            "rule": self.rule,
        }

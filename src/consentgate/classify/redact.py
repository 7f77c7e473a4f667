"""Replace identifiers with typed placeholders or with keyed, consistent pseudonyms.

``placeholder`` turns ``anna@example.com`` into ``[EMAIL]``. ``pseudonym`` turns it into
``EMAIL_3f9a2c1b7d04``: the first 12 hex digits of HMAC-SHA256(key, type + normalised value), so the
same person gets the same token in every record and every table (joins and counts still work), while
nobody without the key can recompute or reverse it (unlike a plain hash of an e-mail, which a
dictionary reverses). Normalisation makes ``Anna@Example.com`` and ``anna@example.com``, or
``DE89 3704…`` and ``DE893704…``, the same person.

Text is redacted span by span; whole-value columns (an ``email`` column) value by value. The
functions here work on Python strings and Arrow arrays; :mod:`consentgate.classify.redact_engines`
wraps them for Polars, pandas, DuckDB and Spark.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from consentgate.classify.findings import EntityType, Finding
from consentgate.classify.scanner import Scanner
from consentgate.errors import BadInput

KEY_ENV = "CONSENTGATE_PSEUDONYM_KEY"
MIN_KEY_BYTES = 16
TOKEN_HEX = 12


class Mode(StrEnum):
    PLACEHOLDER = "placeholder"
    PSEUDONYM = "pseudonym"


def normalise(entity: EntityType, value: str) -> str:
    """One spelling per identifier, so pseudonyms are consistent across formats."""
    v = value.strip()
    if entity in (EntityType.EMAIL, EntityType.HASHED_EMAIL, EntityType.COOKIE_ID, EntityType.DEVICE_ID):
        return v.lower()
    if entity in (EntityType.PHONE, EntityType.CREDIT_CARD):
        digits = re.sub(r"\D", "", v)
        return ("+" + digits) if v.startswith("+") else digits
    if entity is EntityType.IBAN:
        return re.sub(r"[\s-]", "", v).upper()
    return re.sub(r"\s+", " ", v).casefold()


@dataclass(frozen=True)
class Redactor:
    """How to replace: ``mode`` and, for pseudonyms, the secret ``key`` (bytes, ≥ 16)."""

    mode: Mode = Mode.PLACEHOLDER
    key: bytes | None = None

    def __post_init__(self) -> None:
        if self.mode is Mode.PSEUDONYM and (self.key is None or len(self.key) < MIN_KEY_BYTES):
            raise BadInput(
                f"pseudonyms need a secret key of at least {MIN_KEY_BYTES} bytes "
                f"(set {KEY_ENV} or pass --key-env NAME)"
            )

    def token(self, entity: EntityType, value: str) -> str:
        if self.mode is Mode.PLACEHOLDER:
            return f"[{entity.value}]"
        assert self.key is not None  # checked in __post_init__
        msg = f"{entity.value}\x00{normalise(entity, value)}".encode()
        digest = hmac.new(self.key, msg, hashlib.sha256).hexdigest()[:TOKEN_HEX]
        return f"{entity.value}_{digest}"

    def text(self, text: str, findings: Sequence[Finding]) -> str:
        """``text`` with every finding replaced; findings must not overlap (the scanner's don't)."""
        out: list[str] = []
        pos = 0
        for f in sorted(findings, key=lambda f: f.start):
            if f.start < pos:
                continue
            out.append(text[pos : f.start])
            out.append(self.token(f.type, text[f.start : f.end]))
            pos = f.end
        out.append(text[pos:])
        return "".join(out)

    def value(self, value: str | None, entity: EntityType | None, scanner: Scanner) -> str | None:
        """One cell: a whole identifier (``entity`` given) or free text scanned for identifiers."""
        if value is None or value == "":
            return value
        if entity is not None:
            return self.token(entity, value)
        return self.text(value, scanner.scan(value))

    def values(
        self, values: Iterable[str | None], entity: EntityType | None, scanner: Scanner | None = None
    ) -> list[str | None]:
        scanner = scanner or Scanner()
        return [self.value(v, entity, scanner) for v in values]


def key_from_env(name: str = KEY_ENV) -> bytes:
    raw = os.environ.get(name)
    if not raw:
        raise BadInput(f"pseudonyms need a secret key: set the environment variable {name}")
    return raw.encode()

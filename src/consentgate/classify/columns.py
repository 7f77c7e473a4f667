"""Classify table columns: which identifier types their values hold, in what share of rows, and how
personal that makes the column.

Values are judged one by one. Self-validating identifiers (e-mail, IBAN, card, IP, phone, GA cookie)
are recognised from the value alone; types that only context tells apart (a UUID as a visitor's cookie,
a number as a customer id, a date as a birth date, a word as a first name) need the column's name to
say so (``visitor_id``, ``customer_no``, ``dob``, ``first_name``). Long text values are scanned as free
text. A type counts towards the column's level when enough sampled rows hold it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from consentgate.classify.dates import DATE
from consentgate.classify.findings import LEVEL_ORDER, EntityType, Level, level_of
from consentgate.classify.scanner import Scanner
from consentgate.classify.sensitive import column_category, text_categories
from consentgate.classify.structured import EMAIL, REGIONS_BY_LANG
from consentgate.classify.validate import card_ok, iban_ok, ipv4_ok, ipv6_ok

E = EntityType

# Column-name words → the type the column's values are. Matched against the snake_cased name's words.
NAME_HINTS: list[tuple[re.Pattern[str], EntityType]] = [
    (re.compile(p), t)
    for p, t in [
        (
            r"(^|_)(email|e_?mail|mail)_?(hash|sha\d*|md5|hashed)|(hash|hashed|sha\d*|md5)_?(email|mail)",
            E.HASHED_EMAIL,
        ),
        (r"(^|_)(email|e_?mail|mail|courriel|correo)(_|$)", E.EMAIL),
        (r"(^|_)(phone|tel|telephone|mobile|cell|msisdn|handy|telefon|telefono|movil|portable|fax)(_|$)",
         E.PHONE),
        (r"(^|_)(ip|ip_?addr(ess)?|client_ip|remote_addr|src_ip|ipv4|ipv6)(_|$)", E.IP_ADDRESS),
        (r"(^|_)(card_?(number|no|num)|cc_?(number|num)|pan|credit_?card)(_|$)", E.CREDIT_CARD),
        (r"(^|_)(iban|bank_?account)(_|$)", E.IBAN),
        (r"(^|_)(idfa|idfv|gaid|aaid|adid|advertising_?id|ad_?id|android_?id|device_?id|maid|imei)(_|$)",
         E.DEVICE_ID),
        (r"(^|_)(cookie|cookie_?id|visitor_?id|anonymous_?id|anon_?id|ga_?client_?id|client_?id|_?ga|fbp|"
         r"distinct_?id|browser_?id)(_|$)", E.COOKIE_ID),
        (r"(^|_)(user_?id|userid|uid|customer_?(id|no|number|nr)|account_?(id|no|number)|member_?(id|no|number)|"
         r"subject(_id)?|order_?(id|no|number)|kunden_?(nr|nummer|id)|client_?(no|number)|player_?id|"
         r"profile_?id|login|username|user_?name)(_|$)", E.USER_ID),
        (r"(^|_)(dob|birth_?date|date_?of_?birth|birthday|birthdate|geburtsdatum|geburtstag|"
         r"fecha_?(de_?)?nacimiento|date_?(de_?)?naissance)(_|$)", E.DATE_OF_BIRTH),
        (r"(^|_)(name|first_?name|last_?name|full_?name|surname|given_?name|family_?name|forename|"
         r"vorname|nachname|nom|prenom|nombre|apellidos?|contact_?name|customer_?name|holder)(_|$)",
         E.PERSON),
        (r"(^|_)(address|street|addr|address_?line\d?|adresse|anschrift|strasse|calle|direccion|domicilio|"
         r"street_?address|home_?address|shipping_?address|billing_?address)(_|$)", E.STREET_ADDRESS),
    ]
]  # fmt: skip
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
HEX = re.compile(r"^(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$")
GA = re.compile(r"^(?:GA\d\.\d\.)?\d{6,12}\.\d{9,10}$|^fb\.\d\.\d{13}\.\d+$")
NAME_VALUE = re.compile(r"^[A-ZÀ-ÖØ-Þ][^\W\d_]*(?:['’\-. ]+[^\W\d_]+){0,4}\.?$")
TEXT_MIN_LENGTH = 24  # longer string values are scanned as free text

MIN_SHARE = 0.02  # a type counts towards the level from this share of non-empty rows …
MIN_COUNT = 2  # … and at least this many rows (one stray match is not a column of identifiers)


def name_hint(column: str) -> EntityType | None:
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", column).lower()
    snake = re.sub(r"[^a-z0-9]+", "_", snake).strip("_")
    for pattern, entity in NAME_HINTS:
        if pattern.search(snake):
            return entity
    return None


@dataclass
class ColumnReport:
    name: str
    dtype: str
    non_empty: int
    counts: dict[EntityType, int] = field(default_factory=dict)
    hint: EntityType | None = None
    art9: set[str] = field(default_factory=set)

    def share(self, entity: EntityType) -> float:
        return self.counts.get(entity, 0) / self.non_empty if self.non_empty else 0.0

    def counted(self) -> list[EntityType]:
        """Types present often enough to set the level, most frequent first."""
        need = min(MIN_COUNT, max(1, self.non_empty))
        kept = [t for t, n in self.counts.items() if n >= need and n / max(1, self.non_empty) >= MIN_SHARE]
        return sorted(kept, key=lambda t: -self.counts[t])

    @property
    def level(self) -> Level:
        if self.art9:
            return Level.SENSITIVE
        level = Level.NON_PERSONAL
        for entity in self.counted():
            candidate = level_of(entity)
            if LEVEL_ORDER[candidate] > LEVEL_ORDER[level]:
                level = candidate
        return level

    def as_json(self) -> dict[str, Any]:
        counted = set(self.counted())
        return {
            "types": {
                t.value: round(self.share(t), 4) for t in sorted(counted, key=lambda t: -self.counts[t])
            },
            "level": self.level.value,
            "dtype": self.dtype,
            "non_empty": self.non_empty,
            "name_hint": self.hint.value if self.hint else None,
            "special_categories": sorted(self.art9),
            "also_seen": {t.value: round(self.share(t), 4) for t in self.counts if t not in counted},
        }


def classify_column(
    name: str, values: Sequence[Any], dtype: str = "", scanner: Scanner | None = None
) -> ColumnReport:
    scanner = scanner or Scanner()
    hint = name_hint(name)
    report = ColumnReport(name=name, dtype=dtype, non_empty=0, hint=hint)
    category = column_category(name)
    counts: Counter[EntityType] = Counter()
    text_art9: Counter[str] = Counter()
    for raw in values:
        if raw is None:
            continue
        value = _as_text(raw)
        if value is None or not value.strip():
            continue
        report.non_empty += 1
        found = value_types(value, hint, raw)
        if not found and len(value) >= TEXT_MIN_LENGTH and " " in value.strip():
            found = {f.type for f in scanner.scan(value)}
            for cat in text_categories(value):
                text_art9[cat] += 1
        counts.update(found)
    report.counts = dict(counts)
    if category is not None and report.non_empty:
        report.art9.add(category)
    for cat, n in text_art9.items():
        if n >= MIN_COUNT and n / max(1, report.non_empty) >= MIN_SHARE:
            report.art9.add(cat)
    return report


def value_types(value: str, hint: EntityType | None, raw: Any = None) -> set[EntityType]:
    """The identifier types one whole cell value is (empty when it is none, or free text)."""
    v = value.strip()
    out: set[EntityType] = set()
    if isinstance(raw, (dt.date, dt.datetime)):
        return {E.DATE_OF_BIRTH} if hint is E.DATE_OF_BIRTH else out
    compact = v.replace(" ", "").replace("-", "")
    if "@" in v and EMAIL.fullmatch(v):
        out.add(E.EMAIL)
    elif ipv4_ok(v) or (":" in v and ipv6_ok(v)):
        out.add(E.IP_ADDRESS)
    elif compact.isdigit() and 13 <= len(compact) <= 19 and card_ok(compact):
        out.add(E.CREDIT_CARD)
    elif compact[:2].isalpha() and compact[2:4].isdigit() and iban_ok(compact.upper()):
        out.add(E.IBAN)
    elif GA.match(v) and (hint is E.COOKIE_ID or v.startswith(("GA", "fb."))):
        out.add(E.COOKIE_ID)
    elif HEX.match(v):
        if hint in (E.HASHED_EMAIL, E.USER_ID, E.COOKIE_ID, E.DEVICE_ID):
            out.add(hint)
    elif UUID.match(v):
        if hint in (E.COOKIE_ID, E.DEVICE_ID, E.USER_ID):
            out.add(hint)
    elif DATE.fullmatch(v):
        return {E.DATE_OF_BIRTH} if hint is E.DATE_OF_BIRTH else out
    elif (hint is E.PHONE or _phone_like(v)) and _phone_ok(v):
        out.add(E.PHONE)
    if out:
        return out
    if hint is E.USER_ID and len(v) <= 64 and "\n" not in v:
        out.add(E.USER_ID)
    elif hint in (E.COOKIE_ID, E.DEVICE_ID) and 8 <= len(v) <= 128 and " " not in v:
        out.add(hint)
    elif hint is E.DATE_OF_BIRTH and DATE.fullmatch(v):
        out.add(E.DATE_OF_BIRTH)
    elif hint is E.PERSON and NAME_VALUE.match(v) and len(v) <= 80:
        out.add(E.PERSON)
    elif hint is E.STREET_ADDRESS and any(c.isdigit() for c in v) and any(c.isalpha() for c in v):
        out.add(E.STREET_ADDRESS)
    return out


_PHONE_CHARS = re.compile(r"^\+?[\d ()./-]{7,22}$")


def _phone_like(v: str) -> bool:
    return bool(_PHONE_CHARS.match(v)) and (v.startswith(("+", "00", "0", "(")) or " " in v or "-" in v)


def _phone_ok(v: str) -> bool:
    import phonenumbers

    digits = sum(c.isdigit() for c in v)
    if not 7 <= digits <= 15:
        return False
    regions: Iterable[str | None] = (None,) if v.startswith(("+", "00")) else REGIONS_BY_LANG[None]
    candidate = "+" + v[2:] if v.startswith("00") else v
    for region in regions:
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(candidate, region)):
                return True
        except phonenumbers.NumberParseException:
            continue
    return False


def _as_text(raw: Any) -> str | None:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        return str(raw) if not isinstance(raw, float) or raw.is_integer() else None
    if isinstance(raw, (dt.date, dt.datetime)):
        return raw.isoformat()
    if isinstance(raw, bytes):
        return None
    if isinstance(raw, (dict, list)):
        return json.dumps(raw, ensure_ascii=False, default=str)
    return str(raw)


ProgressFn = Callable[[str], None]

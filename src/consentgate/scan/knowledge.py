"""The cookie knowledge base: what a cookie, storage key or third-party host is for.

Sources, first match wins:

1. the policy (``web.cookies`` and ``web.trackers``): the organisation's own word;
2. the Open Cookie Database (CSV, Apache-2.0; bundled under ``scan/data``, refreshed by
   ``consentgate cookies update``): exact names first, then wildcard rows as prefixes, longest first;
   rows whose domain matches the cookie's are preferred over rows for other domains;
3. consentgate's own short list of tracker hosts (``scan/data/trackers.csv``) plus the hosts the
   Open Cookie Database names;
4. nothing: the item is ``unknown``. It is never guessed silently; inferences made elsewhere (a host
   categorised by the cookies it sets) say so in ``category_source``.

Categories follow the Open Cookie Database's five, mapped to purpose kinds (docs/standards.md):
"Functional" → ``functional`` (kept apart from strictly necessary: the database files
session-replay and preference cookies under it, and those need consent), the stray "Necessary" →
``necessary``, Security → ``security``, Analytics →
``analytics``, Marketing → ``marketing``, Personalization → ``personalisation``.
"""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import io
import os
import re
from dataclasses import dataclass, field, replace
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from consentgate.errors import BadInput

if TYPE_CHECKING:
    from consentgate.policy import Policy

OCD_FILE = "open-cookie-database.csv"
OCD_COMMIT = "0ee5a17fe1cb002943f89370d24fc26a4226061c"  # the bundled copy (data/NOTICE)
OCD_COLUMNS = (
    "ID",
    "Platform",
    "Category",
    "Cookie / Data Key name",
    "Domain",
    "Description",
    "Retention period",
    "Data Controller",
    "User Privacy & GDPR Rights Portals",
    "Wildcard match",
)


class Category(StrEnum):
    """What a cookie, storage key or host is for; the first five are purpose kinds of the policy."""

    NECESSARY = "necessary"
    SECURITY = "security"
    FUNCTIONAL = "functional"
    ANALYTICS = "analytics"
    MARKETING = "marketing"
    PERSONALISATION = "personalisation"
    UNKNOWN = "unknown"


# Strictly necessary or security: allowed without consent (ePrivacy Art. 5(3) exemption).
EXEMPT = frozenset({Category.NECESSARY, Category.SECURITY})
# The order used for declarations and reports.
ORDER = (
    Category.NECESSARY,
    Category.SECURITY,
    Category.FUNCTIONAL,
    Category.PERSONALISATION,
    Category.ANALYTICS,
    Category.MARKETING,
    Category.UNKNOWN,
)
# When several known categories apply (a host setting analytics and marketing cookies), the one that
# needs consent most strongly wins.
SEVERITY = {
    Category.MARKETING: 5,
    Category.ANALYTICS: 4,
    Category.PERSONALISATION: 3,
    Category.FUNCTIONAL: 2,
    Category.SECURITY: 1,
    Category.NECESSARY: 0,
}

OCD_CATEGORIES = {
    "functional": Category.FUNCTIONAL,
    "necessary": Category.NECESSARY,  # 9 rows use it outside the validator's list
    "security": Category.SECURITY,
    "analytics": Category.ANALYTICS,
    "marketing": Category.MARKETING,
    "personalization": Category.PERSONALISATION,
    "personalisation": Category.PERSONALISATION,
}

_THIRD_PARTY = re.compile(r"\s*\(3rd party\)\s*", re.IGNORECASE)
_RETENTION = re.compile(r"^\s*(\d+)\s*(second|sec|minute|min|hour|hr|day|week|month|year)s?\b", re.IGNORECASE)
_UNIT = {
    "second": "TS",
    "sec": "TS",
    "minute": "TM",
    "min": "TM",
    "hour": "TH",
    "hr": "TH",
    "day": "D",
    "week": "W",
    "month": "M",
    "year": "Y",
}


def parse_retention(text: str) -> str | None:
    """Free-text retention as an ISO 8601 duration (``P2Y``, ``PT30M``) or ``session``; None if unclear."""
    low = text.strip().lower()
    if not low:
        return None
    if "session" in low:
        return "session"
    m = _RETENTION.match(low)
    if m is None:
        return None
    unit = _UNIT[m.group(2).lower()]
    return f"PT{m.group(1)}{unit[1]}" if unit.startswith("T") else f"P{m.group(1)}{unit}"


def _domains(raw: str) -> tuple[tuple[str, ...], bool]:
    """The Domain column as bare domains, and whether it was marked "(3rd party)"."""
    third = bool(_THIRD_PARTY.search(raw))
    text = _THIRD_PARTY.sub(" ", raw)
    parts = re.split(r"\s+or\s+|[,;\s]+", text)
    out = []
    for part in parts:
        d = part.strip().strip(".").lower()
        if d.startswith("*."):
            d = d[2:]
        if d and "." in d and " " not in d:
            out.append(d)
    return tuple(dict.fromkeys(out)), third


def domain_matches(host: str, domain: str) -> bool:
    """``host`` is ``domain`` or one of its subdomains."""
    host = host.lower().lstrip(".")
    domain = domain.lower().lstrip(".")
    return host == domain or host.endswith("." + domain)


@dataclass(frozen=True)
class Entry:
    """One row of the Open Cookie Database, normalised."""

    id: str
    platform: str
    category: Category
    raw_category: str
    name: str
    domains: tuple[str, ...]
    third_party: bool
    description: str
    retention_raw: str
    retention: str | None
    controller: str
    privacy_url: str
    wildcard: bool

    def matches_domain(self, host: str | None) -> bool:
        return host is not None and any(domain_matches(host, d) for d in self.domains)


@dataclass(frozen=True)
class Match:
    """The answer for one item: its category and where that came from."""

    category: Category
    source: str  # policy, open-cookie-database, trackers, consentgate, none (inferences add more)
    platform: str | None = None
    description: str | None = None
    retention: str | None = None
    rule: str | None = None  # the name, pattern or host that matched

    @property
    def known(self) -> bool:
        return self.category is not Category.UNKNOWN


UNKNOWN = Match(Category.UNKNOWN, "none")


@dataclass(frozen=True)
class CookieRule:
    """A policy ``web.cookies`` entry: an exact name or a glob pattern (``_pk_id.*``)."""

    category: Category
    name: str | None = None
    pattern: str | None = None
    description: str | None = None

    def matches(self, name: str) -> bool:
        if self.name is not None:
            return name == self.name
        return self.pattern is not None and fnmatch.fnmatchcase(name, self.pattern)


@dataclass(frozen=True)
class HostRule:
    host: str
    category: Category
    vendor: str | None
    source: str


@dataclass(frozen=True)
class Provenance:
    """Which database a scan used, so two scans can be compared knowing what changed under them."""

    source: str  # "bundled" or a file path
    entries: int
    sha256: str
    commit: str | None = None

    def as_json(self) -> dict[str, object]:
        return {"source": self.source, "entries": self.entries, "sha256": self.sha256, "commit": self.commit}


# consentgate's own banner (web/banner.js) keeps the visitor's choice (cg_consent) and the anonymous
# id it was recorded under (cg_vid): storage needed to honour and prove consent is strictly necessary.
def _own(name: str, wildcard: bool, description: str) -> Entry:
    return Entry(
        id=f"consentgate:{name}",
        platform="consentgate",
        category=Category.NECESSARY,
        raw_category="Functional",
        name=name,
        domains=(),
        third_party=False,
        description=description,
        retention_raw="",
        retention=None,
        controller="the site operator",
        privacy_url="",
        wildcard=wildcard,
    )


OWN = (
    _own("cg_consent", False, "Stores the visitor's consent choices."),
    _own("cg_vid", False, "The anonymous visitor id the consent choices were recorded under."),
    _own("consentgate", True, "Stores the visitor's consent choices."),
)


@dataclass
class KnowledgeBase:
    entries: list[Entry]
    trackers: list[HostRule] = field(default_factory=list)
    cookie_rules: list[CookieRule] = field(default_factory=list)
    host_rules: list[HostRule] = field(default_factory=list)
    provenance: Provenance = field(default_factory=lambda: Provenance("none", 0, ""))
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._exact: dict[str, list[Entry]] = {}
        self._prefixes: list[Entry] = []
        for e in [*self.entries, *OWN]:
            if e.wildcard:
                self._prefixes.append(e)
            else:
                self._exact.setdefault(e.name, []).append(e)
        self._prefixes.sort(key=lambda e: -len(e.name))  # longest prefix first
        ocd_hosts: dict[str, Category] = {}
        for e in self.entries:
            if e.third_party and e.category is not Category.UNKNOWN:
                for d in e.domains:
                    prev = ocd_hosts.get(d)
                    if prev is None or SEVERITY.get(e.category, 0) > SEVERITY.get(prev, 0):
                        ocd_hosts[d] = e.category
        self._ocd_hosts = [HostRule(d, c, None, "open-cookie-database") for d, c in sorted(ocd_hosts.items())]

    # -- loading -----------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path | None = None) -> KnowledgeBase:
        """The database at ``path``; else the copy ``cookies update`` wrote; else the bundled copy."""
        if path is None:
            updated = user_database_path()
            if updated.is_file():
                path = updated
        if path is None:
            data = (resources.files("consentgate.scan") / "data" / OCD_FILE).read_bytes()
            source, commit = "bundled", OCD_COMMIT
        else:
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                raise BadInput(f"cookie database {path}: no such file") from None
            source, commit = str(path), None
        kb = cls.from_csv_text(data.decode("utf-8-sig"), source=source)
        kb.provenance = replace(kb.provenance, commit=commit)
        kb.trackers = load_trackers()
        return kb

    @classmethod
    def from_csv_text(cls, text: str, *, source: str = "text") -> KnowledgeBase:
        entries, warnings = parse_ocd(text)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        return cls(entries, provenance=Provenance(source, len(entries), digest), warnings=warnings)

    def with_policy(self, policy: Policy | None) -> KnowledgeBase:
        """This base plus the policy's ``web.cookies`` and ``web.trackers`` overrides."""
        if policy is None:
            return self
        cookie_rules = [
            CookieRule(Category(c.category.value), name=c.name, pattern=c.pattern, description=c.description)
            for c in policy.web.cookies
        ]
        host_rules = [
            HostRule(t.host.lower().lstrip("."), Category(t.category.value), t.vendor, "policy")
            for t in policy.web.trackers
        ]
        return replace(self, cookie_rules=cookie_rules, host_rules=host_rules)

    # -- lookups -----------------------------------------------------------------------------------

    def cookie(self, name: str, domain: str | None = None) -> Match:
        """Category of a cookie (or a storage key: the database covers both) named ``name``."""
        for rule in self.cookie_rules:
            if rule.matches(name):
                return Match(rule.category, "policy", None, rule.description, None, rule.name or rule.pattern)
        entry = self._lookup(name, domain)
        if entry is None:
            return UNKNOWN
        source = "consentgate" if entry in OWN else "open-cookie-database"
        return Match(entry.category, source, entry.platform, entry.description, entry.retention, entry.name)

    def _lookup(self, name: str, domain: str | None) -> Entry | None:
        exact = self._exact.get(name)
        if exact:
            return _prefer_domain(exact, domain)
        candidates = [e for e in self._prefixes if name.startswith(e.name)]
        if not candidates:
            return None
        longest = len(candidates[0].name)
        return _prefer_domain([e for e in candidates if len(e.name) == longest], domain)

    def host(self, host: str) -> Match:
        """Category of a third-party host from the policy, the tracker list or the database's domains."""
        for rules in (self.host_rules, self.trackers, self._ocd_hosts):
            best: HostRule | None = None
            for rule in rules:
                if domain_matches(host, rule.host) and (best is None or len(rule.host) > len(best.host)):
                    best = rule
            if best is not None:
                return Match(best.category, best.source, best.vendor, None, None, best.host)
        return UNKNOWN


def _prefer_domain(entries: list[Entry], domain: str | None) -> Entry:
    """Rows for the cookie's own domain first, then rows that name no domain, then the rest."""
    for e in entries:
        if e.matches_domain(domain):
            return e
    for e in entries:
        if not e.domains:
            return e
    return entries[0]


def parse_ocd(text: str) -> tuple[list[Entry], list[str]]:
    """Rows of an Open Cookie Database CSV, keyed by column name; problems become warnings."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in OCD_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise BadInput(
            "not an Open Cookie Database CSV: missing column(s) " + ", ".join(repr(c) for c in missing)
        )
    entries: list[Entry] = []
    warnings: list[str] = []
    for line, row in enumerate(reader, start=2):
        name = (row["Cookie / Data Key name"] or "").strip()
        if not name:
            warnings.append(f"line {line}: no cookie name")
            continue
        raw_cat = (row["Category"] or "").strip()
        category = OCD_CATEGORIES.get(raw_cat.lower())
        if category is None:
            warnings.append(f"line {line}: unknown category {raw_cat!r} for {name!r}")
            category = Category.UNKNOWN
        domains, third = _domains(row["Domain"] or "")
        retention_raw = (row["Retention period"] or "").strip()
        entries.append(
            Entry(
                id=(row["ID"] or "").strip(),
                platform=(row["Platform"] or "").strip(),
                category=category,
                raw_category=raw_cat,
                name=name,
                domains=domains,
                third_party=third,
                description=(row["Description"] or "").strip(),
                retention_raw=retention_raw,
                retention=parse_retention(retention_raw),
                controller=(row["Data Controller"] or "").strip(),
                privacy_url=(row["User Privacy & GDPR Rights Portals"] or "").strip(),
                wildcard=(row["Wildcard match"] or "0").strip() == "1",
            )
        )
    return entries, warnings


def load_trackers() -> list[HostRule]:
    text = (resources.files("consentgate.scan") / "data" / "trackers.csv").read_text(encoding="utf-8")
    return [
        HostRule(r["host"].strip().lower(), Category(r["category"].strip()), r["vendor"].strip(), "trackers")
        for r in csv.DictReader(io.StringIO(text))
    ]


def user_database_path() -> Path:
    """Where ``consentgate cookies update`` keeps the downloaded database ($XDG_DATA_HOME/consentgate)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "consentgate" / OCD_FILE

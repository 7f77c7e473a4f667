"""The policy file's shape: what is allowed, for which purpose, where, and under which wording.

Every key docs/policy.md documents is a contract. Models are frozen so a loaded policy can be shared between
threads and handed to the pure decision function without defensive copies.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from consentgate.errors import BadInput, QueryError
from consentgate.policy.share import ShareSettings
from consentgate.policy.tcf import TcfSettings
from consentgate.policy.terms import DEFAULT_REGION as DEFAULT_REGION
from consentgate.policy.terms import Basis as Basis
from consentgate.policy.terms import web_address

ISO_REGION = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")
IDENT = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$"


class PurposeKind(StrEnum):
    AI_TRAINING = "ai_training"
    FINE_TUNING = "fine_tuning"
    ANALYTICS = "analytics"
    PERSONALISATION = "personalisation"
    MARKETING = "marketing"
    SECURITY = "security"
    NECESSARY = "necessary"


AI_KINDS = frozenset({PurposeKind.AI_TRAINING, PurposeKind.FINE_TUNING})


def region_code(value: object) -> str | None:
    """The canonical (upper-case) form of an ISO 3166 code such as ``de`` or ``US-CA``, or None.

    The one region rule: events, queries, the banner and the policy's own ``countries`` all use it.
    ASCII only, because ``str.upper()`` maps some other letters to ASCII ones: a dotless i (U+0131) becomes
    ``I``, so a dotless "it" would otherwise pass as Italy.
    """
    if not isinstance(value, str) or not value.isascii():
        return None
    code = value.strip().upper()
    return code if ISO_REGION.match(code) else None


def region_problem(value: object) -> str:
    """What is wrong with a value :func:`region_code` refused, in the words every caller shows."""
    return f"{value!r} is not an ISO 3166 code such as DE or US-CA"


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("needs a time zone, e.g. 2026-01-01T00:00:00Z")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]


class _Model(BaseModel):
    # Closed: a misspelt key (honor_gpc, max_age_dayz) must be an error, never a silently ignored
    # setting that leaves GPC off or consent without expiry.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Organization(_Model):
    name: str = Field(description="Legal name of the controller.")
    contact: str | None = Field(default=None, description="Where people send privacy questions.")


class TrackingCategory(StrEnum):
    """What a cookie, storage key or third-party host is for (the website scanner's categories)."""

    NECESSARY = "necessary"
    SECURITY = "security"
    FUNCTIONAL = "functional"  # needs consent unless first-party and set by the site itself
    ANALYTICS = "analytics"
    MARKETING = "marketing"
    PERSONALISATION = "personalisation"


class CookieCategoryRule(_Model):
    name: str | None = Field(default=None, description="Exact cookie or storage key name, e.g. session_id.")
    pattern: str | None = Field(
        default=None, description="Glob pattern over names instead of an exact name, e.g. _pk_id.*"
    )
    category: TrackingCategory = Field(description="What the cookie is for; overrides the cookie database.")
    description: str | None = Field(default=None, description="What it does, for the cookie declaration.")

    @model_validator(mode="after")
    def _one_of_name_or_pattern(self) -> CookieCategoryRule:
        if (self.name is None) == (self.pattern is None):
            raise ValueError("give exactly one of 'name' or 'pattern'")
        return self


class TrackerHostRule(_Model):
    host: str = Field(min_length=1, description="A host; its subdomains match too, e.g. stats.example.net.")
    category: TrackingCategory = Field(description="What requests to the host are for.")
    vendor: str | None = Field(default=None, description="Who runs it, shown in reports.")


ConsentModeType = Literal[
    "ad_storage",
    "ad_user_data",
    "ad_personalization",
    "analytics_storage",
    "functionality_storage",
    "personalization_storage",
    "security_storage",
]
"""Google Consent Mode v2 consent types (docs/standards.md)."""


def _http_address(url: str) -> str:
    if not re.match(r"^https?://[^\s/]+[^\s]*$", url):
        raise ValueError(f"{url!r} is not an http(s) address such as https://www.example.com/")
    return url


HttpAddress = Annotated[str, AfterValidator(_http_address)]


class ScanWebhook(_Model):
    url: HttpAddress = Field(description="Where new scan findings are POSTed (JSON, signed).")
    secret_env: str = Field(
        default="CONSENTGATE_SCAN_WEBHOOK_SECRET",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Name of the environment variable holding the HMAC-SHA256 signing secret.",
    )


class ScanSchedule(_Model):
    """Scheduled website scans run by the service (docs/scanner.md, "Scheduled scans")."""

    start_urls: list[HttpAddress] = Field(
        min_length=1, description="Where each scan starts; the first one's scan feeds /v1/declaration."
    )
    interval_days: int = Field(default=30, ge=1, description="Days between two scans of a start URL.")
    max_pages: int = Field(default=50, ge=1, description="Most pages one scan crawls.")
    webhook: ScanWebhook | None = Field(
        default=None, description="Optional: POST new violations and uncategorised trackers here."
    )


class AcceptSettings(_Model):
    """The banner between a visitor's choice and the service's acknowledgement of its record."""

    fetch_tags_while_recording: bool = Field(
        default=False,
        description="Banner: on Accept all or Save, download the gated scripts the choice allows while "
        "its record is in flight (<link rel=preload>); they still run only once the record is "
        "acknowledged, but their hosts receive the visitor's request before it is (docs/web.md).",
    )


class Web(_Model):
    origins: list[str] = Field(
        default_factory=list, description="Origins allowed to embed the banner and call the API (CORS)."
    )
    default_locale: str = Field(default="en", description="Locale used when the visitor's is not offered.")
    cookies: list[CookieCategoryRule] = Field(
        default_factory=list,
        description="Website scanner: categories for cookies and storage keys, ahead of the cookie database.",
    )
    trackers: list[TrackerHostRule] = Field(
        default_factory=list,
        description="Website scanner: categories for third-party hosts, ahead of the built-in tracker list.",
    )
    consent_mode: dict[str, list[ConsentModeType]] = Field(
        default_factory=dict,
        description="Banner: purpose id → the Google Consent Mode v2 types granted while the purpose is "
        "allowed; purposes not listed map by kind (marketing → ad_storage, ad_user_data, "
        "ad_personalization; analytics → analytics_storage; personalisation → functionality_storage, "
        "personalization_storage).",
    )
    requests_url: str | None = Field(
        default=None,
        description="Privacy center: the page where people file data-subject requests (linked with "
        "?kind=access|erase|object); without it, the links write to organization.contact.",
    )
    scan: ScanSchedule | None = Field(
        default=None, description="Service: scan these sites on a schedule and keep the declaration current."
    )
    tcf: TcfSettings = Field(default_factory=TcfSettings, description="Banner: IAB TCF v2.3 (docs/tcf.md).")
    share: ShareSettings | None = Field(
        default=None,
        description="Banner: one site group's domains; a choice made on one applies on the others "
        "(share.js, docs/web.md).",
    )
    accept: AcceptSettings = Field(
        default_factory=AcceptSettings,
        description="Banner: what happens while a choice is being recorded (docs/web.md).",
    )

    @field_validator("requests_url")
    @classmethod
    def _web_address(cls, url: str | None) -> str | None:
        return web_address(url, "https://www.example.com/privacy")


class Region(_Model):
    countries: list[str] = Field(
        min_length=1, description="ISO 3166-1 countries (DE) or ISO 3166-2 subdivisions (US-CA)."
    )
    honour_gpc: bool = Field(
        default=False, description="Treat Global Privacy Control as an opt-out here (US opt-out laws)."
    )

    @field_validator("countries")
    @classmethod
    def _iso_codes(cls, codes: list[str]) -> list[str]:
        out = []
        for code in codes:
            up = region_code(code)
            if up is None:
                raise ValueError(region_problem(code))
            out.append(up)
        return out


class Purpose(_Model):
    id: str = Field(pattern=IDENT, description="Stable identifier used in events and gates.")
    title: str = Field(description="Short title people see.")
    kind: PurposeKind = Field(description="What sort of processing; ai_training and fine_tuning feed models.")
    notice: str | None = Field(default=None, description="Id of the notice consent is collected under.")
    max_age_days: int | None = Field(default=None, gt=0, description="Consent older than this expires.")
    basis: dict[str, Basis] = Field(
        min_length=1, description='Region id → lawful basis; "*" is the default for every other region.'
    )
    description: str | None = Field(default=None, description="Longer explanation for the privacy center.")
    systems: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list,
        description="AI purposes: the systems or models this use trains or improves, by the names people "
        "know them by (shown in the AI notice, `consentgate notice render`).",
    )
    toggle: str | None = Field(
        default=None,
        min_length=1,
        description="Where in the product people switch this use on and off, in the policy's default "
        "language, e.g. 'Settings > Privacy > Help improve the chatbot' (shown in the AI notice).",
    )

    @property
    def is_ai(self) -> bool:
        return self.kind in AI_KINDS


class NoticeVersion(_Model):
    version: int | str = Field(description="Version label; order follows effective_from.")
    effective_from: AwareDatetime = Field(description="When this wording starts being shown (with zone).")
    reconsent: bool = Field(default=False, description="Material change: earlier consent no longer counts.")
    text: dict[str, str] = Field(min_length=1, description="Exact wording per locale (BCP 47).")

    @field_validator("text")
    @classmethod
    def _non_empty_text(cls, text: dict[str, str]) -> dict[str, str]:
        for locale, wording in text.items():
            if not wording.strip():
                raise ValueError(f"wording for locale {locale!r} is empty")
        return text

    @property
    def label(self) -> str:
        return str(self.version)


class Notice(_Model):
    id: str = Field(pattern=IDENT, description="Stable identifier events refer to as notice_id.")
    purposes: list[str] = Field(min_length=1, description="Purpose ids this notice asks about.")
    versions: list[NoticeVersion] = Field(min_length=1, description="Every wording ever shown, never edited.")


class Vendor(_Model):
    id: str = Field(pattern=IDENT, description="Stable identifier used by the export guard.")
    name: str | None = Field(default=None, description="Name shown to people.")
    purposes: list[str] = Field(default_factory=list, description="Purposes the vendor may receive data for.")
    self_training: bool = Field(default=False, description="The vendor trains its own models on the data.")
    self_training_approved: bool = Field(
        default=False, description="The organisation recorded its decision to allow a self-training vendor."
    )


class StoreType(StrEnum):
    PARQUET = "parquet"
    DUCKDB = "duckdb"
    SQL = "sql"


class OnErase(StrEnum):
    DELETE = "delete"
    ANONYMISE = "anonymise"


SQL_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$"


class SourceStore(_Model):
    """Where a source's records live, so an erasure can reach them (docs/requests.md)."""

    type: StoreType = Field(description="parquet (a file or a directory of files), duckdb or sql.")
    path: str | None = Field(
        default=None,
        description="parquet: the file or directory; duckdb: the database file. Relative to the policy file.",
    )
    url: str | None = Field(
        default=None,
        description="sql: a SQLAlchemy database URL; ${NAME} is read from the environment when used.",
    )
    table: str | None = Field(
        default=None, pattern=SQL_NAME, description="duckdb and sql: the table (optionally schema.table)."
    )
    subject_columns: list[Annotated[str, Field(pattern=SQL_NAME)]] = Field(
        default_factory=lambda: ["subject"],
        min_length=1,
        description="Columns holding a person's identifiers (subject id or any alias).",
    )
    on_erase: OnErase = Field(
        default=OnErase.DELETE,
        description="delete the person's records, or anonymise them (identifier and listed columns "
        "set to null).",
    )
    anonymise_columns: list[Annotated[str, Field(pattern=SQL_NAME)]] = Field(
        default_factory=list, description="With on_erase: anonymise, the other columns to set to null."
    )

    @model_validator(mode="after")
    def _complete(self) -> SourceStore:
        if self.type is StoreType.PARQUET and not self.path:
            raise ValueError("a parquet store needs 'path' (a file or a directory of .parquet files)")
        if self.type is StoreType.DUCKDB and not (self.path and self.table):
            raise ValueError("a duckdb store needs 'path' (the database file) and 'table'")
        if self.type is StoreType.SQL and not (self.url and self.table):
            raise ValueError("a sql store needs 'url' (e.g. postgresql://…) and 'table'")
        if self.anonymise_columns and self.on_erase is not OnErase.ANONYMISE:
            raise ValueError("'anonymise_columns' only applies with on_erase: anonymise")
        return self


def _web_origin(value: str) -> str:
    """An origin as browsers write it: scheme and host (and port), nothing after."""
    if not re.fullmatch(r"https?://[^/?#\s]+/?", value):
        raise ValueError(
            f"{value!r} is not a site's origin: write scheme://host[:port] without a path, "
            "e.g. https://news.example.com"
        )
    return value.rstrip("/")


class SourceCrawl(_Model):
    """How a crawled source was collected: the crawler, and the sites whose rights reservations apply
    (docs/reservations.md; section 2.3 of the AI Act summary, docs/aiact.md)."""

    name: str | None = Field(
        default=None, min_length=1, description="The crawler's name or identifier, e.g. ExampleBot."
    )
    purpose: str | None = Field(default=None, description="What it collects for, in words.")
    behaviour: str | None = Field(
        default=None,
        description="How it behaves towards robots.txt, paywalls, login walls and CAPTCHAs, in words.",
    )
    agents: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")]] = Field(
        default_factory=list,
        description="User-agent product tokens the crawler identifies as (checked in robots.txt).",
    )
    origins: list[Annotated[str, AfterValidator(_web_origin)]] = Field(
        default_factory=list,
        description="Sites crawled for this source, most content first (https://news.example.com); "
        "checked by `consentgate signals check`, listed as the summary's top domains.",
    )


class SourceOrigin(StrEnum):
    """Where a source's data comes from, in the categories of the EU AI Act training-content summary
    (Commission template of 24 July 2025, section 2; docs/aiact.md)."""

    USER = "user"  # users of the provider's services or products (2.4)
    USER_INTERACTIONS = "user_interactions"  # prompts and inputs to the model itself (2.4)
    PUBLIC = "public"  # publicly available datasets (2.1)
    LICENSED = "licensed"  # licensed from rightsholders or their representatives (2.2.1)
    THIRD_PARTY = "third_party"  # other private third-party datasets (2.2.2)
    CRAWLED = "crawled"  # crawled or scraped by or for the provider (2.3)
    SYNTHETIC = "synthetic"  # generated by an AI model (2.5)
    OTHER = "other"  # anything else (2.6)


class Modality(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    OTHER = "other"


class CollectionPeriod(_Model):
    from_: date = Field(alias="from", description="First day data was collected, e.g. 2025-01-01.")
    to: date | None = Field(default=None, description="Last day, e.g. 2026-06-30; absent while ongoing.")


class Source(_Model):
    id: str = Field(pattern=IDENT, description="Stable identifier of the system or dataset.")
    kind: str = Field(description="What it is: chat_transcripts, event_log, free_text, …")
    categories: list[str] = Field(
        default_factory=list, description="Data categories it holds (user.content, …)."
    )
    purposes: list[str] = Field(default_factory=list, description="Purposes its data may feed.")
    retention_days: int | None = Field(default=None, gt=0, description="How long records are kept.")
    personal: bool | None = Field(default=None, description="Whether records hold personal data.")
    store: SourceStore | None = Field(
        default=None, description="Where its records live, for erasure requests (parquet, duckdb, sql)."
    )
    location: str | None = Field(
        default=None,
        description="A file of its records for `consentgate datamap` to classify (relative to the policy).",
    )
    crawl: SourceCrawl | None = Field(
        default=None, description="For data crawled from websites: the crawler and the sites it crawled."
    )
    # What the AI Act training-content summary needs (docs/aiact.md); all optional.
    origin: SourceOrigin | None = Field(
        default=None,
        description="Where its data comes from: user, user_interactions, public, licensed, third_party, "
        "crawled, synthetic or other (AI Act summary, section 2).",
    )
    modality: list[Modality] = Field(
        default_factory=list, description="What its records are: text, image, audio, video or other."
    )
    languages: list[str] = Field(
        default_factory=list, description="Languages of its content (BCP 47), e.g. [en, de]."
    )
    content_types: list[str] = Field(
        default_factory=list, description="Types of content, in words, e.g. [support conversations]."
    )
    url: HttpAddress | None = Field(
        default=None, description="Where a public or third-party dataset is published, e.g. its page."
    )
    collected: CollectionPeriod | None = Field(
        default=None, description="When its data was collected, e.g. {from: 2025-01-01, to: 2026-06-30}."
    )


class Policy(_Model):
    """A validated policy. Build it with :func:`consentgate.load_policy`, not directly."""

    version: Literal[1] = Field(default=1, description="Format version of this file.")
    organization: Organization = Field(description="The controller: who decides why data is processed.")
    web: Web = Field(default_factory=Web, description="Web settings: allowed origins, default locale.")
    regions: dict[str, Region] = Field(
        default_factory=dict, description="Region id → countries and GPC rule."
    )
    purposes: list[Purpose] = Field(min_length=1, description="Every purpose data may be used for.")
    notices: list[Notice] = Field(
        default_factory=list, description="Versioned wording consent is asked with."
    )
    vendors: list[Vendor] = Field(default_factory=list, description="Who receives data, for which purposes.")
    sources: list[Source] = Field(default_factory=list, description="Systems whose data can feed AI.")
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="after")
    def _cross_references(self) -> Policy:
        # Imported here: only validation needs it, and ``import consentgate.decide`` stays small.
        from consentgate.policy.references import check_references

        check_references(self)
        return self

    # -- lookups -----------------------------------------------------------------------------------

    @cached_property
    def _index(self) -> _Index:
        return _Index(self)

    def purpose(self, purpose_id: str) -> Purpose | None:
        return self._index.purposes.get(purpose_id)

    def require_purpose(self, purpose_id: object) -> Purpose:
        """The purpose, or a :class:`QueryError` naming the ones the policy declares.

        The one purpose check: intake, decisions, gates, exports and requests all call it, so a
        mistyped purpose reads the same wherever it was typed.
        """
        found = self._index.purposes.get(purpose_id) if isinstance(purpose_id, str) else None
        if found is None:
            known = ", ".join(p.id for p in self.purposes)
            shown = purpose_id if isinstance(purpose_id, str) else str(purpose_id)
            raise QueryError(f"unknown purpose {shown!r}; the policy declares: {known}", purpose=shown)
        return found

    def require_source(self, source_id: str) -> Source:
        """The source, or a :class:`BadInput` naming the ones the policy declares (the gates' check)."""
        found = next((s for s in self.sources if s.id == source_id), None)
        if found is None:
            known = ", ".join(s.id for s in self.sources) or "none"
            raise BadInput(f"unknown source {source_id!r}; the policy declares: {known}")
        return found

    def query_region(self, value: object) -> str:
        """A region to decide for: an ISO 3166 code (canonical form) or one of the policy's region ids.

        A :class:`QueryError` otherwise: an unrecognised value would silently fall back to the "*"
        basis and answer a question nobody asked.
        """
        if isinstance(value, str) and value in self.regions:
            return value
        code = region_code(value)
        if code is None:
            regions = ", ".join(self.regions) or "none declared"
            raise QueryError(f"{region_problem(value)}, nor a region of the policy ({regions})")
        return code

    def notice(self, notice_id: str) -> Notice | None:
        return self._index.notices.get(notice_id)

    def region_group(self, code: str | None) -> str:
        """Map an ISO code (DE, US-CA) to its region id; subdivisions fall back to their country.

        A region id itself is accepted too, so ``--region EU`` works. Unknown codes map to "*".
        """
        if not code:
            return DEFAULT_REGION
        idx = self._index
        cached = idx.group_cache.get(code)
        if cached is not None:
            return cached
        group = self._region_group(code)
        if len(idx.group_cache) < 10_000:
            idx.group_cache[code] = group
        return group

    def _region_group(self, code: str) -> str:
        up = code.strip().upper()
        idx = self._index
        if up in idx.region_of_code:
            return idx.region_of_code[up]
        if "-" in up and up.split("-", 1)[0] in idx.region_of_code:
            return idx.region_of_code[up.split("-", 1)[0]]
        if code in self.regions:
            return code
        return DEFAULT_REGION

    def honours_gpc(self, group: str) -> bool:
        return group in self._index.honours_gpc

    def basis_for(self, purpose: Purpose, group: str) -> Basis | None:
        return purpose.basis.get(group, purpose.basis.get(DEFAULT_REGION))

    def versions_of(self, notice_id: str) -> list[NoticeVersion]:
        """A notice's versions, oldest first by effective_from."""
        return self._index.versions.get(notice_id, [])

    def version_rank(self, notice_id: str, version: str | int) -> int | None:
        return self._index.rank.get((notice_id, str(version)))

    def notice_version(self, notice_id: str, version: str | int) -> NoticeVersion | None:
        rank = self.version_rank(notice_id, version)
        return None if rank is None else self._index.versions[notice_id][rank]

    def reconsent_floor(self, notice_id: str, at_us: int) -> int:
        """Rank of the newest material version in force at ``at_us``, or -1 when there is none."""
        floor = -1
        for effective_us, rank in self._index.reconsent_points.get(notice_id, ()):
            if effective_us <= at_us:
                floor = max(floor, rank)
        return floor

    def accepted_versions(self, notice_id: str, at: datetime) -> list[NoticeVersion]:
        """The versions in force at ``at`` whose grant still counts as consent then: from the newest
        material change (``reconsent: true``) on. The rule ``decide`` applies, for the banner to
        know which stored choices it need not ask again."""
        at_us = to_micros(at)
        versions = self.versions_of(notice_id)
        floor = max(self.reconsent_floor(notice_id, at_us), 0)
        return [v for v in versions[floor:] if to_micros(v.effective_from) <= at_us]

    def current_version(self, notice_id: str, at: datetime) -> NoticeVersion | None:
        """The newest version with effective_from <= at (what a person would be shown then)."""
        found = None
        for v in self.versions_of(notice_id):
            if v.effective_from <= at:
                found = v
        return found

    def wording(self, notice_id: str, version: str | int, locale: str | None) -> tuple[str, str] | None:
        """``(locale used, exact text)`` for a notice version: exact locale, then its language,
        then the site default, then English, then the first locale the version offers."""
        nv = self.notice_version(notice_id, version)
        if nv is None:
            return None
        candidates = []
        if locale:
            candidates += [locale, locale.replace("_", "-").split("-")[0]]
        candidates += [self.web.default_locale, "en"]
        lowered = {k.lower(): k for k in nv.text}
        for cand in candidates:
            key = lowered.get(cand.lower())
            if key is not None:
                return key, nv.text[key]
        first = next(iter(nv.text))
        return first, nv.text[first]


class _Index:
    """Lookups the hot paths need, built once per policy."""

    def __init__(self, policy: Policy) -> None:
        self.purposes = {p.id: p for p in policy.purposes}
        self.notices = {n.id: n for n in policy.notices}
        self.region_of_code: dict[str, str] = {}
        for rid, region in policy.regions.items():
            for code in region.countries:
                self.region_of_code[code] = rid
        self.group_cache: dict[str, str] = {}
        self.honours_gpc = {rid for rid, r in policy.regions.items() if r.honour_gpc}
        # Versions ordered by effective_from (stable, so equal times keep file order).
        self.versions: dict[str, list[NoticeVersion]] = {
            n.id: sorted(n.versions, key=lambda v: v.effective_from) for n in policy.notices
        }
        self.rank: dict[tuple[str, str], int] = {}
        self.reconsent_points: dict[str, list[tuple[int, int]]] = {}
        for nid, versions in self.versions.items():
            points = []
            for rank, v in enumerate(versions):
                self.rank[(nid, v.label)] = rank
                if v.reconsent:
                    points.append((to_micros(v.effective_from), rank))
            self.reconsent_points[nid] = points


def to_micros(value: datetime) -> int:
    """UTC microseconds since the epoch: one integer order for timestamps in any offset."""
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


_EPOCH = datetime.fromisoformat("1970-01-01T00:00:00+00:00")

"""Settings as one typed table, read once at the entry point (env ``CONSENTGATE_…``) and passed in."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from consentgate._defaults import DEFAULT_DB, DEFAULT_POLICY


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONSENTGATE_", extra="ignore")

    db: str = Field(default=DEFAULT_DB, description="Ledger database: a SQLite file path or postgresql://…")
    policy: Path = Field(default=Path(DEFAULT_POLICY), description="The policy YAML file.")
    ledger_key: Path | None = Field(
        default=None,
        description="The ledger's Ed25519 private key file (PEM), which seals every write; never stored "
        "in the database. Unset: ledger.key beside a SQLite ledger if there is one, else writes are "
        "unsigned (`ledger verify` then exits 3). Create one with `consentgate keys ledger`.",
    )
    host: str = Field(default="127.0.0.1", description="Address the HTTP service binds to.")
    port: int = Field(default=8000, description="Port the HTTP service listens on.")
    max_body_bytes: int = Field(default=1_000_000, description="Largest request body the API accepts.")
    max_batch: int = Field(default=10_000, description="Most queries or submissions in one batch request.")
    key_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="Seconds the HTTP service remembers an API key lookup; a revoked key works this long.",
    )
    group_commit: bool = Field(
        default=True,
        description="Let concurrent submissions share durable commits (turn off only to compare).",
    )
    workers: int = Field(
        default=1,
        ge=1,
        description="HTTP server processes (`consentgate serve`). More use more cores: worth it for reads, "
        "and for writes on PostgreSQL; on SQLite one process writes at a time, so extra writers mostly "
        'wait for its lock (docs/benchmarks.md, "Load over HTTP").',
    )
    token_secret: SecretStr | None = Field(
        default=None,
        description="Secret(s) that sign subject tokens and visitor ids: at least 32 characters each, "
        "several separated by commas to rotate (the first signs, all verify). Unset: one is generated "
        "once and kept in the database, shared by every server on it.",
    )

    chain_check_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Seconds between checks of the ledger's hash chain by the HTTP service (one also runs "
        "at start-up); while it is broken, writes answer 503 ledger_broken (docs/security.md).",
    )

    # -- abuse limits and privacy of the service itself (docs/api.md, "Privacy of the service") -------
    rate_per_key: float = Field(
        default=2000.0,
        ge=0,
        description="Requests per second one API key may make, per server process; 0 turns the limit off.",
    )
    rate_per_ip: float = Field(
        default=1000.0,
        ge=0,
        description="Requests per second one client address (an IPv6 /64) may make, per server process; "
        "0 turns the limit off.",
    )
    rate_burst_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Seconds' worth of requests a key or address may send at once before its rate applies.",
    )
    rate_events_per_key: float = Field(
        default=2000.0,
        ge=0,
        description="Events per second one API key may submit, per server process, each event of a batch "
        "counted (bursts of rate_burst_seconds' worth); 0 turns the limit off.",
    )
    events_per_subject_minute: int = Field(
        default=120,
        ge=0,
        description="Events one subject (visitor id or person) may receive over the API per minute, per "
        "server process; 0 turns the limit off.",
    )
    max_head_bytes: int = Field(
        default=16 * 1024,
        ge=1024,
        description="Largest request head (request line and header fields) `consentgate serve` reads; "
        "larger answers 431.",
    )
    max_header_fields: int = Field(
        default=100,
        ge=10,
        description="Most header fields in one request to `consentgate serve`; more answer 431.",
    )
    head_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Seconds a connection to `consentgate serve` has to send a complete request head; then "
        "408 and the connection is closed (slowloris).",
    )
    max_connections_per_ip: int = Field(
        default=64,
        ge=0,
        description="Open connections one client address (an IPv6 /64) may hold to `consentgate serve`, per "
        "server process; more are closed at once. 0 turns the cap off (behind a proxy, cap there).",
    )
    country_header: str | None = Field(
        default=None,
        description="Request header with the client's ISO country code (e.g. CF-IPCountry). Trusted only "
        "when set: set it only behind a proxy that always overwrites it.",
    )
    geoip_db: Path | None = Field(
        default=None,
        description="A MaxMind-format country database (e.g. GeoLite2-Country.mmdb) that reduces client "
        "addresses to a country; needs `pip install 'consentgate[geo]'`.",
    )
    api_docs: bool = Field(
        default=True,
        description="Serve interactive API docs at /docs (Swagger UI, whose script and styles load from "
        "cdn.jsdelivr.net); /openapi.json is always served.",
    )
    demo_key: str | None = Field(
        default=None,
        description="Collect key embedded in the demo site at /demo; setting it turns the demo site on "
        "(`make run` does). Leave it unset in production.",
    )
    log_level: str = Field(
        default="info",
        pattern="^(?i:debug|info|warning|error|critical)$",
        description="Level of the JSON log lines on stderr: debug, info, warning, error or critical.",
    )

    # -- website scanner (docs/scanner.md) ----------------------------------------------------------
    scan_file: Path | None = Field(
        default=None,
        description="The latest `consentgate scan` result (scan.json); /v1/declaration serves the cookie "
        "declaration built from it.",
    )
    scan_history_dir: Path | None = Field(
        default=None,
        description="Where the service keeps its scheduled scans (policy `web.scan`), one JSON file per "
        "scan; unset, no scheduled scans run. Its newest scan of the first start URL is what "
        "/v1/declaration serves, ahead of scan_file.",
    )
    tcf_gvl_dir: Path | None = Field(
        default=None,
        description="Where `consentgate tcf update-gvl` keeps the IAB Global Vendor List the service "
        "serves at /v1/tcf/gvl and writes TC strings against. Unset: ~/.local/share/consentgate/tcf/ "
        "if it holds one, else the snapshot bundled with consentgate.",
    )
    cookie_database: Path | None = Field(
        default=None,
        description="An Open Cookie Database CSV to categorise cookies with. Unset: the copy "
        "`consentgate cookies update` downloaded, else the one bundled with consentgate.",
    )
    cookie_database_url: str = Field(
        default="https://raw.githubusercontent.com/jkwakman/Open-Cookie-Database/master/"
        "open-cookie-database.csv",
        description="Where `consentgate cookies update` downloads the Open Cookie Database from.",
    )

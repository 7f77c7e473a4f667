"""Settings as one typed table, read once at the entry point (env ``CONSENTGATE_…``) and passed in."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DB = "consentgate.db"
DEFAULT_POLICY = "policy.yaml"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONSENTGATE_", extra="ignore")

    db: str = Field(default=DEFAULT_DB, description="Ledger database: a SQLite file path or postgresql://…")
    policy: Path = Field(default=Path(DEFAULT_POLICY), description="The policy YAML file.")
    host: str = Field(default="127.0.0.1", description="Address the HTTP service binds to.")
    port: int = Field(default=8000, description="Port the HTTP service listens on.")
    max_body_bytes: int = Field(default=1_000_000, description="Largest request body the API accepts.")
    max_batch: int = Field(default=10_000, description="Most queries or submissions in one batch request.")
    key_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="Seconds the HTTP service remembers an API key lookup; a revoked key works this long.",
    )

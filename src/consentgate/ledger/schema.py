"""Tables of the ledger database. Alembic migrations create them; this module names them."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

events = Table(
    "events",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("event_id", String(40), nullable=False, unique=True),
    Column("subject", String(256), nullable=True),  # NULL once erased; the chain keeps the commitment
    Column("subject_salt", String(64), nullable=True),
    Column("subject_commit", String(64), nullable=False),
    Column("action", String(16), nullable=False),
    Column("purpose", String(128), nullable=True),
    Column("notice_id", String(128), nullable=True),
    Column("notice_version", String(64), nullable=True),
    Column("wording_hash", String(64), nullable=True),
    Column("region", String(8), nullable=True),
    Column("locale", String(35), nullable=True),
    Column("source", String(32), nullable=False),
    Column("occurred_at", String(40), nullable=False),
    Column("occurred_us", BigInteger, nullable=False),
    Column("recorded_at", String(40), nullable=False),
    Column("recorded_us", BigInteger, nullable=False),
    Column("signals", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_events_subject", "subject"),
    Index("ix_events_purpose_occurred", "purpose", "occurred_us"),
)

ledger_head = Table(
    "ledger_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    # Head of the record chain (ledger_records), moved under the same row lock (migration 0005).
    Column("records_seq", BigInteger, nullable=False, server_default="0"),
    Column("records_hash", String(64), nullable=False, server_default="0" * 64),
)

notice_texts = Table(
    "notice_texts",
    metadata,
    Column("text_hash", String(64), primary_key=True),
    Column("notice_id", String(128), nullable=False),
    Column("notice_version", String(64), nullable=False),
    Column("locale", String(35), nullable=False),
    Column("text", Text, nullable=False),
    Column("first_recorded_at", String(40), nullable=False),
)

aliases = Table(
    "aliases",
    metadata,
    Column("alias", String(256), primary_key=True),
    Column("subject", String(256), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("linked_at", String(40), nullable=False),
    # The record chain commits to each row (chain.alias_commit); erasure drops the salt (0005).
    Column("salt", String(64), nullable=True),
    Column("record_seq", BigInteger, nullable=True),
    Index("ix_aliases_subject", "subject"),
    Index("ix_aliases_record_seq", "record_seq"),  # links made since the report rollup last read (0008)
)

# The record chain (ledger/records.py): every write to notice_texts, aliases, suppressions and every
# erasure pseudonymisation of events, hash-chained like events so verify can hold the tables to it.
ledger_records = Table(
    "ledger_records",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),
    Column("body", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

# Seals (ledger/signing.py): after every write, both heads signed with the ledger key (Ed25519).
ledger_seals = Table(
    "ledger_seals",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("events_seq", BigInteger, nullable=False),
    Column("events_hash", String(64), nullable=False),
    Column("records_seq", BigInteger, nullable=False),
    Column("records_hash", String(64), nullable=False),
    Column("signed_at", String(40), nullable=False),
    Column("key_id", String(16), nullable=False),
    Column("signature", String(100), nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("scope", String(16), nullable=False),
    Column("label", String(200), nullable=True),
    Column("created_at", String(40), nullable=False),
    Column("revoked_at", String(40), nullable=True),
)

# Secrets the service generated for itself (the subject-token secret when CONSENTGATE_TOKEN_SECRET is
# not set), so every process sharing the database signs and verifies alike. ``generation`` orders them
# for rotation; the primary key lets two processes racing to create the first one agree on a winner.
service_secrets = Table(
    "service_secrets",
    metadata,
    Column("purpose", String(32), primary_key=True),
    Column("generation", Integer, primary_key=True, autoincrement=False),
    Column("kid", String(16), nullable=False),
    Column("secret", String(128), nullable=False),
    Column("created_at", String(40), nullable=False),
)

# Training runs (the guard), filter runs and vendor exports, one row each: ``kind`` is "training",
# "filter" or "export", the full manifest is JSON in ``manifest``; the other columns are what listings
# filter and sort by.
runs = Table(
    "runs",
    metadata,
    Column("run_id", String(36), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("purpose", String(128), nullable=False),
    Column("model", String(256), nullable=True),
    Column("vendor", String(128), nullable=True),
    Column("status", String(32), nullable=False),  # running, completed, stopped_by_violation, failed
    Column("started_at", String(40), nullable=False),
    Column("finished_at", String(40), nullable=True),
    Column("head_seq_first", BigInteger, nullable=True),
    Column("head_seq_last", BigInteger, nullable=True),
    Column("records", BigInteger, nullable=False),
    Column("subjects", BigInteger, nullable=False),
    Column("subject_key_id", String(16), nullable=False),
    Column("manifest", Text, nullable=False),
    # sha256 of what a filter run wrote (migration 0006): a training run finds the filter run of a
    # dataset file by its content (pipeline/lineage.py). NULL for training runs and older rows.
    Column("output_fingerprint", String(80), nullable=True),
    Index("ix_runs_kind_started", "kind", "started_at"),
    Index("ix_runs_output_fingerprint", "output_fingerprint"),
)

# The identifiers each run used, as HMAC-SHA256 under a service secret (first 16 bytes, hex), never in
# the clear: "which runs used S?" hashes S's identifiers and looks them up (store/runs.py).
run_subjects = Table(
    "run_subjects",
    metadata,
    Column("subject_hash", String(32), primary_key=True),
    Column("run_id", String(36), ForeignKey("runs.run_id"), primary_key=True),
    # The run's batch (1-based) that first used the identifier; NULL for runs before revision 0007.
    Column("first_batch", BigInteger, nullable=True),
)

# Checkpoints a training run saved (``run.checkpoint(name)``), numbered per run: one saved after
# ``batches`` batches holds the data of every identifier whose ``first_batch`` is at most that.
run_checkpoints = Table(
    "run_checkpoints",
    metadata,
    Column("run_id", String(36), ForeignKey("runs.run_id"), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("name", Text, nullable=False),
    Column("batches", BigInteger, nullable=False),
    Column("records", BigInteger, nullable=False),
    Column("saved_at", String(40), nullable=False),
)

# Erasure suppression: HMAC-SHA256 (hex) of every identifier of every erased person, under the
# database's erasure key (ledger/erasure.py). Gates hash the identifiers in their data and look them up.
suppressions = Table(
    "suppressions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("request_id", String(40), nullable=True),
    Column("added_at", String(40), nullable=False),
)

# Data-subject requests (requests/). ``subject`` becomes the erasure pseudonym when the person is
# erased. ``open_key`` is "kind:subject" while the request is open and NULL once it is closed, so the
# unique index refuses a second open request of the same kind for one person, across processes.
requests = Table(
    "requests",
    metadata,
    Column("request_id", String(40), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("subject", String(256), nullable=False),
    Column("purposes", Text, nullable=False),  # JSON list; empty means the kind's default
    Column("status", String(16), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("received_at", String(40), nullable=False),
    Column("due_on", String(10), nullable=False),
    Column("extended_due_on", String(10), nullable=True),
    Column("extension_reason", Text, nullable=True),
    Column("verified_by", String(64), nullable=True),
    Column("closed_at", String(40), nullable=True),
    Column("reason", Text, nullable=True),  # rejection reason, or why the last attempt failed
    Column("attempts", Integer, nullable=False),
    Column("outcome", Text, nullable=False),  # JSON object
    Column("open_key", String(300), nullable=True, unique=True),
    Index("ix_requests_subject", "subject"),
    Index("ix_requests_status_due", "status", "due_on"),
)

# Every status change of a request, in order: who did what, when, and why.
request_log = Table(
    "request_log",
    metadata,
    Column("request_id", String(40), ForeignKey("requests.request_id"), primary_key=True),
    Column("step", Integer, primary_key=True, autoincrement=False),
    Column("at", String(40), nullable=False),
    Column("status", String(16), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("note", Text, nullable=True),
)

# The consent-rate rollup (reports/rollup.py, migration 0008): derived from events and aliases, never
# evidence, and free of identifiers. ``report_spans``: one person's unchanging state for one purpose
# over [start_us, end_us) (end NULL: open), the person named by the seq of one of their events;
# ``report_days``: per UTC day (days since 1970-01-01), the spans that start (+1) and end (-1) in it,
# summed per group, and ``report_months`` the same per UTC month (year * 12 + month - 1), so a report
# reads a few rows per month of history; ``notice_version`` is "" where the deciding choice named none
# (a key column).
report_state = Table(
    "report_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("events_seq", BigInteger, nullable=False),
    Column("records_seq", BigInteger, nullable=False),
    Column("policy_fingerprint", String(64), nullable=False),
    Column("updated_at", String(40), nullable=False),
)

report_spans = Table(
    "report_spans",
    metadata,
    Column("person", BigInteger, primary_key=True, autoincrement=False),
    Column("purpose", String(128), primary_key=True),
    Column("start_us", BigInteger, primary_key=True, autoincrement=False),
    Column("end_us", BigInteger, nullable=True),
    Column("region", String(128), nullable=False),
    Column("notice_version", String(64), nullable=False),
    Column("source", String(32), nullable=False),
    Column("allowed", Integer, nullable=False),
    Index("ix_report_spans_start", "start_us"),
    Index("ix_report_spans_end", "end_us"),
)


def _sums(name: str, bucket: str) -> Table:
    """A table of span starts (+1) and ends (-1) summed per time bucket and report group."""
    return Table(
        name,
        metadata,
        Column(bucket, Integer, primary_key=True, autoincrement=False),
        Column("purpose", String(128), primary_key=True),
        Column("region", String(128), primary_key=True),
        Column("notice_version", String(64), primary_key=True),
        Column("source", String(32), primary_key=True),
        Column("subjects", BigInteger, nullable=False),
        Column("allowed", BigInteger, nullable=False),
    )


report_days = _sums("report_days", "day")
report_months = _sums("report_months", "month")

# Cross-domain hand-offs (web.share) already redeemed: one row per token id, so a hand-off link works
# once. Not evidence (the link it made is a ledger record); rows past ``expires_at`` may be deleted.
share_redemptions = Table(
    "share_redemptions",
    metadata,
    Column("token_id", String(32), primary_key=True),
    Column("redeemed_at", String(40), nullable=False),
    Column("expires_at", String(40), nullable=False),
)

# Console sessions signed out (migration 0012): the cookie is stateless and signed, so a sign-out
# must be written where every server process looks. Rows are swept once the session would have expired.
console_signouts = Table(
    "console_signouts",
    metadata,
    Column("session_id", String(64), primary_key=True),
    Column("expires_at", BigInteger, nullable=False),  # Unix seconds, the session's own expiry
)

# Publishers' rights reservations read by `consentgate signals check` (migration 0010): one row per
# URL and check. Facts about websites, not about people: no ledger event, no record chain. ``detail``
# is the check's JSON (findings with their evidence, documents with status, time and sha256).
reservation_checks = Table(
    "reservation_checks",
    metadata,
    Column("check_id", String(32), primary_key=True),
    Column("origin", String(300), nullable=False),
    Column("url", Text, nullable=False),
    Column("checked_at", String(40), nullable=False),
    Column("robots", String(8), nullable=False),
    Column("tdmrep", String(8), nullable=False),
    Column("noai", String(8), nullable=False),
    Column("detail", Text, nullable=False),
    Index("ix_reservation_checks_origin", "origin", "checked_at"),
)

# The banner-outcome and GPC-share rollup (migration 0011, reports/web_rollup.py). Derived, no
# identifier: clicks per (instant or UTC day, region code, outcome); a web visit is a visitor's
# instant and their previous instant in the same region group (``prev`` NO_PREV for their first),
# counted per pair and per pair of days, so "visitors in [a, b)" is the visits in it whose previous
# one is before a. ``region`` is "" for none in the click tables. Keys lead with the time, which
# every report reads a range of.
report_web_state = Table(
    "report_web_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("events_seq", BigInteger, nullable=False),
    Column("regions_fingerprint", String(64), nullable=False),
    Column("updated_at", String(40), nullable=False),
)


def _clicks(name: str, bucket: str) -> Table:
    return Table(
        name,
        metadata,
        Column(bucket, BigInteger, primary_key=True, autoincrement=False),
        Column("region", String(128), primary_key=True),
        Column("outcome", String(16), primary_key=True),
        Column("clicks", BigInteger, nullable=False),
    )


def _visits(name: str, at: str, prev: str, *indexes: Index) -> Table:
    return Table(
        name,
        metadata,
        Column(at, BigInteger, primary_key=True, autoincrement=False),
        Column("region", String(128), primary_key=True),
        Column("kind", String(8), primary_key=True),
        Column(prev, BigInteger, primary_key=True, autoincrement=False),
        Column("visits", BigInteger, nullable=False),
        *indexes,
    )


report_banner_clicks = _clicks("report_banner_clicks", "occurred_us")
report_banner_days = _clicks("report_banner_days", "day")
report_web_visits = _visits(
    "report_web_visits",
    "at_us",
    "prev_us",
    Index("ix_report_web_visits_prev", "prev_us"),
)
report_web_days = _visits("report_web_days", "day", "prev_day")

"""The audit pack: one self-contained HTML file for a regulator or auditor, and the CSV files of every
table in it (``consentgate report audit``; docs/reports.md).

It gathers what the other reports compute — consent rates, banner outcomes, GPC share, requests
against their deadlines, the latest website scans — and adds what only an audit needs: the policy
and its fingerprint, every notice version's wording and dates, training runs and vendor exports, and
the ledger's head with the proof behind it.

Nothing in the pack claims more than was checked. The ledger is called intact only when a full
verification found nothing altered *and* a seal signed with the ledger key covers the head; a
checkpoint is signed for the pack only after that verification found nothing altered, and only when
a ledger key is configured; anything not known (no scan yet, no key, verification skipped) is said
in words where the answer would be.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from consentgate.ledger.signing import PublicKeys, Signer
from consentgate.ledger.store import Ledger
from consentgate.policy import Policy
from consentgate.reports.banner import GPC_COLUMNS, OUTCOME_COLUMNS, banner_outcomes, gpc_share
from consentgate.reports.declared import notices_section, policy_section, runs_section
from consentgate.reports.inventory import inventory
from consentgate.reports.pack import Cell, Document, Section, Table, csv_texts, render_html, write_csv
from consentgate.reports.periods import Period
from consentgate.reports.rates import Interval, consent_rates
from consentgate.reports.requests import COUNTS, LATE_COLUMNS, requests_report
from consentgate.store.activity import chain_heads, last_seal
from consentgate.store.engine import Engine


@dataclass(frozen=True)
class AuditOptions:
    """What the pack covers and what it may use. ``period``: the range of the period reports
    (default: the 365 days before ``at``); ``at``: the instant the pack speaks for (default now);
    ``signer``: the ledger key, to sign a checkpoint (none: the pack says none was signed); ``keys``:
    the public keys to check seals with (default: the signer's); ``verify``: walk the whole ledger
    (about a minute per million events) — without it the pack says the ledger was not verified."""

    period: Period | None = None
    at: datetime | None = None
    signer: Signer | None = None
    keys: PublicKeys | None = None
    verify: bool = True
    history_dir: Path | None = None
    scan_files: tuple[Path, ...] = ()
    interval: Interval = Interval.month


@dataclass
class _Context:
    engine: Engine
    policy: Policy
    options: AuditOptions
    at: datetime
    period: Period
    made_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def audit_document(engine: Engine, policy: Policy, options: AuditOptions | None = None) -> Document:
    """The pack as data: sections of facts, notes and tables (render with ``render_html``)."""
    opts = options or AuditOptions()
    at = opts.at or datetime.now(UTC)
    period = opts.period or Period.of(at - timedelta(days=365), at)
    ctx = _Context(engine, policy, opts, at, period)
    org = policy.organization
    sections = [
        _overview(ctx),
        _ledger(ctx),
        policy_section(policy),
        notices_section(engine, policy),
        _rates(ctx),
        _banner(ctx),
        _requests(ctx),
        _scans(ctx),
        runs_section(engine),
    ]
    subtitle = (
        f"{org.name}{f' ({org.contact})' if org.contact else ''} — as of {at.isoformat()}, "
        f"period reports from {period.start.isoformat()} to {period.end.isoformat()}"
    )
    return Document(f"Consent audit pack: {org.name}", subtitle, sections)


def build_audit_pack(engine: Engine, policy: Policy, options: AuditOptions | None = None) -> str:
    """The pack as one HTML page (see :func:`audit_document`)."""
    return render_pack(audit_document(engine, policy, options))


def render_pack(doc: Document) -> str:
    return render_html(doc, footer=f"Made by consentgate {_version()}. — means not known or not applicable.")


def write_audit_csv(doc: Document, folder: Path) -> list[Path]:
    """Every table of the pack as ``FOLDER/<table>.csv``, plus ``facts.csv``."""
    return write_csv(doc, folder)


def audit_csv_texts(doc: Document) -> dict[str, str]:
    """The same CSV files as text, by file name (for a download, e.g. zipped by the console)."""
    return csv_texts(doc)


# -- sections ----------------------------------------------------------------------------------------


def _overview(ctx: _Context) -> Section:
    from consentgate.pipeline.snapshot import policy_fingerprint  # the one manifests carry (loads Arrow)

    org = ctx.policy.organization
    return Section(
        "overview",
        "Overview",
        facts=[
            ("Organisation", org.name),
            ("Privacy contact", org.contact or "not given in the policy"),
            ("Pack made at", ctx.made_at.isoformat()),
            ("Reports as of", ctx.at.isoformat()),
            (
                "Period of the period reports",
                f"{ctx.period.start.isoformat()} to {ctx.period.end.isoformat()}",
            ),
            ("Policy fingerprint (sha256)", policy_fingerprint(ctx.policy)),
            ("Made by", f"consentgate {_version()}"),
        ],
        notes=[
            "The policy fingerprint is the one training-run and dataset manifests carry: a manifest with "
            "the same fingerprint was made under exactly this policy."
        ],
    )


def _ledger(ctx: _Context) -> Section:
    opts = ctx.options
    ledger = Ledger(ctx.engine, signer=opts.signer)
    heads = chain_heads(ctx.engine)
    facts = [
        ("Events recorded", str(ledger.count())),
        (
            "Event chain head",
            f"seq {heads['events_seq']}, hash {heads['events_hash'] or 'none (empty ledger)'}",
        ),
        ("Record chain head", f"seq {heads['records_seq']}, hash {heads['records_hash'] or 'none'}"),
    ]
    notes: list[str] = []
    verified_ok = False
    if opts.verify:
        report = ledger.verify(keys=opts.keys)
        verified_ok = report.ok
        if report.intact:
            line = f"INTACT: {report.checked} events and every side table checked; {report.signature_note}"
        elif report.ok:
            line = f"NO ALTERATION FOUND, BUT NOT PROVEN: {report.signature_note}"
        else:
            where = f" at seq {report.bad_seq}" if report.bad_seq is not None else ""
            line = f"BROKEN: {report.table}{where}: {report.problem}"
        facts.append(("Verification", line))
    else:
        facts.append(("Verification", "not run for this pack; run `consentgate ledger verify`"))
    seal = last_seal(ctx.engine)
    if seal is None:
        facts.append(("Last seal", "none: no write was ever signed with a ledger key"))
    else:
        covers = seal["events_seq"] == heads["events_seq"] and seal["records_seq"] == heads["records_seq"]
        facts.append(
            (
                "Last seal",
                f"seal {seal['id']}, signed {seal['signed_at']} with key {seal['key_id']}, covering events "
                f"to seq {seal['events_seq']} and records to seq {seal['records_seq']}"
                + ("" if covers else " — NOT the current head: later writes are not signed"),
            )
        )
    checkpoint = None
    if opts.signer is None:
        notes.append(
            "No checkpoint was signed for this pack: no ledger key is configured (CONSENTGATE_LEDGER_KEY)."
        )
    elif not opts.verify:
        notes.append("No checkpoint was signed for this pack: the ledger was not verified first.")
    elif not verified_ok:
        notes.append("No checkpoint was signed for this pack: the ledger failed verification.")
    else:
        cp = ledger.checkpoint()
        checkpoint = json.dumps(cp.to_json(), indent=2)
        facts.append(("Checkpoint", f"signed for this pack at {cp.signed_at} with key {cp.key_id} (below)"))
        notes.append(
            "Keep the checkpoint below as a file: `consentgate ledger verify --checkpoint FILE` later fails "
            "if the ledger no longer extends it (events removed or rewritten)."
        )
    notes.insert(0, "The ledger as it stood when the pack was made, whatever instant the reports are as of.")
    return Section("ledger", "Ledger", facts=facts, notes=notes, preformatted=checkpoint)


def _rates(ctx: _Context) -> Section:
    report = consent_rates(ctx.engine, ctx.policy, at=ctx.period.end, by=("purpose", "region"))
    rows: list[dict[str, Cell]] = [
        {**report.row_json(r), "rate": None if r.rate is None else round(r.rate, 6)} for r in report.rows
    ]
    return Section(
        "rates",
        "Consent rates",
        facts=[("At", report.at.isoformat())],
        notes=[
            "Per purpose and region: subjects are the people (linked identifiers count as one) who made a "
            "choice about the purpose by then, erased people left out; allowed are those the decision "
            "function allows then (docs/reports.md of consentgate defines every figure)."
        ],
        tables=[
            Table(
                "consent_rates",
                "Consent rates by purpose and region",
                tuple(report.columns()),
                rows,
                "No one had made a choice about any purpose by then.",
            )
        ],
    )


def _banner(ctx: _Context) -> Section:
    outcomes = banner_outcomes(ctx.engine, ctx.policy, ctx.period, interval=ctx.options.interval)
    share = gpc_share(ctx.engine, ctx.policy, ctx.period)
    columns = OUTCOME_COLUMNS
    return Section(
        "banner",
        "Banner outcomes and Global Privacy Control",
        notes=[
            f"No action (banner shown, no choice) is {outcomes['no_action']}.",
            f"GPC share: {share['note']}.",
        ],
        tables=[
            Table(
                "banner_outcomes",
                f"Banner outcomes per {ctx.options.interval} and region",
                columns,
                outcomes["rows"],
                "No banner choice was recorded in the period.",
                missing="not known",
            ),
            Table(
                "gpc_share",
                "GPC share per region",
                GPC_COLUMNS,
                share["rows"],
                NO_VISITORS,
            ),
        ],
    )


NO_VISITORS = "No visitor reached the ledger through the banner, toggle or privacy center in the period."


def _requests(ctx: _Context) -> Section:
    r = requests_report(ctx.engine, ctx.period, at=ctx.at, interval=ctx.options.interval)
    counts, late = COUNTS, LATE_COLUMNS
    return Section(
        "requests",
        "Data-subject requests and their deadlines",
        notes=[
            "Each request received in the period is in one state as of the pack's time: closed on "
            "time, closed late, open (not yet due) or overdue. Due dates: one month (three when "
            "extended), 15 business days for an opt-out. Requests are listed by id only, never by person."
        ],
        tables=[
            Table(
                "requests_by_kind",
                "Requests per kind",
                ("kind", *counts),
                r["totals"],
                "No request was received in the period.",
            ),
            Table(
                "requests_by_period",
                f"Requests per {ctx.options.interval} received and kind",
                ("period", "kind", *counts),
                r["rows"],
                "No request was received in the period.",
            ),
            Table(
                "requests_late",
                "Requests not answered on time",
                late,
                r["late"],
                "Every request of the period was answered on time or is not yet due.",
                missing="not closed",
            ),
        ],
    )


def _scans(ctx: _Context) -> Section:
    inv = inventory(ctx.policy, history_dir=ctx.options.history_dir, scan_files=ctx.options.scan_files)
    site_cols = (
        "start_url",
        "scanned_at",
        "verdict",
        "pages",
        "cookies",
        "storage",
        "hosts",
        "violations",
        "unclassified",
        "uncategorised",
        "problem",
    )
    notes = []
    if not inv["sites"]:
        notes.append(
            "No website scan is known: the policy schedules none (web.scan) and no scan file was given. What "
            "the sites set in visitors' browsers is not covered by this pack."
        )

    def items(key: str, columns: tuple[str, ...]) -> list[dict[str, Cell]]:
        return [
            {"start_url": d["start_url"], **{c: i.get(c) for c in columns}}
            for d in inv["details"]
            for i in d[key]
        ]

    cookie_cols = ("name", "domain", "party", "category", "phases")
    host_cols = ("host", "category", "vendor", "phases")
    violation_cols = ("type", "kind", "name", "host", "category", "phase", "page")
    return Section(
        "scans",
        "Website: latest scans",
        notes=notes,
        tables=[
            Table(
                "scans",
                "Latest scan per site",
                site_cols,
                inv["sites"],
                "No site was scanned.",
                missing="not known",
            ),
            Table(
                "scan_violations",
                "Violations (set before consent or after reject)",
                ("start_url", *violation_cols),
                items("violations", violation_cols),
                "The latest scans found no violation." if inv["details"] else "No scan to report on.",
            ),
            Table(
                "scan_cookies",
                "Cookies found",
                ("start_url", *cookie_cols),
                items("cookies", cookie_cols),
                "The latest scans found no cookie." if inv["details"] else "No scan to report on.",
            ),
            Table(
                "scan_hosts",
                "Third-party hosts contacted",
                ("start_url", *host_cols),
                items("hosts", host_cols),
                "The latest scans contacted no third-party host."
                if inv["details"]
                else "No scan to report on.",
            ),
        ],
    )


def _version() -> str:
    try:
        return version("consentgate")
    except PackageNotFoundError:  # a source tree that was never installed
        return "(version unknown)"

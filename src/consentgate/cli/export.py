"""``consentgate export``: the vendor export gate on the command line.

Like ``filter``, it needs the ``pipeline`` extra, imported inside the command.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from consentgate.cli._lineage import check_fresh, emit_lineage
from consentgate.cli._shared import CliEnv, env_of, parse_at
from consentgate.cli.options import (
    AtOpt,
    EngineName,
    EngineOpt,
    FlagColumnOpt,
    InputOpt,
    MaxStalenessOpt,
    NoSubjectChoice,
    NoSubjectOpt,
    PurposeOpt,
    SnapshotFileOpt,
    SourceOpt,
    SubjectColumnOpt,
    SuppressionKeyFileOpt,
    SuppressionOpt,
    filter_options,
    input_progress,
    snapshot_file_at,
)
from consentgate.errors import Refused

if TYPE_CHECKING:
    from consentgate.pipeline.export import ExportResult


def export(
    ctx: typer.Context,
    vendor: Annotated[
        str,
        typer.Option(metavar="VENDOR", help="Vendor id from the policy, e.g. `--vendor example-llm-host`."),
    ],
    purpose: PurposeOpt,
    subject_column: SubjectColumnOpt,
    input: InputOpt,
    output: Annotated[
        Path,
        typer.Option(
            metavar="OUT",
            help="Where the records for the vendor go (one Parquet file; Spark: a directory), "
            "e.g. `--output to-vendor.parquet`.",
        ),
    ],
    engine: EngineOpt = EngineName.duckdb,
    manifest: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE.json",
            help="Also write the export's manifest here, e.g. `--manifest export.json`.",
            show_default=False,
        ),
    ] = None,
    source: SourceOpt = None,
    snapshot_file: SnapshotFileOpt = None,
    at: AtOpt = None,
    no_subject: NoSubjectOpt = NoSubjectChoice.auto,
    flag_column: FlagColumnOpt = None,
    suppression: SuppressionOpt = None,
    suppression_key_file: SuppressionKeyFileOpt = None,
    max_staleness: MaxStalenessOpt = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print the export's manifest as JSON on stdout, e.g. for `jq .counts`."),
    ] = False,
) -> None:
    """Prepare data for a vendor: refuse vendors the policy does not allow, drop the records whose
    subject may not be used for the purpose (as `filter` does), and record the export.

    Refused (exit 1, naming the policy key to change): a vendor not under `vendors`, a purpose not in
    the vendor's `purposes`, and a vendor with `self_training: true` unless `self_training_approved:
    true` records the organisation's decision. The export is stored in the ledger database with the
    vendor, so `consentgate runs --subject S` lists the vendors that received S's data.

    Example:

        consentgate export --vendor example-llm-host --purpose train_support_chatbot \\
            --subject-column user_id --input chats/ --output to-vendor.parquet --manifest export.json
    """
    from consentgate.pipeline import build_snapshot
    from consentgate.pipeline.export import check_vendor, export_files
    from consentgate.pipeline.staleness import MaxStaleness

    env = env_of(ctx)
    policy = env.policy()
    try:
        check_vendor(policy, vendor, purpose)  # before reading anything
    except Refused as exc:
        raise Refused(f"{exc.message} (policy: {env.settings.policy})", purpose=purpose) from None
    options = filter_options(
        subject_column, flag_column, no_subject, source, suppression, suppression_key_file
    )
    options = options.with_source_from(policy)
    ledger = env.ledger(must_exist=True)
    limit = MaxStaleness.parse(max_staleness) if max_staleness is not None else None
    if snapshot_file is not None:
        snap = snapshot_file_at(snapshot_file, at)
    else:
        snap = build_snapshot(policy, ledger, purpose, parse_at(at))
    what = f"snapshot {snapshot_file}" if snapshot_file is not None else "the snapshot"
    found = check_fresh(env, ledger, snap, what, limit)  # recorded in the manifest, as filter does
    with input_progress(env.err, input, f"exporting with {engine.value}") as report:
        result = export_files(
            policy,
            ledger,
            vendor,
            purpose,
            input,
            output,
            options,
            engine=engine.value,
            snapshot=snap,
            manifest_path=manifest,
            progress=report,
            staleness=found,
        )
    emit_lineage(env, result.to_json())
    if as_json:
        env.emit_json(result.to_json())
    else:
        _describe_export(env, result)


def _describe_export(env: CliEnv, result: ExportResult) -> None:
    m = result.manifest
    c = m.counts
    dropped = ", ".join(f"{n} {r}" for r, n in c.to_json()["dropped"].items() if n) or "none"
    text = Text()
    text.append(f"{m.output}: ", style="bold")
    text.append(
        f"{c.kept} of {c.input} records ({result.subjects} subjects) for vendor {result.vendor.id}, "
        f"purpose {m.purpose}; dropped {c.dropped} ({dropped}) "
    )
    text.append(f"[{m.engine}, snapshot head {m.snapshot['head_seq']}, export {m.run_id}]", style="dim")
    env.out.print(text)

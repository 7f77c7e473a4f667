"""What the dataset gates tell about where their data stands: how far a snapshot is behind the
ledger (a warning, or exit 7 beyond ``--max-staleness``), the filter run stored in ``runs``, and the
run sent to OpenLineage when the environment configures it. Shared by ``filter`` and ``export``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from consentgate.cli._shared import CliEnv

if TYPE_CHECKING:
    from consentgate.ledger.store import Ledger
    from consentgate.pipeline import Manifest, Snapshot
    from consentgate.pipeline.staleness import MaxStaleness, Staleness


def check_fresh(
    env: CliEnv, ledger: Ledger, snap: Snapshot, what: str, limit: MaxStaleness | None
) -> Staleness:
    """How far ``snap`` is behind the ledger: refused beyond ``limit`` (StaleData, exit 7), else a
    warning on stderr when it is behind at all."""
    import warnings

    from consentgate.pipeline.staleness import enforce, snapshot_staleness

    found = snapshot_staleness(ledger, snap, what=what)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # said below, in the CLI's words
        enforce(found, limit, purpose=snap.meta.purpose)
    if found.stale:
        env.note(f"warning: {found.message()}", style="yellow")
    return found


def emit_lineage(env: CliEnv, stored: dict[str, Any]) -> None:
    """Send the run to OpenLineage when the environment configures it (``OPENLINEAGE_URL``,
    ``OPENLINEAGE_CONFIG``, ``OPENLINEAGE__TRANSPORT__…``). The gate has done its work and the run is
    recorded; a lineage backend that cannot be reached is reported, not fatal."""
    import os

    if not any(k.startswith("OPENLINEAGE") for k in os.environ):
        return  # not configured: skip even the import
    from consentgate.errors import MissingExtra

    try:
        from consentgate.integrations.openlineage import LineageEmitter
    except MissingExtra as exc:
        env.note(f"warning: OpenLineage is configured but cannot be used: {exc.message}", style="yellow")
        return
    emitter = LineageEmitter.configured()
    if emitter is None:
        return
    try:
        emitter.emit_finished(stored)
    except Exception as exc:  # the transport's own errors: network, file system, its config
        env.note(
            f"warning: run {stored['run_id']} was not sent to OpenLineage: {type(exc).__name__}: {exc}",
            style="yellow",
        )


def no_ledger_to_compare(env: CliEnv, snapshot_file: Path, limit: MaxStaleness) -> Exception:
    from consentgate.errors import StaleData

    return StaleData(
        f"--max-staleness {limit.describe()} needs the ledger to compare snapshot {snapshot_file} "
        f"with, and ledger {env.settings.db} does not exist: pass --db PATH (env CONSENTGATE_DB), or "
        "leave out --max-staleness to filter without knowing how far behind the snapshot is"
    )


def record_filter(env: CliEnv, result: Manifest, found: Staleness | None) -> tuple[Manifest, dict[str, Any]]:
    """Store the run in the ledger's ``runs`` (kind filter); without a ledger, say it is not stored.
    An output whose record cannot be stored is removed, like an export's."""
    from dataclasses import replace

    from consentgate.pipeline.lineage import record_filter_run, remove_output

    result = replace(result, staleness=None if found is None else found.to_json())
    if found is None:
        env.note(
            f"warning: filter run {result.run_id} is not recorded in `runs`: ledger {env.settings.db} "
            "does not exist, so training runs cannot trace this output back to it",
            style="yellow",
        )
        return result, {**result.to_json(), "kind": "filter", "subjects": None}
    try:
        stored = record_filter_run(env.ledger(), result)
    except BaseException:
        if result.output is not None:
            remove_output(Path(result.output))
        raise
    return result, stored

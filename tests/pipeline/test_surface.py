"""The pipeline's public surface is deliberate: adding or removing a name is a visible change."""

import consentgate.pipeline as pipeline
from consentgate.pipeline.engines import ENGINES, load


def test_public_names_are_pinned() -> None:
    assert sorted(pipeline.__all__) == sorted([
        "DEFAULT_ENGINE", "ENGINES", "REASONS", "SNAPSHOT_SCHEMA", "Counts", "EngineMissing",
        "FilterOptions", "FilterPlan", "FilterResult", "Manifest", "NoSubject", "Snapshot",
        "SnapshotMeta", "Suppression", "SuppressionList", "Verdict", "build_snapshot", "filter_files",
        "filter_records", "input_files", "make_plan", "policy_fingerprint", "snapshot_table",
        "MaxStaleness", "record_filter_run",
    ])  # fmt: skip
    for name in pipeline.__all__:
        assert hasattr(pipeline, name), name


def test_every_engine_module_has_the_same_functions() -> None:
    """The dlt shape: one module per engine, the same names in each."""
    shape = [
        "NAME",
        "filter_data",
        "filter_files",
        "handles",
        "head",
        "schema",
        "subjects",
        "subjects_in_files",
    ]
    for name in ENGINES:
        module = load(name)
        for attr in shape:
            assert hasattr(module, attr), f"{name} lacks {attr}"
        assert name == module.NAME

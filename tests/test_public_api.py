"""The public surface is deliberate: adding or removing a name is a visible change."""

import consentgate


def test_public_names_are_pinned() -> None:
    expected = [
        "Action",
        "AuthError",
        "BadInput",
        "Basis",
        "ChainBroken",
        "Conflict",
        "ConsentEvent",
        "ConsentService",
        "ConsentViolation",
        "ConsentgateClient",
        "ConsentgateError",
        "Decision",
        "EventError",
        "Incomplete",
        "Ledger",
        "NewEvent",
        "NotFound",
        "Policy",
        "PolicyError",
        "Purpose",
        "Query",
        "QueryError",
        "Refused",
        "RequestDesk",
        "StaleData",
        "StaleDataWarning",
        "StorageError",
        "TerminalStorageError",
        "Timeline",
        "TrainingRun",
        "TransientStorageError",
        "UnknownSubject",
        "VerifyReport",
        "__version__",
        "decide",
        "decide_batch",
        "issue_subject_token",
        "load_policy",
        "parse_policy_text",
    ]
    assert sorted(consentgate.__all__) == sorted(expected)
    for name in consentgate.__all__:
        assert hasattr(consentgate, name), name


def test_importing_consentgate_needs_no_pipeline_extra() -> None:
    """TrainingRun is exported lazily: a backend that only records choices needs no pyarrow."""
    import subprocess
    import sys

    code = (
        "import sys, consentgate; "
        "assert 'pyarrow' not in sys.modules, 'pyarrow imported'; "
        "assert consentgate.TrainingRun.__name__ == 'TrainingRun'; "
        "assert 'pyarrow' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_decide_module_does_no_io() -> None:
    """decide.py must stay pure: no database, network, file or clock imports."""
    import ast
    import inspect

    import consentgate.decide as mod

    tree = ast.parse(inspect.getsource(mod))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
    }
    forbidden = {"sqlalchemy", "os", "socket", "httpx", "pathlib", "time", "consentgate.ledger.store"}
    assert not (imported & forbidden)
    assert "now(" not in inspect.getsource(mod)


def _modules_after(code: str) -> set[str]:
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return {m.split(".")[0] if not m.startswith("consentgate") else m for m in run.stdout.split()}


def test_the_pure_core_imports_only_the_policy_and_event_models() -> None:
    """``decide`` is what a backend embeds: no database driver, HTTP client, YAML loader or service."""
    loaded = _modules_after("import consentgate.decide")
    assert not loaded & {"sqlalchemy", "httpx", "yaml", "pyarrow", "fastapi"}
    assert {m for m in loaded if m.startswith("consentgate")} == {
        "consentgate",
        "consentgate.decide",
        "consentgate.errors",
        "consentgate.ledger",
        "consentgate.ledger.events",
        "consentgate.policy",
        "consentgate.policy.models",
        "consentgate.policy.tcf",  # web.tcf's settings: pydantic models like the rest of the policy
        "consentgate.policy.share",  # web.share: a pydantic model like the rest of the policy
        "consentgate.policy.terms",
    }


def test_names_resolve_lazily_and_dir_lists_them() -> None:
    loaded = _modules_after("import consentgate")
    assert not loaded & {"sqlalchemy", "httpx", "pydantic"}
    assert set(consentgate.__all__) <= set(dir(consentgate))
    assert set(consentgate._EXPORTS) | {"__version__"} == set(consentgate.__all__)
    import pytest

    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        _ = consentgate.nothing_here  # type: ignore[attr-defined]

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

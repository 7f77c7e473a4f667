"""``init``: a working directory with the example policy, a ledger and its key."""

from __future__ import annotations

import shlex
from importlib.resources import files
from pathlib import Path
from typing import Annotated

import typer

from consentgate.cli._shared import env_of
from consentgate.errors import BadInput
from consentgate.ledger.signing import KEY_FILE_NAME, Signer, create_key
from consentgate.ledger.store import Ledger
from consentgate.policy import load_policy

POLICY_NAME = "policy.yaml"
DB_NAME = "consentgate.db"


def example_policy_text() -> str:
    """The example policy shipped inside the package (works from a wheel as well as a checkout)."""
    return files("consentgate.policy").joinpath("example.yaml").read_text(encoding="utf-8")


def init(
    ctx: typer.Context,
    directory: Annotated[
        Path,
        typer.Argument(
            metavar="DIR",
            help="Directory to set up; created if missing, e.g. `.` or `consent/`.",
            show_default=False,
        ),
    ],
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Overwrite an existing DIR/policy.yaml, e.g. `consentgate init . --force`."
        ),
    ] = False,
) -> None:
    """Create DIR/policy.yaml (the example policy) and the ledger DIR/consentgate.db.

    An existing policy is kept unless `--force` is given (it is your organisation's policy, not ours);
    an existing ledger is never touched beyond bringing its schema up to date.

    Example:

        consentgate init consent/
    """
    env = env_of(ctx)
    if directory.exists() and not directory.is_dir():
        raise BadInput(f"{directory} exists and is not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    policy_path = directory / POLICY_NAME
    db_path = directory / DB_NAME
    if policy_path.exists() and not force:
        raise BadInput(
            f"{policy_path} already exists; keep it, or pass --force to replace it with the example"
        )
    text = example_policy_text()
    policy_path.write_text(text, encoding="utf-8")
    policy = load_policy(policy_path)  # the shipped example must itself be valid; fail loudly if not
    existed = db_path.exists()
    key_path = directory / KEY_FILE_NAME
    made_key = not key_path.exists()
    signer = create_key(key_path) if made_key else Signer.load(key_path)
    with Ledger.open(str(db_path), signer=signer) as ledger:
        count = ledger.count()
        if made_key:
            ledger.seal()  # from here on the head is always signed, even while the ledger is empty
    env.out.print(f"wrote {policy_path} ({len(policy.purposes)} purposes, {len(policy.notices)} notices)")
    if existed:
        env.out.print(f"kept the existing ledger {db_path} ({count} events)")
    else:
        env.out.print(f"created the ledger {db_path}")
    if made_key:
        env.out.print(
            f"created the ledger key {key_path} (seals every write; move it off the database host for real "
            f"protection) and its public key {key_path.with_suffix('.pub')} for auditors"
        )
    d = shlex.quote(str(db_path))
    p = shlex.quote(str(policy_path))
    env.out.print(
        "\nnext steps:\n"
        f"  export CONSENTGATE_DB={d} CONSENTGATE_POLICY={p}\n"
        "  consentgate policy check                     # edit the policy, then validate it\n"
        "  consentgate keys create --scope admin        # an API key for the HTTP service\n"
        "  consentgate record --subject user-42 --action grant --purpose train_support_chatbot "
        "--notice-version 2\n"
        "  consentgate decide --subject user-42 --purpose train_support_chatbot\n"
        "  consentgate serve                            # http://127.0.0.1:8000/docs"
    )

"""``init`` (a working directory with the example policy and a ledger) and ``serve`` (the HTTP API)."""

from __future__ import annotations

import os
import shlex
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any

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


WORKER_HEALTHCHECK_SECONDS = 60


def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None,
        typer.Option(
            metavar="HOST",
            help="Address to bind (default 127.0.0.1, env CONSENTGATE_HOST), "
            "e.g. `--host 0.0.0.0` in a container.",
            show_default=False,
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            metavar="PORT",
            help="Port to listen on (default 8000, env CONSENTGATE_PORT), e.g. `--port 8080`.",
            min=1,
            max=65535,
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            help="Server processes (default 1, env CONSENTGATE_WORKERS), e.g. `--workers 2`; see "
            "docs/benchmarks.md before raising it on SQLite.",
            min=1,
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs) with uvicorn.

    Example:

        consentgate --db consent/consentgate.db --policy consent/policy.yaml serve --port 8000
    """
    env = env_of(ctx)
    settings = env.settings.model_copy(
        update={
            "host": host or env.settings.host,
            "port": port or env.settings.port,
            "workers": workers or env.settings.workers,
        }
    )
    load_policy(settings.policy)  # report a broken policy here, before uvicorn starts logging
    # Imported here: the server pulls in FastAPI, which the other commands never need.
    import uvicorn

    from consentgate.server.connections import connection_limits, guarded_protocol
    from consentgate.server.logs import log_config
    from consentgate.server.process import serving_app

    env.note(
        f"serving on http://{settings.host}:{settings.port} (docs at /docs)"
        + (f" with {settings.workers} processes" if settings.workers > 1 else "")
        + "; Ctrl+C stops"
    )
    # Our JSON logs instead of uvicorn's access log, which prints client addresses and raw paths.
    # The event loop is uvicorn's "auto" (uvloop, a dependency of consentgate, where it installs); the
    # HTTP parser is always httptools, inside a protocol that adds the limits uvicorn lacks.
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "access_log": False,
        "log_config": log_config(settings.log_level),
        # uvicorn's httptools protocol with limits on heads and connections (server/connections.py).
        "http": guarded_protocol(connection_limits(settings)),
    }
    if settings.workers == 1:
        uvicorn.run(serving_app(settings), **options)
        return
    # Each worker process builds its own app (its own connections, key cache and group committer)
    # from the environment, so the settings given as options travel there.
    os.environ["CONSENTGATE_DB"] = settings.db
    os.environ["CONSENTGATE_POLICY"] = str(settings.policy)
    # uvicorn pings each worker and replaces one that has not answered within 5 s — also while it is
    # still starting, so on a busy small machine (importing and building the app takes longer) every
    # worker was killed before it could serve, forever. A worker gets a minute instead.
    uvicorn.run(
        "consentgate.server.process:serving_app",
        factory=True,
        workers=settings.workers,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
        **options,
    )

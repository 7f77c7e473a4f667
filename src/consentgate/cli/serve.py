"""``serve``: the HTTP API under uvicorn."""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer

from consentgate.cli._shared import env_of
from consentgate.policy import load_policy
from consentgate.web.tcf.stacks import require_fitting_stacks

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
    policy = load_policy(settings.policy)  # report a broken policy here, before uvicorn starts logging
    require_fitting_stacks(policy.web.tcf, settings.tcf_gvl_dir)  # and TCF stacks the GVL cannot show
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

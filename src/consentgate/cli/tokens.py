"""Subject tokens from the command line: ``tokens issue`` (mint one) and ``tokens verify`` (read one).

They sign with the same secret the server uses: ``CONSENTGATE_TOKEN_SECRET`` when it is set (then the
ledger is never opened), else the secret the server generated into the ledger database (``--db``).
"""

from __future__ import annotations

from typing import Annotated

import typer

from consentgate.auth.secrets import load_keyring
from consentgate.auth.tokens import DEFAULT_TTL, MAX_TTL, TOKEN_HEADER, Keyring
from consentgate.cli._shared import CliEnv, env_of

tokens_app = typer.Typer(
    help="Subject tokens: let one browser session read and change one person's choices.\n\n"
    f"The banner and privacy center send a token as `{TOKEN_HEADER}`; see docs/security.md.\n\n"
    "Example:\n\n    consentgate tokens issue --subject user-42@example.com --ttl 3600",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


def _keyring(env: CliEnv) -> Keyring:
    secret = env.settings.token_secret
    if secret is not None and secret.get_secret_value().strip():
        return load_keyring(None, secret)
    return load_keyring(env.ledger(must_exist=True).engine, None)


@tokens_app.command("issue")
def issue(
    ctx: typer.Context,
    subject: Annotated[
        str,
        typer.Option(
            metavar="SUBJECT",
            help="The one person the token may act for, e.g. `--subject user-42@example.com`.",
            show_default=False,
        ),
    ],
    ttl: Annotated[
        int,
        typer.Option(
            metavar="SECONDS",
            min=1,
            max=MAX_TTL,
            help=f"Lifetime in seconds, at most {MAX_TTL} (24 hours), e.g. `--ttl 900` for 15 minutes.",
        ),
    ] = DEFAULT_TTL,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help='Print {"token", "subject", "expires_at"} as JSON, e.g. for a script or jq.'
        ),
    ] = False,
) -> None:
    """Mint a subject token and print it alone on stdout, so scripts can capture it.

    Signs with CONSENTGATE_TOKEN_SECRET, or else with the secret stored in the ledger (`--db`), so a
    server on the same settings accepts the token. Tokens are never stored anywhere.

    Example:

        TOKEN=$(consentgate tokens issue --subject user-42@example.com --ttl 900)
    """
    env = env_of(ctx)
    keyring = _keyring(env)
    token = keyring.issue(subject, ttl)
    claims = keyring.verify(token)
    if as_json:
        env.emit_json({"token": token, "subject": subject, "expires_at": claims.expires_at.isoformat()})
    else:
        # typer.echo, not Rich: a captured token must be exactly the token, with no styling or wrapping.
        typer.echo(token)
    env.note(f"token for {subject!r}, valid until {claims.expires_at.isoformat()} (key {claims.kid})")


@tokens_app.command("verify")
def verify(
    ctx: typer.Context,
    token: Annotated[
        str,
        typer.Argument(
            metavar="TOKEN",
            help="A subject token, e.g. the value of a request's X-Consentgate-Subject-Token header.",
            show_default=False,
        ),
    ],
) -> None:
    """Check a subject token against this deployment's secret and print its claims as JSON; exit 1
    saying why when it is expired, altered or signed with another secret.

    Example:

        consentgate tokens verify "$TOKEN"
    """
    env = env_of(ctx)
    claims = _keyring(env).verify(token)
    env.emit_json(
        {
            "subject": claims.subject,
            "issued_at": claims.issued_at.isoformat(),
            "expires_at": claims.expires_at.isoformat(),
            "kid": claims.kid,
        }
    )

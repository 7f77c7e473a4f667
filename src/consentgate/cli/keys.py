"""API keys for the HTTP service: ``keys create|list|revoke``. Only hashes are stored."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from consentgate.apikeys import Scope, create_key, list_keys, revoke_key
from consentgate.cli._shared import env_of
from consentgate.errors import BadInput

keys_app = typer.Typer(
    help="API keys for the HTTP service (clients send `Authorization: Bearer KEY`).\n\n"
    "Scopes: `collect` may get visitor ids and submit choices for them (it is public: it sits in every "
    "page with the banner; a subject token lets it act for a logged-in person, see `tokens issue`); "
    "`read` may read decisions, state and evidence; `admin` may do everything.\n\n"
    "Example:\n\n    consentgate keys create --scope collect --label www-banner",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


@keys_app.command("create")
def create(
    ctx: typer.Context,
    scope: Annotated[Scope, typer.Option(help="What the key may do, e.g. `--scope collect` for the banner.")],
    label: Annotated[
        str | None,
        typer.Option(
            metavar="LABEL",
            help="A note saying where the key is used, e.g. `--label www-banner`.",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help='Print {"key_id", "key", "scope", "label"} as JSON, e.g. for a secret store.'
        ),
    ] = False,
) -> None:
    """Create an API key and print it on stdout alone, so scripts can capture it.

    The key is shown once: only its hash is stored.

    Example:

        KEY=$(consentgate keys create --scope read --label training-pipeline)
    """
    env = env_of(ctx)
    key_id, key = create_key(env.ledger().engine, scope.value, label)
    if as_json:
        env.emit_json({"key_id": key_id, "key": key, "scope": scope.value, "label": label})
    else:
        # typer.echo, not Rich: a captured key must be exactly the key, with no styling or wrapping.
        typer.echo(key)
    env.note(
        f"created {scope.value} key {key_id}{f' ({label})' if label else ''}; "
        "this is the only time the key is shown — store it now",
        style="yellow",
    )


@keys_app.command("list")
def list_(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the keys as a JSON list, e.g. for an audit.")
    ] = False,
) -> None:
    """List keys (ids, scopes, labels, when created and revoked); the secrets themselves are not stored.

    Example:

        consentgate keys list
    """
    env = env_of(ctx)
    rows = list_keys(env.ledger(must_exist=True).engine)
    if as_json:
        env.emit_json(rows)
        return
    if not rows:
        env.note("no API keys yet; create one with `consentgate keys create --scope admin`")
        return
    table = Table()
    for column in ("key id", "scope", "label", "created", "revoked"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(r["key_id"], r["scope"], r["label"] or "", r["created_at"] or "", r["revoked_at"] or "")
    env.out.print(table)


@keys_app.command("revoke")
def revoke(
    ctx: typer.Context,
    key_id: Annotated[
        str,
        typer.Argument(
            metavar="KEY_ID", help="The key's id from `keys list`, e.g. `3f9a1c2b7d4e`.", show_default=False
        ),
    ],
) -> None:
    """Revoke a key: requests with it are refused from now on.

    Example:

        consentgate keys revoke 3f9a1c2b7d4e
    """
    env = env_of(ctx)
    if not revoke_key(env.ledger(must_exist=True).engine, key_id):
        raise BadInput(f"no active key with id {key_id!r}; see `consentgate keys list`")
    env.out.print(f"revoked key {key_id}")


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")

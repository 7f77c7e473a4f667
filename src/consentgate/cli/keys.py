"""API keys for the HTTP service: ``keys create|list|revoke``. Only hashes are stored."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from consentgate.auth.apikeys import Scope, create_key, list_keys, revoke_key
from consentgate.cli._shared import env_of
from consentgate.errors import BadInput
from consentgate.ledger import signing
from consentgate.ledger.store import Ledger
from consentgate.store.engine import missing_sqlite_file

keys_app = typer.Typer(
    help="API keys for the HTTP service (clients send `Authorization: Bearer KEY`).\n\n"
    "Scopes: `collect` may get visitor ids and submit choices for them (it is public: it sits in every "
    "page with the banner; a subject token lets it act for a logged-in person, see `tokens issue`); "
    "`read` may read decisions, state and evidence; `admin` may do everything; `audit` may read "
    "reports and sign in to the operator console (`/console`), nothing that writes.\n\n"
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


@keys_app.command("ledger")
def ledger_key(
    ctx: typer.Context,
    key_file: Annotated[
        Path | None,
        typer.Option(
            "--key-file",
            metavar="FILE",
            help="Where the private key goes, e.g. `--key-file /etc/consentgate/ledger.key` "
            "(default: CONSENTGATE_LEDGER_KEY, else ledger.key beside a SQLite ledger).",
            show_default=False,
        ),
    ] = None,
    rotate: Annotated[
        bool,
        typer.Option(
            "--rotate",
            help="Replace an existing key, e.g. yearly or after a leak; its public key stays in the "
            ".pub file.",
        ),
    ] = False,
) -> None:
    """Create (or rotate) the ledger's Ed25519 key that seals every write.

    The private key (mode 0600) must not live in the database or be readable by those who administer
    it; the public key is appended to FILE with `.pub`: give that file to auditors for
    `ledger verify --public-key`. After a rotation it still verifies seals made with older keys.

    Example:

        consentgate keys ledger --key-file /etc/consentgate/ledger.key
    """
    env = env_of(ctx)
    configured = env.settings.ledger_key or signing.default_key_path(env.settings.db)
    path = key_file or configured
    if path is None:
        raise BadInput("where should the key go? pass --key-file FILE (PostgreSQL ledgers have no default)")
    signer = signing.create_key(path, rotate=rotate)
    if path == configured and not missing_sqlite_file(env.settings.db):
        # The ledger this key serves: seal it now, so its head is signed by the new key at once.
        with Ledger.open(env.settings.db, signer=signer) as ledger:
            ledger.seal()
    env.out.print(
        f"{'rotated' if rotate else 'created'} ledger key {signer.key_id}: private {path}, "
        f"public {path.with_suffix('.pub')}"
    )
    if path != configured:
        env.note(f"point the service at it: export CONSENTGATE_LEDGER_KEY={path}", style="yellow")

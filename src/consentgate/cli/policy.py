"""``policy check`` (validate and summarise) and ``policy schema`` (the JSON Schema for editors)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from consentgate.cli._shared import env_of
from consentgate.policy import Policy

policy_app = typer.Typer(
    help="Validate the policy and publish its schema.\n\n"
    "Example:\n\n    consentgate --policy policy.yaml policy check",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


def summary(policy: Policy, now: datetime) -> dict[str, Any]:
    """What a reviewer wants to see at a glance, plus things that deserve a second look."""
    notes: list[str] = []
    for v in policy.vendors:
        if v.self_training and not v.self_training_approved:
            notes.append(
                f"vendor {v.id} trains its own models (self_training: true) and no decision to allow it is "
                "recorded (self_training_approved); exports to it will be refused"
            )
    for n in policy.notices:
        if policy.current_version(n.id, now) is None:
            notes.append(
                f"notice {n.id} has no version in force yet; grants under it cannot be recorded today"
            )
    noticed = {p for n in policy.notices for p in n.purposes}
    for p in policy.purposes:
        if p.notice is not None and p.id not in noticed:
            notes.append(
                f"purpose {p.id} names notice {p.notice} but that notice does not list it under purposes"
            )
    return {
        "organization": policy.organization.name,
        "regions": {
            rid: {"countries": len(r.countries), "honour_gpc": r.honour_gpc}
            for rid, r in policy.regions.items()
        },
        "purposes": [
            {
                "id": p.id,
                "kind": p.kind.value,
                "notice": p.notice,
                "max_age_days": p.max_age_days,
                "basis": {k: v.value for k, v in p.basis.items()},
            }
            for p in policy.purposes
        ],
        "notices": [
            {
                "id": n.id,
                "versions": [v.label for v in policy.versions_of(n.id)],
                "current": (cur.label if (cur := policy.current_version(n.id, now)) else None),
                "locales": sorted({loc for v in n.versions for loc in v.text}),
            }
            for n in policy.notices
        ],
        "vendors": [v.id for v in policy.vendors],
        "sources": [s.id for s in policy.sources],
        "notes": notes,
    }


@policy_app.command("check")
def check(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON, e.g. for a CI step that diffs it.")
    ] = False,
) -> None:
    """Validate the policy file and summarise it; exit 1 with file, place and problem if it is invalid.

    Example:

        consentgate --policy policy.yaml policy check
    """
    env = env_of(ctx)
    policy = env.policy()
    info = summary(policy, datetime.now(UTC))
    if as_json:
        env.emit_json({"file": str(env.settings.policy), "valid": True, **info})
        return
    out = env.out
    out.print(Text(f"{env.settings.policy}: valid policy for {info['organization']}", style="green"))
    regions = ", ".join(f"{rid}{' (GPC)' if r['honour_gpc'] else ''}" for rid, r in info["regions"].items())
    out.print(f"regions: {regions}" if regions else 'regions: none (every code uses the "*" basis)')
    table = Table(title="purposes", title_justify="left")
    for column in ("id", "kind", "notice", "max age (days)", "basis per region"):
        table.add_column(column, overflow="fold")
    for p in info["purposes"]:
        basis = ", ".join(f"{k}={v}" for k, v in p["basis"].items())
        table.add_row(p["id"], p["kind"], p["notice"] or "", str(p["max_age_days"] or ""), basis)
    out.print(table)
    for n in info["notices"]:
        out.print(
            f"notice {n['id']}: versions {', '.join(n['versions'])}, in force now: v{n['current']}, "
            f"locales {', '.join(n['locales'])}"
        )
    out.print(
        f"vendors: {', '.join(info['vendors']) or 'none'}; sources: {', '.join(info['sources']) or 'none'}"
    )
    for note in info["notes"]:
        out.print(Text(f"note: {note}", style="yellow"))


@policy_app.command("schema")
def schema(
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="FILE",
            help="Write to FILE instead of stdout, e.g. `--out policy.schema.json` for editor validation.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Print the JSON Schema of the policy file (for editors and CI validation).

    Example:

        consentgate policy schema --out policy.schema.json
    """
    text = json.dumps(Policy.model_json_schema(), indent=2, ensure_ascii=False) + "\n"
    if out_file is None:
        typer.echo(text, nl=False)
    else:
        out_file.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out_file}", err=True)


def register(app: typer.Typer) -> None:
    app.add_typer(policy_app, name="policy")

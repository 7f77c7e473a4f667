"""``policy check`` (validate and summarise) and ``policy schema`` (the JSON Schema for editors)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from consentgate.cli._shared import env_of
from consentgate.policy import Policy
from consentgate.policy.lint import banner_locales, policy_warnings
from consentgate.policy.load import position
from consentgate.policy.schema import render
from consentgate.web.tcf.gvl import current_gvl, gvl_dir
from consentgate.web.tcf.stacks import require_fitting_stacks
from consentgate.web.tcf.used import used

policy_app = typer.Typer(
    help="Validate the policy and publish its schema.\n\n"
    "Example:\n\n    consentgate --policy policy.yaml policy check",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


EXIT_STRICT = 3  # policy check --strict: the policy loads but has warnings (1 stays "invalid", 2 "usage")


def summary(policy: Policy, now: datetime) -> dict[str, Any]:
    """What a reviewer wants to see at a glance; warnings come from :func:`policy_warnings`."""
    notes: list[str] = []
    for v in policy.vendors:
        if v.self_training and not v.self_training_approved:
            # Not a warning: the export guard refuses such a vendor, which is the safe outcome.
            notes.append(
                f"vendor {v.id} trains its own models (self_training: true) and no decision to allow it is "
                "recorded (self_training_approved); exports to it will be refused"
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
        "banner_locales": banner_locales(policy),
        "vendors": [v.id for v in policy.vendors],
        "sources": [s.id for s in policy.sources],
        "notes": notes,
    }


def located_warnings(policy: Policy, text: str, now: datetime) -> list[dict[str, Any]]:
    """The policy's warnings with the YAML line and column each points at."""
    out = []
    for w in policy_warnings(policy, now=now):
        line, column = position(text, w.loc)
        out.append({"code": w.code, "path": w.path, "line": line, "column": column, "message": w.message})
    return out


@policy_app.command("check")
def check(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON, e.g. for a CI step that diffs it.")
    ] = False,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Treat warnings as errors: exit 3 if there is any, e.g. in a CI step."),
    ] = False,
) -> None:
    """Validate the policy file, summarise it and warn about what is legal but probably wrong.

    Exit 0: valid (warnings, if any, are printed); 1: invalid, with file, line and problem;
    3: valid but with warnings under `--strict`.

    Example:

        consentgate --policy policy.yaml policy check --strict
    """
    env = env_of(ctx)
    policy = env.policy()
    stacks = require_fitting_stacks(policy.web.tcf, env.settings.tcf_gvl_dir)  # against the GVL served
    now = datetime.now(UTC)
    info = summary(policy, now)
    file = env.settings.policy
    warnings = located_warnings(policy, Path(file).read_text(encoding="utf-8"), now)
    failed = strict and bool(warnings)
    if as_json:
        env.emit_json({"file": str(file), "valid": True, "strict": strict, **info, "warnings": warnings})
        if failed:
            raise typer.Exit(EXIT_STRICT)
        return
    out = env.out
    count = f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''}"
    if failed:
        out.print(Text(f"{file}: loads, but --strict fails it on {count}", style="red"))
    else:
        with_warnings = f", with {count}" if warnings else ""
        out.print(Text(f"{file}: valid policy for {info['organization']}{with_warnings}", style="green"))
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
        current = f"v{n['current']}" if n["current"] is not None else "none yet"
        out.print(
            f"notice {n['id']}: versions {', '.join(n['versions'])}, in force now: {current}, "
            f"locales {', '.join(n['locales'])}"
        )
    out.print(f"banner locales: {', '.join(info['banner_locales'])}")
    if policy.web.tcf.enabled and policy.web.tcf.stacks:  # what auto chose, or the list as checked
        how = "auto" if policy.web.tcf.stacks == "auto" else "listed"
        chosen = ", ".join(f"{s.id} ({s.name})" for s in stacks) or "none fits"
        out.print(Text(f"TCF stacks on the first layer ({how}): {chosen}"))
    if policy.web.tcf.enabled:  # only what the disclosed vendors and the publisher use (docs/tcf.md)
        served = current_gvl(gvl_dir(env.settings.tcf_gvl_dir))
        shown = used(policy.web.tcf, served).choices()
        out.print(
            Text(f"TCF layers (GVL {served.vendorListVersion}) show, and Accept all consents to: {shown}")
        )
    out.print(
        f"vendors: {', '.join(info['vendors']) or 'none'}; sources: {', '.join(info['sources']) or 'none'}"
    )
    for note in info["notes"]:
        out.print(Text(f"note: {note}", style="yellow"))
    for w in warnings:
        where = f"{w['path']} (line {w['line']}, column {w['column']})" if w["line"] else w["path"]
        out.print(Text(f"warning [{w['code']}]: {where}: {w['message']}", style="yellow"))
    if failed:
        raise typer.Exit(EXIT_STRICT)


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
    text = render()
    if out_file is None:
        typer.echo(text, nl=False)
    else:
        out_file.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out_file}", err=True)

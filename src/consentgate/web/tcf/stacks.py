"""Which of the GVL's stacks the banner's first layer shows (``web.tcf.stacks``, docs/tcf.md "Stacks").

A stack is IAB's name and description for a set of purposes and special features; a first layer may
show it instead of naming them one by one. TCF policy (Appendix A, "Stacks") allows that only when no
purpose or special feature is in two stacks shown, none is shown both in a stack and on its own, and
the stacks hold only what the site's vendors and the publisher use (a stack must not disclose a
purpose nobody uses). The second layer still offers every purpose separately, and the texts stay
IAB's own, so TC strings keep ``UseNonStandardTexts`` 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path

from consentgate.errors import PolicyError
from consentgate.policy.tcf import TcfSettings
from consentgate.web.tcf.gvl import Gvl, GvlStack, current_gvl, gvl_dir
from consentgate.web.tcf.used import Used, used

WHERE = "web.tcf.stacks"


def shown_stacks(settings: TcfSettings, gvl: Gvl) -> list[GvlStack]:
    """The stacks the first layer shows under this policy and GVL, in the policy's order (``auto``:
    :func:`auto_stacks`). A list that breaks a rule above is a :class:`PolicyError` naming each stack
    to change; nothing is shown half right."""
    if settings.stacks == "auto":
        return auto_stacks(used(settings, gvl), gvl)
    return _checked(settings.stacks, used(settings, gvl), gvl)


def require_fitting_stacks(settings: TcfSettings, gvl_directory: Path | None) -> list[GvlStack]:
    """The stacks the first layer shows with the GVL served (none while TCF is off); a policy whose
    stacks it cannot show is refused, naming what to change. Checked when the service starts and by
    ``policy check``, so a visitor never meets a banner without its layers."""
    return shown_stacks(settings, current_gvl(gvl_dir(gvl_directory))) if settings.enabled else []


def _checked(ids: list[int], use: Used, gvl: Gvl) -> list[GvlStack]:
    problems: list[str] = []
    found: list[GvlStack] = []
    for sid in ids:
        stack = gvl.stacks.get(str(sid))
        if stack is None:
            have = ", ".join(sorted(gvl.stacks, key=int)) or "none"
            problems.append(
                f"stack {sid} is not in GVL {gvl.vendorListVersion} (its stacks: {have}); remove it, or "
                "serve a list that has it (consentgate tcf update-gvl)"
            )
            continue
        if len(_members(stack)) < 2:
            problems.append(
                f"stack {sid} ({stack.name}) holds fewer than two purposes and special features; a stack "
                "stands in for two or more (TCF policy): leave it out"
            )
        unused = [f"purpose {p}" for p in stack.purposes if p not in use.purposes] + [
            f"special feature {f}" for f in stack.specialFeatures if f not in use.special_features
        ]
        if unused:
            problems.append(
                f"stack {sid} ({stack.name}) holds {', '.join(unused)}, which no vendor the banner "
                "discloses (web.tcf.vendors) and not the publisher uses; choose a stack without "
                f"{'it' if len(unused) == 1 else 'them'}, or leave it out (its purposes are then listed "
                "one by one)"
            )
        for earlier in found:
            shared = _members(stack) & _members(earlier)
            if shared:
                both = ", ".join(f"{kind} {n}" for kind, n in sorted(shared))
                problems.append(
                    f"stacks {earlier.id} and {sid} both hold {both}; TCF lets a purpose or special "
                    "feature appear in one stack only: drop one of the two"
                )
        found.append(stack)
    if problems:
        raise PolicyError(
            f"{WHERE} does not fit GVL {gvl.vendorListVersion}: " + "; ".join(problems),
            problems=[(WHERE, p) for p in problems],
        )
    return found


def _items(purposes: Iterable[int], features: Iterable[int]) -> set[tuple[str, int]]:
    return {("purpose", p) for p in purposes} | {("special feature", f) for f in features}


def _members(stack: GvlStack) -> set[tuple[str, int]]:
    return _items(stack.purposes, stack.specialFeatures)


def auto_stacks(use: Used, gvl: Gvl) -> list[GvlStack]:
    """The stacks covering the most of what is used, without overlap; of those, the fewest stacks;
    of those, the lowest ids. Only stacks of two or more items that hold nothing unused qualify.

    An exact search, not a greedy pick: thirteen items (11 purposes, 2 special features) give at most
    8,192 covered sets, each visited once per item, so every packing of IAB's ~45 stacks is weighed.
    """
    items = sorted(
        {("purpose", p) for p in use.purposes} | {("special feature", f) for f in use.special_features}
    )
    bit = {item: 1 << i for i, item in enumerate(items)}
    candidates = [
        (sum(bit[m] for m in _members(stack)), stack)
        for stack in sorted(gvl.stacks.values(), key=lambda s: s.id)
        if len(_members(stack)) >= 2 and use.holds(stack)
    ]

    @cache
    def best(covered: int, index: int) -> tuple[int, tuple[int, ...]]:
        # (items left uncovered, chosen stack ids) for items[index:], given what is covered so far
        if index == len(items):
            return 0, ()
        mask = 1 << index
        if covered & mask:
            return best(covered, index + 1)
        skip = best(covered, index + 1)
        options = [(skip[0] + 1, skip[1])]
        for members, stack in candidates:
            if members & mask and not members & covered:
                rest = best(covered | members, index + 1)
                options.append((rest[0], tuple(sorted((stack.id, *rest[1])))))
        return min(options, key=lambda o: (o[0], len(o[1]), o[1]))

    chosen = best(0, 0)[1]
    return [gvl.stacks[str(sid)] for sid in chosen]

"""Cross-references inside a policy (ids named in one place must exist in another), each problem located.

Every problem carries a pydantic location down to the offending value (``purposes[0].notice``) or
mapping key (``purposes[0].basis.APAC``), so the loader can name its YAML line and column. All
problems are collected, not only the first: a reviewer fixes a file in one pass.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from consentgate.policy.terms import DEFAULT_REGION, Basis

# Error types whose location ends in a mapping *key* (not its value): the loader points at the key.
KEY_ERRORS = frozenset({"extra_forbidden", "unknown_key"})

Loc = tuple[str | int, ...]


def did_you_mean(word: str, known: Iterable[str], *, quote: str = "'") -> str:
    """``"; did you mean 'x'?"`` for the closest known word, else ``""`` (difflib's ratio >= 0.6)."""
    close = difflib.get_close_matches(word, list(known), n=1)
    return f"; did you mean {quote}{close[0]}{quote}?" if close else ""


def _hint(word: str, known: Iterable[str]) -> str:
    """The closest known id, else the list of known ids, so the message says what to write instead."""
    listed = sorted(known)
    return did_you_mean(word, listed) or f" (known: {', '.join(listed) if listed else 'none'})"


class _Problems:
    def __init__(self) -> None:
        self.details: list[InitErrorDetails] = []

    def add(self, kind: str, loc: Loc, message: str, value: Any) -> None:
        # The message is complete already; as a template it is left alone because there is no context.
        self.details.append(InitErrorDetails(type=PydanticCustomError(kind, message), loc=loc, input=value))

    def unique(self, collection: str, ids: list[str]) -> None:
        first: dict[str, int] = {}
        for i, item in enumerate(ids):
            if item in first:
                self.add(
                    "duplicate_id",
                    (collection, i, "id"),
                    f"id {item!r} appears twice (first at {collection}[{first[item]}])",
                    item,
                )
            else:
                first[item] = i

    def unknown_purposes(self, where: Loc, named: Sequence[str], purposes: set[str]) -> None:
        for j, pid in enumerate(named):
            if pid not in purposes:
                self.add(
                    "unknown_reference",
                    (*where, j),
                    f"{pid!r} is not a purpose id{_hint(pid, purposes)}",
                    pid,
                )


# What the check reads of a policy, as read-only protocols: ``models.Policy`` validates itself with
# this module, so naming the models here would make the two modules import each other.


class _Purpose(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def notice(self) -> str | None: ...
    @property
    def basis(self) -> Mapping[str, Basis]: ...


class _Version(Protocol):
    @property
    def version(self) -> int | str: ...
    @property
    def label(self) -> str: ...


class _Notice(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def purposes(self) -> Sequence[str]: ...
    @property
    def versions(self) -> Sequence[_Version]: ...


class _Recipient(Protocol):
    """A vendor or a source: an id and the purposes it names."""

    @property
    def id(self) -> str: ...
    @property
    def purposes(self) -> Sequence[str]: ...


class _Region(Protocol):
    @property
    def countries(self) -> Sequence[str]: ...


class _Web(Protocol):
    @property
    def consent_mode(self) -> Mapping[str, Any]: ...


class PolicyParts(Protocol):
    """The parts of a policy whose ids refer to each other (``models.Policy`` has them all)."""

    @property
    def purposes(self) -> Sequence[_Purpose]: ...
    @property
    def notices(self) -> Sequence[_Notice]: ...
    @property
    def vendors(self) -> Sequence[_Recipient]: ...
    @property
    def sources(self) -> Sequence[_Recipient]: ...
    @property
    def regions(self) -> Mapping[str, _Region]: ...
    @property
    def web(self) -> _Web: ...


def check_references(policy: PolicyParts) -> None:
    """Raise one ``ValidationError`` listing every dangling or duplicate id, each at its own location."""
    out = _Problems()
    purpose_ids = [p.id for p in policy.purposes]
    out.unique("purposes", purpose_ids)
    out.unique("notices", [n.id for n in policy.notices])
    out.unique("vendors", [v.id for v in policy.vendors])
    out.unique("sources", [s.id for s in policy.sources])
    notice_ids = {n.id for n in policy.notices}
    regions = set(policy.regions) | {DEFAULT_REGION}
    for i, p in enumerate(policy.purposes):
        for region in p.basis:
            if region not in regions:
                out.add(
                    "unknown_key",
                    ("purposes", i, "basis", region),
                    f"region {region!r} is not under 'regions'{_hint(region, regions)}",
                    region,
                )
        if p.notice is not None and p.notice not in notice_ids:
            out.add(
                "unknown_reference",
                ("purposes", i, "notice"),
                f"{p.notice!r} is not a notice id{_hint(p.notice, notice_ids)}",
                p.notice,
            )
        consent_in = [r for r, b in p.basis.items() if b is Basis.CONSENT]
        if consent_in and p.notice is None:
            out.add(
                "missing_notice",
                ("purposes", i),
                f"purpose {p.id} rests on consent (in {', '.join(consent_in)}) but names no notice; "
                "consent must be collected under a notice: add `notice: ID`",
                p.id,
            )
    purposes = set(purpose_ids)
    for i, n in enumerate(policy.notices):
        out.unknown_purposes(("notices", i, "purposes"), n.purposes, purposes)
        labels: set[str] = set()
        for j, version in enumerate(n.versions):
            if version.label in labels:
                out.add(
                    "duplicate_version",
                    ("notices", i, "versions", j, "version"),
                    f"version {version.label} of notice {n.id} appears twice; a new wording needs a new "
                    "label",
                    version.version,
                )
            labels.add(version.label)
    for i, v in enumerate(policy.vendors):
        out.unknown_purposes(("vendors", i, "purposes"), v.purposes, purposes)
    for i, s in enumerate(policy.sources):
        out.unknown_purposes(("sources", i, "purposes"), s.purposes, purposes)
    for pid in policy.web.consent_mode:
        if pid not in purposes:
            out.add(
                "unknown_key",
                ("web", "consent_mode", pid),
                f"{pid!r} is not a purpose id{_hint(pid, purposes)}",
                pid,
            )
    region_of: dict[str, str] = {}
    for rid, group in policy.regions.items():
        for j, code in enumerate(group.countries):
            if code in region_of:
                out.add(
                    "duplicate_code",
                    ("regions", rid, "countries", j),
                    f"{code} is in both {region_of[code]} and {rid}; a code belongs to one region",
                    code,
                )
            else:
                region_of[code] = rid
    if out.details:
        raise ValidationError.from_exception_data("Policy", out.details)

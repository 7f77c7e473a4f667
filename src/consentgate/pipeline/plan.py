"""The filter's semantics, shared by every engine: a plan made from a snapshot, and the counts.

A record is **kept** when all of these hold, and otherwise dropped for the *first* reason that
applies, in this order (so the counts add up to the records dropped):

1. ``suppressed`` — its subject is under an erasure suppression (:mod:`.suppression`);
2. ``not_allowed`` — its subject is not allowed for the purpose: the snapshot's decision for it, or,
   for an identifier the snapshot does not list, the decision for a person with no events (the
   purpose's ``"*"`` basis: consent → denied, opt_out / legitimate_interest / contract → allowed);
3. ``no_subject`` — it has no subject id (null or empty) and the no-subject setting says drop;
4. ``do_not_train`` — its flag column (``do_not_train`` by default) is true.

Subject ids are compared as strings (an integer column ``42`` matches identifier ``"42"``); a null
flag counts as false.

Engines never see the snapshot itself, only :class:`FilterPlan.exceptions`: the identifiers whose
verdict differs from the default. When the default is *allowed* those are the denied (and
suppressed) identifiers and the filter is an anti-join; when it is *denied* they are the allowed
ones and the filter is a semi-join. Either way one join against a small table, which is what a
hand-written filter would do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from enum import IntEnum, StrEnum
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from consentgate.errors import BadInput
from consentgate.pipeline.snapshot import Snapshot, SnapshotMeta
from consentgate.pipeline.suppression import SuppressionList
from consentgate.policy.models import Source

DEFAULT_FLAG_COLUMN = "do_not_train"
# Column names the engines add while filtering; chosen so they cannot clash with real data.
KEY_COL = "__consentgate_key"
VERDICT_COL = "__consentgate_verdict"
REASON_COL = "__consentgate_reason"

# ``(done rows, total rows or None)``: engines report progress through this, the CLI draws it.
ProgressFn = Callable[[int, int | None], None]


def no_progress(done: int, total: int | None) -> None:
    del done, total


class Verdict(IntEnum):
    """Per-record outcome; the codes engines compute (``KEEP`` = 0 so "kept" is one comparison)."""

    KEEP = 0
    SUPPRESSED = 1
    NOT_ALLOWED = 2
    NO_SUBJECT = 3
    DO_NOT_TRAIN = 4


REASONS = ("not_allowed", "do_not_train", "suppressed", "no_subject")


class NoSubject(StrEnum):
    """What to do with records that carry no subject id."""

    KEEP = "keep"
    DROP = "drop"
    AUTO = "auto"  # keep only if the source is declared ``personal: false`` in the policy


@dataclass(frozen=True, slots=True)
class Counts:
    """Records in, kept, and dropped per reason (each dropped record counted once)."""

    input: int
    kept: int
    not_allowed: int = 0
    do_not_train: int = 0
    suppressed: int = 0
    no_subject: int = 0

    @property
    def dropped(self) -> int:
        return self.not_allowed + self.do_not_train + self.suppressed + self.no_subject

    def to_json(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "kept": self.kept,
            "dropped": {r: getattr(self, r) for r in REASONS},
            "dropped_total": self.dropped,
        }

    @classmethod
    def from_verdicts(cls, by_code: dict[int, int]) -> Counts:
        """From ``{verdict code: records}`` as an engine's group-by returns it."""
        unknown = set(by_code) - {int(v) for v in Verdict}
        if unknown:
            raise RuntimeError(f"engine produced unknown verdict codes {sorted(unknown)}")
        return cls(
            input=sum(by_code.values()),
            kept=by_code.get(Verdict.KEEP, 0),
            not_allowed=by_code.get(Verdict.NOT_ALLOWED, 0),
            do_not_train=by_code.get(Verdict.DO_NOT_TRAIN, 0),
            suppressed=by_code.get(Verdict.SUPPRESSED, 0),
            no_subject=by_code.get(Verdict.NO_SUBJECT, 0),
        )

    @classmethod
    def settle(cls, *, total: int, kept: int, do_not_train: int, suppressed: int, no_subject: int) -> Counts:
        """When the kept rows were written in one pass and the rare reasons counted in a narrow second
        one: ``not_allowed`` is what remains. Exact, because the reasons are exclusive (first wins)."""
        not_allowed = total - kept - do_not_train - suppressed - no_subject
        if not_allowed < 0:
            raise RuntimeError(
                f"inconsistent counts: {total} in, {kept} kept, {do_not_train} do_not_train, "
                f"{suppressed} suppressed, {no_subject} no_subject (did the input change during the run?)"
            )
        return cls(total, kept, not_allowed, do_not_train, suppressed, no_subject)


@dataclass(frozen=True)
class FilterOptions:
    """How to read the records: which column names the subject, which carries the flag, and the
    no-subject rule. ``source`` is the policy's entry for where the data comes from."""

    subject_column: str
    flag_column: str = DEFAULT_FLAG_COLUMN
    flag_required: bool = False  # True when the caller named the flag column: it must exist
    no_subject: NoSubject = NoSubject.AUTO
    source: Source | None = None


@dataclass(frozen=True)
class FilterPlan:
    """Everything an engine needs, independent of the engine. Build it with :func:`make_plan`."""

    snapshot: SnapshotMeta
    subject_column: str
    flag_column: str | None  # None: the input has no flag column (nothing drops as do_not_train)
    keep_no_subject: bool
    no_subject_rule: str  # how keep_no_subject was decided, for the manifest
    default_allowed: bool
    exceptions: pa.Table  # KEY_COL (string), VERDICT_COL (int8): identifiers off the default
    suppression: SuppressionList | None = None
    suppressed_ids: frozenset[str] = field(default_factory=frozenset)
    flag_required: bool = False
    # Set by check_schema: lets SQL engines compare the raw columns (no casts), so Parquet
    # statistics can skip row groups (e.g. "no null or empty subject here").
    subject_is_string: bool = False
    flag_is_boolean: bool = False

    @property
    def default_verdict(self) -> Verdict:
        return Verdict.KEEP if self.default_allowed else Verdict.NOT_ALLOWED

    @property
    def needs_subject_scan(self) -> bool:
        """True when a suppression list must be matched against the input's subject ids first."""
        return self.suppression is not None and len(self.suppression) > 0

    def join_keys(self) -> pa.Table:
        """The one-column table (``KEY_COL``) the fast path joins against: semi-join when the default
        is denied (these are the allowed identifiers), anti-join when it is allowed (the others)."""
        exc = self.exceptions
        if not self.default_allowed:
            exc = exc.filter(pc.equal(exc.column(VERDICT_COL), int(Verdict.KEEP)))
        return exc.select([KEY_COL])

    def with_suppressed(self, identifiers: Iterable[str]) -> FilterPlan:
        """The plan with these identifiers (found in the input and on the suppression list) added as
        ``suppressed`` verdicts; they win over any decision."""
        found = frozenset(identifiers)
        if not found:
            return replace(self, suppressed_ids=frozenset())
        found_arr = pa.array(sorted(found), pa.string())
        rest = self.exceptions.filter(
            pc.invert(pc.is_in(self.exceptions.column(KEY_COL), value_set=found_arr))
        )
        added = pa.table(
            {KEY_COL: found_arr, VERDICT_COL: pa.array([int(Verdict.SUPPRESSED)] * len(found), pa.int8())}
        )
        return replace(self, exceptions=pa.concat_tables([rest, added]), suppressed_ids=found)

    def check_schema(self, schema: pa.Schema) -> FilterPlan:
        """Validate the input's columns; resolve an absent optional flag column to None."""
        names = schema.names
        if self.subject_column not in names:
            raise BadInput(
                f"the input has no subject column {self.subject_column!r}; "
                f"its columns are: {', '.join(names)}"
            )
        st = schema.field(self.subject_column).type
        if not (_is_string(st) or pa.types.is_integer(st) or pa.types.is_null(st)):
            raise BadInput(
                f"subject column {self.subject_column!r} must hold strings or integers, not {st} "
                "(pandas turns integer ids with gaps into floats: use the Int64 dtype)"
            )
        if self.flag_column is not None and self.flag_column in names:
            ft = schema.field(self.flag_column).type
            if not (pa.types.is_boolean(ft) or pa.types.is_integer(ft) or pa.types.is_null(ft)):
                raise BadInput(f"flag column {self.flag_column!r} must be boolean (or 0/1), not {ft}")
            return replace(self, subject_is_string=_is_string(st), flag_is_boolean=pa.types.is_boolean(ft))
        if self.flag_required:
            raise BadInput(
                f"the input has no flag column {self.flag_column!r}; its columns are: {', '.join(names)}"
            )
        return replace(self, flag_column=None, subject_is_string=_is_string(st))


def make_plan(
    snapshot: Snapshot, options: FilterOptions, suppression: SuppressionList | None = None
) -> FilterPlan:
    """Turn a snapshot into the exceptions table every engine joins against."""
    keep_no_subject, rule = resolve_no_subject(options.no_subject, options.source)
    table = snapshot.table
    meta = snapshot.meta
    # Rows whose decision differs from the default for unknown identifiers.
    off_default = pc.not_equal(table.column("allowed"), meta.default_allowed)
    exc = table.filter(off_default)
    allowed = exc.column("allowed")
    verdict = pc.if_else(allowed, int(Verdict.KEEP), int(Verdict.NOT_ALLOWED)).cast(pa.int8())
    exceptions = pa.table({KEY_COL: exc.column("key").cast(pa.string()), VERDICT_COL: verdict})
    return FilterPlan(
        snapshot=meta,
        subject_column=options.subject_column,
        flag_column=options.flag_column,
        keep_no_subject=keep_no_subject,
        no_subject_rule=rule,
        default_allowed=meta.default_allowed,
        exceptions=exceptions.combine_chunks(),
        suppression=suppression,
        flag_required=options.flag_required,
    )


def resolve_no_subject(setting: NoSubject, source: Source | None) -> tuple[bool, str]:
    """``auto`` keeps records without a subject only from a source the policy declares non-personal;
    an undeclared source (or none named) is treated as personal: dropping is the safe side."""
    if setting is NoSubject.KEEP:
        return True, "keep (--no-subject keep)"
    if setting is NoSubject.DROP:
        return False, "drop (--no-subject drop)"
    if source is None:
        return False, "drop (auto: no source named, so treated as personal)"
    if source.personal is False:
        return True, f"keep (auto: source {source.id!r} is declared personal: false)"
    declared = "declared personal: true" if source.personal else "not declared personal: false"
    return False, f"drop (auto: source {source.id!r} is {declared})"


def _is_string(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)) or (
        pa.types.is_dictionary(t) and _is_string(t.value_type)
    )

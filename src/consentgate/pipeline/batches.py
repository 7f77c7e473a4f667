"""What the training-run guard reads from a batch: its subject and flag columns, as Arrow.

A training loop hands the guard whatever its data loader yields. Accepted, without importing any
library the caller does not already use:

- ``pyarrow.Table`` / ``pyarrow.RecordBatch``, ``polars.DataFrame``, ``pandas.DataFrame``: only the
  two columns are taken (no copy of the text or tensors);
- a sequence or iterable of dicts (records as a PyTorch ``Dataset`` yields them): a missing key is a
  null value; a one-shot iterator is read into a list, which the guard hands back;
- a collated dict of columns, ``{"subject": [...], "do_not_train": [...], ...}`` (what PyTorch's
  ``default_collate`` makes of such records): lists, tuples, NumPy arrays or tensors (``.tolist()``).

Subject ids must be strings or integers (compared as their decimal text, as the filter does); flags
booleans or 0/1, null meaning false.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pyarrow as pa

from consentgate.errors import BadInput

ACCEPTED = (
    "a pyarrow Table or RecordBatch, a Polars or pandas DataFrame, a list (or iterable) of dicts, or a "
    "collated dict of columns"
)


def columns_of(batch: Any, subject_column: str, flag_column: str | None) -> tuple[pa.Table, Any]:
    """``(table, batch)``: the batch's subject and flag columns (those present) as an Arrow table, and
    the batch to hand back to the caller (the same object, or a list when it was a one-shot iterator).
    A batch without the subject column is :class:`BadInput`; column types are checked by the plan."""
    wanted = [subject_column] if flag_column is None else [subject_column, flag_column]
    if isinstance(batch, pa.RecordBatch):
        _has_subject(batch.schema.names, subject_column)
        return _select(pa.Table.from_batches([batch]), wanted), batch
    if isinstance(batch, pa.Table):
        _has_subject(batch.column_names, subject_column)
        return _select(batch, wanted), batch
    top = type(batch).__module__.split(".", 1)[0]
    if top == "polars" and hasattr(batch, "to_arrow") and hasattr(batch, "select"):
        present = [c for c in wanted if c in _has_subject(batch.columns, subject_column)]
        return _arrow(batch.select(present).to_arrow()), batch
    if top == "pandas" and hasattr(batch, "columns") and hasattr(batch, "iloc"):
        present = [c for c in wanted if c in _has_subject(list(batch.columns), subject_column)]
        return _arrow(pa.Table.from_pandas(batch[present], preserve_index=False)), batch
    if isinstance(batch, Mapping):
        return _collated(batch, subject_column, flag_column), batch
    if isinstance(batch, str | bytes) or not isinstance(batch, Iterable):
        raise BadInput(f"cannot check a {type(batch).__module__}.{type(batch).__name__}; pass {ACCEPTED}")
    rows = batch if isinstance(batch, Sequence) else list(batch)
    return _records(rows, subject_column, flag_column), rows


# -- internals -------------------------------------------------------------------------------------


def _has_subject(names: list[str], subject_column: str) -> list[str]:
    if subject_column not in names:
        shown = ", ".join(map(str, names[:20])) + (", …" if len(names) > 20 else "")
        raise BadInput(f"the batch has no subject column {subject_column!r}; its columns are: {shown}")
    return names


def _select(table: pa.Table, wanted: list[str]) -> pa.Table:
    return table.select([c for c in wanted if c in table.column_names])


def _arrow(table: pa.Table) -> pa.Table:
    return table.replace_schema_metadata(None)


def _collated(batch: Mapping[Any, Any], subject_column: str, flag_column: str | None) -> pa.Table:
    if subject_column not in batch:
        keys = ", ".join(map(str, list(batch)[:20]))
        raise BadInput(f"the batch has no subject column {subject_column!r}; its keys are: {keys}")
    subjects = _column_values(batch[subject_column], subject_column)
    cols: dict[str, pa.Array] = {subject_column: _subject_array(subjects, subject_column)}
    if flag_column is not None and flag_column in batch:
        flags = _column_values(batch[flag_column], flag_column)
        if len(flags) != len(subjects):
            raise BadInput(
                f"column {flag_column!r} has {len(flags)} values but {subject_column!r} has {len(subjects)}"
            )
        cols[flag_column] = _flag_array(flags, flag_column)
    return pa.table(cols)


def _records(rows: Sequence[Any], subject_column: str, flag_column: str | None) -> pa.Table:
    subjects: list[Any] = []
    flags: list[Any] = []
    has_subject = has_flag = False
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise BadInput(f"record {i} of the batch is a {type(row).__name__}, not a dict; pass {ACCEPTED}")
        if subject_column in row:
            has_subject = True
        subjects.append(row.get(subject_column))
        if flag_column is not None:
            if flag_column in row:
                has_flag = True
            flags.append(row.get(flag_column))
    if rows and not has_subject:
        first = rows[0]
        keys = ", ".join(map(str, list(first)[:20]))
        raise BadInput(f"no record of the batch has the subject column {subject_column!r}; keys: {keys}")
    cols: dict[str, pa.Array] = {subject_column: _subject_array(subjects, subject_column)}
    if flag_column is not None and has_flag:
        cols[flag_column] = _flag_array(flags, flag_column)
    return pa.table(cols)


def _column_values(values: Any, name: str) -> list[Any]:
    if hasattr(values, "tolist"):  # NumPy arrays, PyTorch tensors
        values = values.tolist()
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise BadInput(f"column {name!r} of the collated batch must be a list or array of values")
    return list(values)


def _scalar(v: Any) -> Any:
    """NumPy scalars and 0-d tensors as Python values (``np.int64(7)`` → ``7``)."""
    return v.item() if hasattr(v, "item") and not isinstance(v, str | bytes) else v


def _subject_array(values: list[Any], name: str) -> pa.Array:
    out: list[str | None] = []
    for i, raw in enumerate(values):
        v = _scalar(raw)
        if v is None or isinstance(v, str):
            out.append(v)
        elif isinstance(v, int) and not isinstance(v, bool):
            out.append(str(v))
        else:
            raise BadInput(
                f"record {i}: subject column {name!r} holds a {type(v).__name__}; subject ids "
                "must be strings or integers"
            )
    return pa.array(out, pa.string())


def _flag_array(values: list[Any], name: str) -> pa.Array:
    out: list[bool | None] = []
    for i, raw in enumerate(values):
        v = _scalar(raw)
        if v is None or isinstance(v, bool):
            out.append(v)
        elif isinstance(v, int) and v in (0, 1):
            out.append(bool(v))
        else:
            raise BadInput(f"record {i}: flag column {name!r} must be true/false (or 0/1), not {v!r:.40}")
    return pa.array(out, pa.bool_())


class SubjectBatch:
    """A batch as a worker process hands it to the training loop: the model's ``data`` (tensors, with
    no subject ids in them) and, beside it, the ``subjects`` (and ``do_not_train`` ``flags``, if the
    data has them) of its records in order.

    Workers only carry the ids; the run in the training process checks and records them when the
    training step takes the batch (``run.check`` / ``run.guard``), so a batch prefetched and never
    trained on is never counted. Picklable (it crosses the worker queue); no library needed.
    """

    __slots__ = ("data", "flags", "subjects")

    def __init__(self, data: Any, subjects: Sequence[Any], flags: Sequence[Any] | None = None) -> None:
        if flags is not None and len(flags) != len(subjects):
            raise BadInput(f"a batch of {len(subjects)} subjects came with {len(flags)} flags")
        self.data = data
        self.subjects = list(subjects)
        self.flags = None if flags is None else list(flags)

    def __getstate__(self) -> tuple[Any, list[Any], list[Any] | None]:
        return self.data, self.subjects, self.flags

    def __setstate__(self, state: tuple[Any, list[Any], list[Any] | None]) -> None:
        self.data, self.subjects, self.flags = state

    def __len__(self) -> int:
        return len(self.subjects)

    def __repr__(self) -> str:
        return f"SubjectBatch({len(self.subjects)} records)"

    def pin_memory(self, device: Any = None) -> SubjectBatch:
        """What a ``DataLoader(pin_memory=True)`` calls on an object it does not know: the tensors in
        ``data`` pinned by PyTorch's own recursion (dicts, lists, tuples), the ids left as they are.
        Without it the loader would hand the batch over unpinned, without a word."""
        from torch.utils.data._utils.pin_memory import pin_memory  # the loader's own function

        pinned = pin_memory(self.data, device)  # type: ignore[no-untyped-call]  # torch leaves it untyped
        return SubjectBatch(pinned, self.subjects, self.flags)

    def table(self, subject_column: str, flag_column: str | None) -> pa.Table:
        """The ids (and flags) as the guard checks them, under the run's column names."""
        columns = {subject_column: _subject_array(self.subjects, subject_column)}
        if flag_column is not None and self.flags is not None:
            columns[flag_column] = _flag_array(self.flags, flag_column)
        return pa.table(columns)

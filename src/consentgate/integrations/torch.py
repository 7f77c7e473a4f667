"""PyTorch: subject ids travel beside the tensors from DataLoader workers to the guarded loop.

::

    from torch.utils.data import DataLoader
    from consentgate.integrations.torch import SubjectCollate

    loader = DataLoader(records, batch_size=64, num_workers=2,
                        collate_fn=SubjectCollate(subject_column="user_id"))
    with consentgate.TrainingRun("train_support_chatbot", model="bot-v8", dataset="chats/",
                                 options=FilterOptions(subject_column="user_id")) as run:
        for batch in run.guard(loader):          # tensors only; ids checked and recorded here
            loss = model(**batch).loss

A worker (``fork`` or ``spawn``) never checks or records: :class:`SubjectCollate` takes the subject
(and ``do_not_train``) out of each record, collates the rest with the inner ``collate_fn`` and returns
a :class:`~consentgate.pipeline.batches.SubjectBatch`. The run checks it when the loop takes it, so
a withdrawal recorded while batches were prefetched still stops the run before that batch is
trained on, and a prefetched batch the loop never took is not counted as used.

Datasets whose items are not dicts (a ``TensorDataset``'s tuples) name their subjects beside them:
:class:`SubjectDataset` (map-style, a parallel sequence of ids) and :class:`SubjectIterableDataset`
(a function from item to id) yield :class:`Tagged` items that :class:`SubjectCollate` understands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from consentgate.errors import BadInput, MissingExtra
from consentgate.pipeline.batches import SubjectBatch
from consentgate.pipeline.plan import DEFAULT_FLAG_COLUMN

try:
    import torch.utils.data as tud
except ImportError as exc:  # pragma: no cover - exercised where torch is not installed
    raise MissingExtra("the PyTorch integration", ["torch"], "torch") from exc

__all__ = ["SubjectBatch", "SubjectCollate", "SubjectDataset", "SubjectIterableDataset", "Tagged"]


class Tagged(NamedTuple):
    """A dataset item with its subject id (and ``do_not_train`` flag) beside it."""

    item: Any
    subject: str | int | None
    flag: bool | None = None


class SubjectCollate:
    """A ``collate_fn`` that keeps subject ids out of the tensors and hands them to the guard.

    Records are dicts (the subject and flag keys are taken out) or :class:`Tagged` items. The rest is
    collated by ``collate_fn`` (default: PyTorch's ``default_collate``). Picklable, so it works under
    the ``spawn`` start method.
    """

    def __init__(
        self,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        *,
        subject_column: str = "subject",
        flag_column: str | None = DEFAULT_FLAG_COLUMN,
    ) -> None:
        self.collate_fn = collate_fn if collate_fn is not None else tud.default_collate
        self.subject_column = subject_column
        self.flag_column = flag_column

    def __call__(self, records: Sequence[Any]) -> SubjectBatch:
        items: list[Any] = []
        subjects: list[Any] = []
        flags: list[Any] = []
        for i, rec in enumerate(records):
            if isinstance(rec, Tagged):
                items.append(rec.item)
                subjects.append(rec.subject)
                flags.append(rec.flag)
            elif isinstance(rec, Mapping):
                if self.subject_column not in rec:
                    raise BadInput(
                        f"record {i} of the batch has no {self.subject_column!r} key; pass "
                        "SubjectCollate(subject_column=...) the key that holds the subject id"
                    )
                rest = dict(rec)
                subjects.append(rest.pop(self.subject_column))
                flags.append(rest.pop(self.flag_column, None) if self.flag_column else None)
                items.append(rest)
            else:
                raise BadInput(
                    f"record {i} of the batch is a {type(rec).__name__}; SubjectCollate needs dicts with "
                    f"a {self.subject_column!r} key, or items wrapped by SubjectDataset / "
                    "SubjectIterableDataset"
                )
        has_flags = any(f is not None for f in flags)
        return SubjectBatch(self.collate_fn(items), subjects, flags if has_flags else None)


class SubjectDataset(tud.Dataset[Tagged]):
    """A map-style dataset whose items come with their subject: ``subjects[i]`` is item ``i``'s id
    (``flags[i]`` its ``do_not_train`` flag, when given)."""

    def __init__(
        self,
        dataset: Any,
        subjects: Sequence[str | int | None],
        flags: Sequence[bool | None] | None = None,
    ) -> None:
        if len(subjects) != len(dataset):
            raise BadInput(f"the dataset has {len(dataset)} items but {len(subjects)} subject ids were given")
        if flags is not None and len(flags) != len(subjects):
            raise BadInput(f"{len(subjects)} subject ids came with {len(flags)} do_not_train flags")
        self.dataset = dataset
        self.subjects = list(subjects)
        self.flags = None if flags is None else list(flags)

    def __len__(self) -> int:
        return len(self.subjects)

    def __getitem__(self, index: int) -> Tagged:
        flag = None if self.flags is None else self.flags[index]
        return Tagged(self.dataset[index], self.subjects[index], flag)


class SubjectIterableDataset(tud.IterableDataset[Tagged]):
    """An iterable dataset whose items come with their subject: ``subject_of(item)`` (and
    ``flag_of(item)``) name them. Sharding across workers is the wrapped dataset's business, as
    without the wrapper."""

    def __init__(
        self,
        dataset: Any,
        subject_of: Callable[[Any], str | int | None],
        flag_of: Callable[[Any], bool | None] | None = None,
    ) -> None:
        self.dataset = dataset
        self.subject_of = subject_of
        self.flag_of = flag_of

    def __iter__(self) -> Iterator[Tagged]:
        for item in self.dataset:
            yield Tagged(item, self.subject_of(item), None if self.flag_of is None else self.flag_of(item))

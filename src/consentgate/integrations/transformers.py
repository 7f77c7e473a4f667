"""``transformers``: a ``TrainerCallback`` that checks every training step and records checkpoints.

::

    from consentgate.integrations.hf import filter_dataset, with_subject_index
    from consentgate.integrations.transformers import ConsentCallback

    train = filter_dataset(tokenized, snapshot, FilterOptions(subject_column="user_id")).data
    train, subjects, flags = with_subject_index(train, subject_column="user_id")
    with consentgate.TrainingRun("train_support_chatbot", model="bot-v8", dataset="chats/",
                                 options=FilterOptions(subject_column="user_id")) as run:
        trainer = Trainer(model=model, args=args, train_dataset=train,
                          callbacks=[ConsentCallback(run, subjects, flags)])
        trainer.train()

How the subject reaches the step. ``Trainer`` drops every column its model's ``forward`` does not
name (``remove_unused_columns``, on by default), and Accelerate moves tensors, not strings. So the
subject travels as an integer column, :data:`~consentgate.integrations.hf.SUBJECT_INDEX` (row ``i``
→ ``subjects[i]``), through the DataLoader workers like any feature. When the Trainer is built, the
callback wraps the model's ``forward`` in the training process: the wrapper's signature names the
column (so the Trainer keeps it), and each call in training mode takes the column out, checks the
micro-batch's subjects with the run (refreshing first: a check before every step is the default)
and only then calls the model. So a batch counts as used when the model trains on it, never when a
worker prefetched it, and the model never sees the column.

A record that may not be used raises :class:`~consentgate.errors.ConsentViolation` out of
``trainer.train()`` before the model sees the batch (a hard stop, as the guard always is); the run's
record says ``stopped_by_violation`` with the violation. ``on_save`` records each checkpoint with
``run.checkpoint`` — the checkpoints that hold a person's data, for ``consentgate runs --subject``.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Sequence
from typing import Any

from consentgate.errors import BadInput, MissingExtra
from consentgate.integrations.hf import SUBJECT_INDEX
from consentgate.pipeline.batches import SubjectBatch
from consentgate.pipeline.training import TrainingRun

try:
    from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments
except ImportError as exc:  # pragma: no cover - exercised where transformers is not installed
    raise MissingExtra("the transformers integration", ["transformers"], "hf") from exc

__all__ = ["ConsentCallback"]

_WRAPPED = "_consentgate_guarded"


class ConsentCallback(TrainerCallback):
    """Check every micro-batch the Trainer trains on against ``run``; record checkpoints.

    ``subjects[i]`` (and ``flags[i]``, the ``do_not_train`` flag) belong to the row whose
    ``column`` value is ``i`` (:func:`~consentgate.integrations.hf.with_subject_index` makes both).
    """

    def __init__(
        self,
        run: TrainingRun,
        subjects: Sequence[str | None],
        flags: Sequence[bool | None] | None = None,
        *,
        column: str = SUBJECT_INDEX,
    ) -> None:
        if flags is not None and len(flags) != len(subjects):
            raise BadInput(f"{len(subjects)} subjects came with {len(flags)} do_not_train flags")
        self.run = run
        self.subjects = list(subjects)
        self.flags = None if flags is None else list(flags)
        self.column = column

    # -- Trainer events --------------------------------------------------------------------------

    def on_init_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        model = kwargs.get("model")
        if model is None:
            raise BadInput("ConsentCallback needs the Trainer's model (pass model= to Trainer)")
        self._guard_forward(model)

    def on_step_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if self.run.status != "running":
            control.should_training_stop = True  # the run is over (stopped, or left): train no more

    def on_save(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        # The Trainer's own folder name (PREFIX_CHECKPOINT_DIR), saved just before this event.
        self.run.checkpoint(os.path.join(args.output_dir or ".", f"checkpoint-{state.global_step}"))

    # -- the check -------------------------------------------------------------------------------

    def check(self, codes: Any) -> None:
        """Check the rows ``codes`` (the column's values in a micro-batch) with the run."""
        rows = codes.tolist() if hasattr(codes, "tolist") else list(codes)
        if any(isinstance(r, list) for r in rows):
            raise BadInput(f"column {self.column!r} must hold one integer per record, not a sequence")
        try:
            subjects = [self.subjects[int(r)] for r in rows]
            flags = None if self.flags is None else [self.flags[int(r)] for r in rows]
        except IndexError:
            raise BadInput(
                f"column {self.column!r} holds a row number beyond the {len(self.subjects)} subjects "
                "given: make the dataset and the subjects with the same with_subject_index call"
            ) from None
        self.run.check(SubjectBatch(None, subjects, flags))

    def _guard_forward(self, model: Any) -> None:
        if getattr(model, _WRAPPED, False):
            raise BadInput("the model is already guarded by a ConsentCallback; add one callback per Trainer")
        original = model.forward
        column = self.column

        @functools.wraps(original)
        def forward(*args: Any, **kwargs: Any) -> Any:
            codes = kwargs.pop(column, None)
            if codes is not None and model.training:
                self.check(codes)
            return original(*args, **kwargs)

        forward.__signature__ = _with_column(inspect.signature(original), column)  # type: ignore[attr-defined]
        model.forward = forward
        setattr(model, _WRAPPED, True)


def _with_column(sig: inspect.Signature, column: str) -> inspect.Signature:
    """``sig`` plus a keyword-only ``column`` (before any ``**kwargs``): what the Trainer reads to
    decide which dataset columns to keep."""
    params = list(sig.parameters.values())
    extra = inspect.Parameter(column, inspect.Parameter.KEYWORD_ONLY, default=None)
    tail = [p for p in params if p.kind is inspect.Parameter.VAR_KEYWORD]
    head = [p for p in params if p.kind is not inspect.Parameter.VAR_KEYWORD]
    return sig.replace(parameters=[*head, extra, *tail])

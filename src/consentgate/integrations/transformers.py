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

**A record that may not be used stops training cleanly** (``on_violation="stop"``, the default): the
refused micro-batch never reaches the model — the guarded ``forward`` returns a loss of zero that no
parameter depends on, so backward gives it no gradient — and neither does any later micro-batch. At
the end of that optimizer step the callback sets ``control.should_training_stop``: the step applies
only the gradients of the micro-batches checked before the refused one (with gradient accumulation,
those of the same step; none at all when the refused one came first, and then the optimizer skips
every parameter, whose gradients are unset). So the run's record of subjects is exactly the data the
weights were trained on. ``trainer.train()`` returns normally, after ``on_train_end`` and any
checkpoint the Trainer saves at that step (recorded like every other); a
:class:`~consentgate.errors.TrainingStoppedWarning` says why, ``callback.violation`` and
``run.violation`` hold the :class:`~consentgate.errors.ConsentViolation`, and the run is stored as
``stopped_by_violation`` with it. With a label smoother or a ``compute_loss_func``, the Trainer asks
the refused output for logits it does not have: the violation is raised out of ``trainer.train()``
then, as with ``on_violation="raise"`` (the old hard stop). ``on_save`` records each checkpoint with
``run.checkpoint`` — the checkpoints that hold a person's data, for ``consentgate runs --subject``.
"""

from __future__ import annotations

import functools
import inspect
import os
import warnings
from collections.abc import Sequence
from typing import Any, Literal

from consentgate.errors import BadInput, ConsentViolation, MissingExtra, TrainingStoppedWarning
from consentgate.integrations.hf import SUBJECT_INDEX
from consentgate.pipeline.batches import SubjectBatch
from consentgate.pipeline.training import TrainingRun

try:
    import torch
    from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments
except ImportError as exc:  # pragma: no cover - exercised where transformers is not installed
    raise MissingExtra("the transformers integration", ["transformers"], "hf") from exc

__all__ = ["ConsentCallback"]

_WRAPPED = "_consentgate_guarded"
OnViolation = Literal["stop", "raise"]


class ConsentCallback(TrainerCallback):
    """Check every micro-batch the Trainer trains on against ``run``; record checkpoints.

    ``subjects[i]`` (and ``flags[i]``, the ``do_not_train`` flag) belong to the row whose
    ``column`` value is ``i`` (:func:`~consentgate.integrations.hf.with_subject_index` makes both).
    ``on_violation``: ``"stop"`` ends training cleanly at the refused micro-batch (the module
    docstring says how), ``"raise"`` raises the :class:`ConsentViolation` out of ``trainer.train()``.
    """

    def __init__(
        self,
        run: TrainingRun,
        subjects: Sequence[str | None],
        flags: Sequence[bool | None] | None = None,
        *,
        column: str = SUBJECT_INDEX,
        on_violation: OnViolation = "stop",
    ) -> None:
        if flags is not None and len(flags) != len(subjects):
            raise BadInput(f"{len(subjects)} subjects came with {len(flags)} do_not_train flags")
        if on_violation not in ("stop", "raise"):
            raise BadInput(f"on_violation must be 'stop' or 'raise', not {on_violation!r}")
        self.run = run
        self.subjects = list(subjects)
        self.flags = None if flags is None else list(flags)
        self.column = column
        self.on_violation = on_violation
        self.violation: ConsentViolation | None = None  # what stopped training, once something has
        self._step = 0  # the optimizer step in progress (1-based), for the message

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
        self._step = state.global_step + 1
        if self.run.status != "running" or self.violation is not None:
            control.should_training_stop = True  # the run is over (stopped, or left): train no more

    def on_pre_optimizer_step(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        # The Trainer looks at should_training_stop after each micro-batch, but steps the optimizer
        # first at the end of an accumulation window: set here, this step applies what was checked
        # before the refusal and nothing after it. Set at the refusal, a refusal in the middle of a
        # window would drop the gradients of micro-batches the record already lists as used.
        if self.violation is not None:
            control.should_training_stop = True

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
            if not model.training:
                return original(*args, **kwargs)  # evaluation and generation: nothing is trained on
            if self.violation is not None and self.on_violation == "stop":
                return _refused(model, self.violation)  # training ends at this step; nothing reaches it
            if codes is None:
                raise BadInput(
                    f"the training batch has no {column!r} column, so its subjects cannot be checked: "
                    "make the train dataset with with_subject_index (and keep its column in a custom "
                    "data collator)"
                )
            try:
                self.check(codes)
            except ConsentViolation as exc:
                self.violation = exc
                if self.on_violation == "raise":
                    raise
                self._say_stopped(exc)
                return _refused(model, exc)
            return original(*args, **kwargs)

        forward.__signature__ = _with_column(inspect.signature(original), column)  # type: ignore[attr-defined]
        model.forward = forward
        setattr(model, _WRAPPED, True)

    def _say_stopped(self, exc: ConsentViolation) -> None:
        warnings.warn(
            f"training stopped at optimizer step {self._step} of run {self.run.run_id}: the micro-batch "
            f"refused was not trained on, and nothing after it is. {exc.message}. The violation is in "
            "the run's record (run.violation, callback.violation, `consentgate runs`)",
            TrainingStoppedWarning,
            stacklevel=3,
        )


class _RefusedOutput(dict[str, Any]):
    """What the guarded ``forward`` returns instead of calling the model: the Trainer reads
    ``outputs["loss"]`` and backpropagates it. Anything else (logits, for a label smoother or a
    ``compute_loss_func``) was never computed: asking for it raises the violation, so no loss is ever
    made up from data that was refused."""

    def __init__(self, data: Any = (), violation: ConsentViolation | None = None) -> None:
        super().__init__(data)
        self.violation = violation

    def __getitem__(self, key: Any) -> Any:
        if key in ("loss", 0):
            return super().__getitem__("loss")
        raise self._refusal(key)

    def __getattr__(self, name: str) -> Any:
        if name == "loss":
            return self["loss"]
        if name.startswith("__") or name == "violation":
            raise AttributeError(name)
        raise self._refusal(name)

    def _refusal(self, what: Any) -> Exception:
        return self.violation if self.violation is not None else KeyError(what)


def _refused(model: Any, violation: ConsentViolation) -> _RefusedOutput:
    """A loss of zero computed from a leaf of its own: backward gives no parameter a gradient. Not the
    leaf itself: the Trainer scales the loss in place, which autograd refuses on a leaf."""
    device = next((p.device for p in model.parameters()), None)
    loss = torch.zeros((), device=device, requires_grad=True).clone()
    return _RefusedOutput({"loss": loss}, violation)


def _with_column(sig: inspect.Signature, column: str) -> inspect.Signature:
    """``sig`` plus a keyword-only ``column`` (before any ``**kwargs``): what the Trainer reads to
    decide which dataset columns to keep."""
    params = list(sig.parameters.values())
    extra = inspect.Parameter(column, inspect.Parameter.KEYWORD_ONLY, default=None)
    tail = [p for p in params if p.kind is inspect.Parameter.VAR_KEYWORD]
    head = [p for p in params if p.kind is not inspect.Parameter.VAR_KEYWORD]
    return sig.replace(parameters=[*head, extra, *tail])

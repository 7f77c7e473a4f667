"""The guard and the filter where ML teams train: PyTorch (``integrations.torch``), Hugging Face
``datasets`` (``integrations.hf``) and ``transformers`` (``integrations.transformers``).

Each module needs its extra (``pip install 'consentgate[torch]'`` / ``'consentgate[hf]'``) and says so
with :class:`~consentgate.errors.MissingExtra` when it is missing; importing this package needs none.
The rule they share: workers only carry subject ids beside the data; the run in the training process
checks and records a batch when the training step takes it.
"""

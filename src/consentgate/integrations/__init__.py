"""Glue to the tools ML teams train and track with: PyTorch (``integrations.torch``), Hugging Face
``datasets`` (``integrations.hf``) and ``transformers`` (``integrations.transformers``), OpenLineage
(``integrations.openlineage``) and MLflow (``integrations.mlflow``).

Each module needs its extra (``pip install 'consentgate[torch]'`` / ``'consentgate[hf]'`` /
``'consentgate[lineage]'``) and says so with :class:`~consentgate.errors.MissingExtra` when it is
missing; importing this package needs none. The rule the training ones share: workers only carry
subject ids beside the data; the run in the training process checks and records a batch when the
training step takes it.
"""

"""The defaults every entry point shares, importable without pydantic: the CLI declares its global
options with them before it knows whether a command will run (``--version`` and ``--help`` stop
before any settings are built)."""

DEFAULT_DB = "consentgate.db"
DEFAULT_POLICY = "policy.yaml"

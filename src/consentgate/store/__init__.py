"""Storage of the areas outside the ledger: each module owns its tables and their SQL."""

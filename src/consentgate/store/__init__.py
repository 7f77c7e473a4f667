"""Storage objects: the SQL of each area behind a few methods (the ledger's own stays in ledger/)."""

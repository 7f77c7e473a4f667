"""Reports over the ledger and the policy: consent rates, risk, audit packs (docs/console.md)."""

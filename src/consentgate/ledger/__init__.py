"""The append-only, hash-chained consent ledger and its evidence."""

from consentgate.ledger.events import Action, ConsentEvent

__all__ = ["Action", "ConsentEvent"]

"""Liveness with proof of storage: the ledger head is read from the database on every call."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from consentgate.server.deps import Service
from consentgate.server.errors import COMMON_RESPONSES

router = APIRouter(tags=["health"])


class LedgerHead(BaseModel):
    seq: int
    hash: str


class Health(BaseModel):
    status: str
    ledger: LedgerHead


@router.get(
    "/healthz", summary="Is the service up and its ledger readable?", responses={503: COMMON_RESPONSES[503]}
)
def healthz(service: Service) -> Health:
    seq, head = service.ledger.head()
    return Health(status="ok", ledger=LedgerHead(seq=seq, hash=head))

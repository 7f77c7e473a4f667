"""Liveness with proof of storage, and whether the ledger can be trusted (server/chain.py).

The ledger head is read from the database on every call (one row, over a connection kept for it:
server/readcache.py), in the event loop, without the thread pool. 200 means the database answers *and* the
service's latest chain check found it intact; 503 says why not: ``verifying`` (the start-up check has
not finished) or ``ledger_broken`` (with the first bad event), so a load balancer sends no traffic to
a server that would refuse every write.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from consentgate.server.deps import ServerState, server_state

router = APIRouter(tags=["health"])
_STATUS = {"intact": "ok", "unverified": "verifying", "broken": "ledger_broken"}


class LedgerHead(BaseModel):
    seq: int
    hash: str


class ChainCheck(BaseModel):
    state: str = Field(description="intact, broken, or unverified (the first check is running).")
    intact: bool | None
    checked_events: int
    checked_at: str | None = Field(description="When the latest check finished; null before the first.")
    first_bad: dict[str, Any] | None = Field(
        default=None, description="Where the chain breaks: {seq, event_id, problem}; only when broken."
    )


class Health(BaseModel):
    status: str = Field(description="ok, verifying or ledger_broken.")
    ledger: LedgerHead
    chain: ChainCheck


@router.get(
    "/healthz",
    summary="Is the service up, its ledger readable and its hash chain intact?",
    responses={503: {"model": Health, "description": "Verifying the chain after start-up, or it is broken"}},
    response_model=Health,
)
async def healthz(request: Request) -> Response:
    return await health_answer(server_state(request))


async def health_answer(state: ServerState) -> Response:
    """The answer of ``/healthz``; also served by the hot path (server/hotpath.py)."""
    seq, head = (await state.heads.read())[:2]  # from the database, over the probe's own connection
    chain = await state.chain.current()
    body = Health(
        status=_STATUS[chain.state],
        ledger=LedgerHead(seq=seq, hash=head),
        chain=ChainCheck(**chain.to_json()),
    )
    status = 200 if chain.state == "intact" else 503
    return Response(body.model_dump_json(), status_code=status, media_type="application/json")

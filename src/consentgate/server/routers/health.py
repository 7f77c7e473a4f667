"""Liveness with proof of storage, and whether the ledger can be trusted (server/chain.py).

The ledger head is read from the database on every call (one row, over a connection kept for it:
server/readcache.py); on PostgreSQL a call may share the read in flight, whose answer arrives during
the call (the head shown may then miss a commit made in the round trip before it). 200 means the
database answers *and* the service's latest chain check found it intact; 503 says why not:
``verifying`` (the start-up check has not finished) or ``ledger_broken`` (with the first bad event),
so a load balancer sends no traffic to a server that would refuse every write.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from pydantic_core import to_json

from consentgate.server.chain import ChainStatus
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


def _chain_json(chain: ChainStatus) -> bytes:
    """The ``chain`` part, serialised once per verdict (a check replaces the object), not per call:
    load balancers ask often, and the verdict changes once a minute at most."""
    global _last
    if _last is None or _last[0] is not chain:
        _last = (chain, ChainCheck(**chain.to_json()).model_dump_json().encode())
    return _last[1]


_last: tuple[ChainStatus, bytes] | None = None


async def health_answer(state: ServerState) -> Response:
    """The answer of ``/healthz``; also served by the hot path (server/hotpath.py)."""
    # From the database, over the probe's own connection; it may share a read already in flight: a
    # health check needs the database to answer during the request, not a commit made just before.
    seq, head = (await state.heads.read(recent=True))[:2]
    chain = await state.chain.current()
    status = 200 if chain.state == "intact" else 503
    return Response(health_body(seq, head, chain), status_code=status, media_type="application/json")


def health_body(seq: int, head: str, chain: ChainStatus) -> bytes:
    """``Health(...).model_dump_json()``, byte for byte, without building the models per call."""
    return b'{"status":"%s","ledger":{"seq":%d,"hash":%s},"chain":%s}' % (
        _STATUS[chain.state].encode(),
        seq,
        to_json(head),
        _chain_json(chain),
    )

"""What every request needs from the app, reached through ``app.state`` instead of module globals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, cast

from fastapi import Depends, Request

from consentgate.auth.apikeys import KeyCache
from consentgate.auth.tokens import Keyring
from consentgate.server.chain import ChainMonitor, ChainStatus
from consentgate.server.ratelimit import EventBudget
from consentgate.service import ConsentService
from consentgate.settings import Settings

if TYPE_CHECKING:
    from consentgate.server.readcache import CachedDecisions, HeadProbe


@dataclass(frozen=True)
class ServerState:
    settings: Settings
    service: ConsentService
    keys: KeyCache
    tokens: Keyring  # signs and verifies subject tokens and visitor ids (consentgate.auth.tokens)
    chain: ChainMonitor  # is the ledger's hash chain intact? (consentgate.server.chain)
    events: EventBudget  # events per key and per subject, counted inside batches (ratelimit.py)
    heads: HeadProbe  # the ledger's chain heads, read per request (readcache.py)
    decisions: CachedDecisions  # GET /v1/decisions from memory while the heads allow (readcache.py)


def server_state(request: Request) -> ServerState:
    return cast(ServerState, request.app.state.consentgate)


async def _service(request: Request) -> ConsentService:
    return server_state(request).service


async def _settings(request: Request) -> Settings:
    return server_state(request).settings


async def _tokens(request: Request) -> Keyring:
    return server_state(request).tokens


async def _chain(request: Request) -> ChainStatus:
    return await server_state(request).chain.current()


async def _intact_chain(request: Request) -> ChainStatus:
    return await server_state(request).chain.require_intact()


Service = Annotated[ConsentService, Depends(_service)]
AppSettings = Annotated[Settings, Depends(_settings)]
Tokens = Annotated[Keyring, Depends(_tokens)]
# What reads report as ``ledger_intact``; and, for endpoints that append, a refusal unless intact.
Chain = Annotated[ChainStatus, Depends(_chain)]
INTACT_CHAIN = Depends(_intact_chain)
IntactChain = Annotated[ChainStatus, INTACT_CHAIN]

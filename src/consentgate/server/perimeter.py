"""What stands between the network and the routers, in order, outermost first.

========================  =====================================================================
``AccessLog``             one JSON line per request, with nothing that identifies a person (logs.py)
``SecurityHeaders``       ``nosniff`` everywhere, CSP and friends on HTML pages (headers.py)
``Cors``                  only the policy's ``web.origins``; refused preflights get 403 (cors.py)
``RateLimit``             per key and per address, 429 with ``Retry-After`` (ratelimit.py)
``BodyGuard``             size, JSON, UTF-8 and depth, before any endpoint reads a body (bodyguard.py)
``HotPath``               plain decision, health and banner-configuration reads, decision batches
                          and browser records, answered without FastAPI's dependency solving; the
                          rest goes on to the routes (hotpath.py)
========================  =====================================================================

The access log is outermost so it also sees the answers of everything inside it; CORS sits outside the
rate limit so that a browser can read a 429 (and its ``Retry-After``) instead of a CORS failure.
"""

from __future__ import annotations

from fastapi import FastAPI

from consentgate.policy import Policy
from consentgate.server.cors import Cors
from consentgate.server.geo import CountryResolver
from consentgate.server.headers import SecurityHeaders, install_docs
from consentgate.server.logs import AccessLog
from consentgate.server.ratelimit import RateLimit
from consentgate.settings import Settings


def install_perimeter(app: FastAPI, settings: Settings, policy: Policy) -> None:
    """Add the middleware above (call after ``BodyGuard``), the /docs page and the country resolver."""
    app.add_middleware(
        RateLimit,
        per_key=settings.rate_per_key,
        per_ip=settings.rate_per_ip,
        burst_seconds=settings.rate_burst_seconds,
    )
    app.add_middleware(Cors, origins=policy.web.origins)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(AccessLog)
    if settings.api_docs:
        install_docs(app)
    # Read by consentgate.server.geo.ClientCountry.
    app.state.country = CountryResolver(header=settings.country_header, database=settings.geoip_db)

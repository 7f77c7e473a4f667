"""The cookie declaration of the latest website scan, in the visitor's language.

Public (no key): a privacy page fetches it, or a build step copies it into the site. The scan is the
newest scheduled scan of the policy's first ``web.scan`` start URL (in ``scan_history_dir``), else the
file named by the ``scan_file`` setting (env ``CONSENTGATE_SCAN_FILE``); both are re-read per
request, so a new scan updates the declaration without a restart.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response

from consentgate.errors import BadInput
from consentgate.scan.declaration import declaration_html, declaration_markdown, pick_language
from consentgate.scan.diff import check_document
from consentgate.scan.schedule import declaration_scan
from consentgate.server.deps import AppSettings, Service
from consentgate.server.errors import COMMON_RESPONSES, error_response

router = APIRouter(tags=["declaration"])


class DeclarationFormat(StrEnum):
    html = "html"
    md = "md"


def _load(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return check_document(json.load(fh), path)


@router.get(
    "/v1/declaration",
    summary="The cookie declaration of the latest scan, grouped by category",
    response_class=Response,
    responses={
        200: {
            "description": "An HTML snippet (a <section>) or Markdown, in the visitor's language.",
            "content": {"text/html": {}, "text/markdown": {}},
        },
        404: COMMON_RESPONSES[404],
        422: COMMON_RESPONSES[422],
        429: COMMON_RESPONSES[429],
    },
)
def declaration(
    settings: AppSettings,
    service: Service,
    format: Annotated[
        DeclarationFormat, Query(description="html (a snippet to embed) or md (Markdown).")
    ] = DeclarationFormat.html,
    locale: Annotated[
        str | None,
        Query(max_length=35, description="Language, e.g. de or fr-CA; defaults to Accept-Language, then en."),
    ] = None,
    accept_language: Annotated[str | None, Header(max_length=500, include_in_schema=False)] = None,
) -> Response:
    scan_file = declaration_scan(settings, service.policy)
    if scan_file is None:
        scheduled = settings.scan_history_dir is not None and service.policy.web.scan is not None
        return error_response(
            404,
            "not_found",
            "no scheduled scan has finished yet"
            if scheduled
            else "no scan is configured: set scan_file (env CONSENTGATE_SCAN_FILE) to a scan.json, or "
            "schedule scans (policy web.scan and scan_history_dir)",
        )
    try:
        doc = _load(str(scan_file))
    except FileNotFoundError:
        return error_response(404, "not_found", f"the scan file {scan_file.name} does not exist yet")
    except (ValueError, BadInput):
        return error_response(500, "internal_error", "the configured scan file is not a consentgate scan")
    lang = pick_language(locale or accept_language)
    headers = {"Content-Language": lang, "Vary": "Accept-Language", "Cache-Control": "public, max-age=300"}
    if format is DeclarationFormat.md:
        return Response(
            declaration_markdown(doc, lang), media_type="text/markdown; charset=utf-8", headers=headers
        )
    return Response(declaration_html(doc, lang), media_type="text/html; charset=utf-8", headers=headers)

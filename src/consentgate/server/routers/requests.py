"""Data-subject requests over HTTP: file, follow, and (operators) carry out; the access report.

Who may do what (docs/security.md has the full matrix):

* filing: a subject token for the request's subject (what the privacy center sends), or an admin
  key (an operator filing for someone whose identity they checked);
* reading one request: its subject's token, or a read or admin key; listing all: read or admin;
* verify, extend, reject, complete: admin only;
* the access report: the subject's token, or a read or admin key.

A request filed with the subject's own token is verified by that token. ``object``, ``withdraw``,
``opt_out`` and ``access`` requests filed that way are carried out at once — withdrawing must be as
easy as consenting, and the token already proves who is asking. ``erase`` waits for an operator,
who checks for legal holds (GDPR Art. 17(3)) before data is destroyed.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, status
from fastapi.responses import HTMLResponse
from pydantic import Field

from consentgate.auth.apikeys import Scope
from consentgate.errors import AuthError
from consentgate.ledger.erasure import is_pseudonym
from consentgate.policy.locales import LOCALE_PATTERN
from consentgate.requests import RequestDesk, RequestKind, Status, access_report, report_html
from consentgate.requests.models import CHOICE_ACTIONS
from consentgate.requests.report import STYLE
from consentgate.requests.report_locale import choose
from consentgate.server.auth import ADMIN, READ, Caller, authorize, for_subjects, require
from consentgate.server.deps import INTACT_CHAIN, IntactChain, Service, Tokens, server_state
from consentgate.server.errors import COMMON_RESPONSES
from consentgate.server.headers import HTML_HEADERS
from consentgate.server.schemas.common import IDENTIFIER_PATTERN, Identifier, StrictModel, Subject
from consentgate.service import ConsentService

router = APIRouter(tags=["requests"], responses=COMMON_RESPONSES)

# The report page is the strict HTML policy plus its one inline stylesheet, admitted by hash: the
# file a person downloads must stand alone, so its style cannot be a separate request.
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
REPORT_CSP = HTML_HEADERS["Content-Security-Policy"].replace(
    "style-src 'self'", f"style-src 'self' 'sha256-{_STYLE_HASH}'"
)

Filer = Annotated[Caller, Depends(for_subjects(Scope.ADMIN))]
Reader = Annotated[Caller, Depends(READ)]
RequestIdPath = Annotated[
    str, Path(min_length=5, max_length=40, pattern=r"^req-[0-9a-f]{1,36}$", description="The request's id.")
]
SubjectId = Annotated[
    Identifier,
    Path(
        min_length=1,
        max_length=256,
        description="The person's identifier or an alias.",
        json_schema_extra={"pattern": IDENTIFIER_PATTERN},
    ),
]
Text = Annotated[str, Field(min_length=1, max_length=500)]
PurposeId = Annotated[str, Field(min_length=1, max_length=128)]


class NewRequest(StrictModel):
    kind: RequestKind = Field(description="access, object, withdraw, erase or opt_out.")
    subject: Subject
    purposes: list[PurposeId] = Field(
        default_factory=list,
        max_length=100,
        description="object, withdraw, opt_out: the purposes it covers; empty means every AI purpose.",
    )
    channel: Literal["api", "privacy_center", "email", "phone", "form"] = Field(
        default="api", description="How the request arrived."
    )
    note: Annotated[str | None, Field(max_length=500)] = None
    verified: bool = Field(
        default=True,
        description="Admin keys only: false files it as received, identity still to be verified.",
    )


class Verification(StrictModel):
    method: Text = Field(description="How the requester's identity was checked.")


class Reason(StrictModel):
    reason: Text = Field(description="Why, as the person will be told.")


class Completion(StrictModel):
    subject: Subject | None = Field(
        default=None, description="Needed only for a request filed after its subject was erased."
    )


def _desk(request: Request, service: ConsentService) -> RequestDesk:
    settings = server_state(request).settings
    return RequestDesk(service, base_dir=settings.policy.resolve().parent)


def _actor(caller: Caller) -> str:
    return "subject_token" if caller.scope is None else f"{caller.scope.value} key"


@router.post(
    "/v1/requests",
    status_code=status.HTTP_201_CREATED,
    summary="File a data-subject request",
    response_description="The request, with its id, status, due date and (when carried out) outcome.",
)
def file_request(
    request: Request, service: Service, caller: Filer, tokens: Tokens, _: IntactChain, body: NewRequest
) -> dict[str, Any]:
    if caller.scope is not Scope.ADMIN and not caller.holds_token_for(body.subject):
        # Stricter than recording a choice: no key scope but admin files for others, and a collect
        # key's visitor-id allowance does not extend to requests about a person.
        raise AuthError(
            f"filing a request for {body.subject!r} needs a subject token for it in "
            "'X-Consentgate-Subject-Token' (the privacy center sends one), or an admin key",
            status=403,
        )
    by_token = caller.scope is not Scope.ADMIN
    if by_token and not body.verified:
        raise AuthError("'verified: false' is for operators with an admin key", status=403)
    desk = _desk(request, service)
    verified_by = "subject_token" if by_token else ("admin key" if body.verified else None)
    req = desk.file(
        body.kind,
        body.subject,
        purposes=body.purposes,
        channel=body.channel,
        verified_by=verified_by,
        actor=_actor(caller),
        note=body.note,
    )
    if by_token and (req.kind in CHOICE_ACTIONS or req.kind is RequestKind.ACCESS):
        req = desk.complete(req.request_id, actor="subject_token")
    return req.to_json(today=desk.today())


@router.get(
    "/v1/requests",
    dependencies=[Depends(require(Scope.READ, Scope.ADMIN))],
    summary="List requests (operators)",
)
def list_requests(
    request: Request,
    service: Service,
    status_: Annotated[list[Status] | None, Query(alias="status", description="Only these statuses.")] = None,
    kind: Annotated[RequestKind | None, Query(description="Only this kind.")] = None,
    overdue: Annotated[bool, Query(description="Only open requests past their due date.")] = False,
) -> list[dict[str, Any]]:
    desk = _desk(request, service)
    today = desk.today()
    return [r.to_json(today=today) for r in desk.find(status=status_ or [], kind=kind, overdue=overdue)]


@router.get("/v1/requests/{request_id}", summary="One request, with its log and outcome")
def get_request(
    request: Request, service: Service, caller: Reader, tokens: Tokens, request_id: RequestIdPath
) -> dict[str, Any]:
    desk = _desk(request, service)
    req = desk.get(request_id)
    if caller.scope not in (Scope.READ, Scope.ADMIN):
        # A token holder sees their own requests, also after an erasure turned the subject into a
        # pseudonym (their token still names their own id, whose pseudonym it is).
        mine = caller.token is not None and (
            req.subject == caller.token.subject
            or (
                is_pseudonym(req.subject)
                and service.erasure_key.pseudonym(caller.token.subject) == req.subject
            )
        )
        if not mine:  # ids are 64 random bits, so a 403 reveals nothing a guess could use
            raise AuthError(
                f"the subject token is for another person than the one {request_id} is about", status=403
            )
    return req.to_json(today=desk.today())


@router.get("/v1/subjects/{subject:path}/requests", summary="One person's requests")
def subject_requests(
    request: Request, service: Service, caller: Reader, tokens: Tokens, subject: SubjectId
) -> list[dict[str, Any]]:
    authorize(caller, [("subject", subject)], write=False, keyring=tokens)
    desk = _desk(request, service)
    today = desk.today()
    return [r.to_json(today=today) for r in desk.requests_of(subject)]


@router.get(
    "/v1/subjects/{subject:path}/report",
    summary="The person's access report (JSON, or HTML with format=html)",
    response_description="Consent history with exact wording, purposes and bases, sources and "
    "retention, training runs and vendors that used the data, and the person's requests.",
    responses={200: {"content": {"text/html": {}}}},
)
def report(
    request: Request,
    response: Response,
    service: Service,
    caller: Reader,
    tokens: Tokens,
    subject: SubjectId,
    format: Annotated[Literal["json", "html"], Query(description="json (default) or html.")] = "json",
    locale: Annotated[
        str | None,
        Query(
            max_length=35,
            pattern=LOCALE_PATTERN,
            description="The person's language (BCP 47), as the privacy center shows it; defaults to "
            "Accept-Language, then the policy's. A language the report lacks gives English, and says so.",
            examples=["de", "pt-BR"],
        ),
    ] = None,
    accept_language: Annotated[str | None, Header(max_length=500, include_in_schema=False)] = None,
) -> Any:
    authorize(caller, [("subject", subject)], write=False, keyring=tokens)
    words = choose(locale, accept_language, service.policy.web.default_locale)
    body = access_report(_desk(request, service), subject, locale=words)
    headers = {"Content-Language": words.locale, "Vary": "Accept-Language"}
    if format == "html":
        name = "access-report-" + datetime.now(UTC).strftime("%Y-%m-%d") + ".html"
        headers["Content-Disposition"] = f'inline; filename="{name}"'
        headers["Content-Security-Policy"] = REPORT_CSP
        return HTMLResponse(report_html(body), headers=headers)
    response.headers.update(headers)
    return body


@router.post(
    "/v1/requests/{request_id}/verify", dependencies=[Depends(ADMIN)], summary="Record the identity check"
)
def verify(
    request: Request, service: Service, request_id: RequestIdPath, body: Verification
) -> dict[str, Any]:
    desk = _desk(request, service)
    return desk.verify(request_id, method=body.method, actor="admin key").to_json(today=desk.today())


@router.post(
    "/v1/requests/{request_id}/extend",
    dependencies=[Depends(ADMIN)],
    summary="Extend the due date by two months (once, with a reason)",
)
def extend(request: Request, service: Service, request_id: RequestIdPath, body: Reason) -> dict[str, Any]:
    desk = _desk(request, service)
    return desk.extend(request_id, reason=body.reason, actor="admin key").to_json(today=desk.today())


@router.post(
    "/v1/requests/{request_id}/reject", dependencies=[Depends(ADMIN)], summary="Reject, with a reason"
)
def reject(request: Request, service: Service, request_id: RequestIdPath, body: Reason) -> dict[str, Any]:
    desk = _desk(request, service)
    return desk.reject(request_id, reason=body.reason, actor="admin key").to_json(today=desk.today())


@router.post(
    "/v1/requests/{request_id}/complete",
    dependencies=[Depends(ADMIN), INTACT_CHAIN],
    summary="Carry the request out and record the outcome",
    responses={503: {"description": "An erasure could not reach every source; retry later"}},
)
def complete(
    request: Request, service: Service, request_id: RequestIdPath, body: Completion | None = None
) -> dict[str, Any]:
    desk = _desk(request, service)
    req = desk.complete(request_id, actor="admin key", subject=body.subject if body else None)
    return req.to_json(today=desk.today())

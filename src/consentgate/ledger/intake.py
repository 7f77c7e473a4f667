"""Turn raw event input (API bodies, JSONL lines, CLI flags) into validated events.

Every problem is collected with where it is, so one pass tells the caller everything to fix, and
nothing is stored unless the whole batch is valid.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from consentgate.errors import BadInput, EventError, QueryError
from consentgate.ledger.acstring import ac_string_problems
from consentgate.ledger.chain import wording_hash
from consentgate.ledger.events import PURPOSE_ACTIONS, Action, NewEvent, NoticeText
from consentgate.ledger.signals import parse_signals
from consentgate.ledger.tcstring import (
    Disclosed,
    PublisherRestriction,
    TcfIssuer,
    TCModel,
    consents_in,
    decode,
    issuer_problems,
)
from consentgate.policy.models import Policy, region_code, region_problem

# Used with fullmatch: ``$`` alone also matches before a final newline, and "api\n" is not a source.
LOCALE = re.compile(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*")
SOURCE = re.compile(r"[a-z][a-z0-9_\-]{0,31}")
MAX_SUBJECT = 256
MAX_LOCALE = 35  # RFC 5646 §4.4.1: 35 characters hold every tag a registry can produce
# C0 controls and DEL, as a regex character range: no identifier may contain them, since such an id
# cannot travel in a URL path (``/v1/subjects/{subject}/state``) and would forge lines in text logs.
CONTROL_CHARS = "\\x00-\\x1f\\x7f"
_CONTROL = re.compile(f"[{CONTROL_CHARS}]")
# Devices' clocks drift; a timestamp further ahead than this is a bug or a forgery.
MAX_CLOCK_SKEW = timedelta(minutes=5)


@dataclass
class Intake:
    """Validated events and the wording they reference, ready for :meth:`Ledger.append`."""

    events: list[NewEvent] = field(default_factory=list)
    texts: dict[str, NoticeText] = field(default_factory=dict)


def control_chars_problem(value: str) -> str | None:
    """What is wrong with an identifier that contains control characters, or None."""
    found = _CONTROL.search(value)
    if found is None:
        return None
    return (
        f"must not contain control characters (found {found.group()!r} at position {found.start()}); "
        "newlines, tabs and NUL cannot be part of an id"
    )


# An erase event denies every purpose for good; recorded on its own it would suppress nothing, touch no
# source and leave the identifier in clear text. The requests flow does all three (docs/requests.md).
ERASE_BY_REQUEST = (
    "erasure is a data-subject request, not a consent event: file it with POST /v1/requests "
    '({"kind": "erase", "subject": …}) or `consentgate requests file --kind erase --subject …`, '
    "which records the erasure, suppresses the person in every gate and deletes them from every source"
)
GRANT_NEEDS_NOTICE = "a grant needs the notice version the person saw (notice_id defaults to the purpose's)"


def repeated(purposes: Iterable[str]) -> str | None:
    """The first purpose that appears twice, or None."""
    seen: set[str] = set()
    for p in purposes:
        if p in seen:
            return p
        seen.add(p)
    return None


def purpose_twice(purpose: str) -> str:
    """One choice per purpose: two in one submission would leave which one holds to the order."""
    return f"lists purpose {purpose!r} twice; keep one"


def subject_problem(value: object) -> str | None:
    """What is wrong with a subject identifier, or None: one rule for the API, the CLI and imports."""
    if not isinstance(value, str) or not value.strip():
        return "is required: the person's id, cookie id or account id"
    if len(value) > MAX_SUBJECT:
        return f"is longer than {MAX_SUBJECT} characters"
    return control_chars_problem(value)


def locale_problem(value: object) -> str | None:
    """What is wrong with a language tag (BCP 47 shape, at most 35 characters), or None."""
    if not isinstance(value, str) or len(value) > MAX_LOCALE or not LOCALE.fullmatch(value):
        return f"{value!r} is not a language tag such as en or de-AT"
    return None


def source_problem(value: object) -> str | None:
    """What is wrong with a source name (``banner``, ``support_desk``), or None."""
    if not isinstance(value, str) or not SOURCE.fullmatch(value):
        return f"{value!r} must be a short lowercase word such as banner, toggle, api, import"
    return None


def version_label(value: object) -> str:
    """A notice version label (``2`` or ``"2"``) as stored; ValueError saying so otherwise.

    JSON ``true`` would pass as the integer 1 in a lax parser; a version label is never a boolean.
    """
    if isinstance(value, bool) or not isinstance(value, int | str) or str(value).strip() == "":
        raise ValueError(f'must be a notice version label such as 2 or "2", got {value!r}')
    return str(value).strip()


def parse_time(value: Any, name: str) -> datetime:
    """ISO 8601 with a zone (``Z`` or ``+02:00``); anything else is an error that says so."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                f"{name} {value!r} is not an ISO 8601 time such as 2026-05-01T12:00:00Z"
            ) from None
    else:
        raise ValueError(f"{name} must be an ISO 8601 string, got {type(value).__name__}")
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{name} {value!r} has no time zone; add Z or an offset such as +02:00")
    return dt


NO_TCF = (
    "is a TCF consent string, but this policy does not enable web.tcf, so the service writes none; "
    "leave it out, or enable web.tcf in the policy"
)


@functools.lru_cache(maxsize=4096)
def _decoded(text: str) -> TCModel:
    """One decoding per string: every event of a banner choice carries the same one."""
    return decode(text)


@functools.lru_cache(maxsize=1024)
def _locales_by_hash(wordings: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """sha256 of each wording of a notice version → its locale. Hashing every locale's text for every
    event (the banner sends the hash of the text it showed) grows with the policy's languages, 42+ for
    a site that asks everywhere; keyed by the wordings themselves, so it cannot go stale."""
    out: dict[str, str] = {}
    for locale, text in wordings:
        out.setdefault(wording_hash(text), locale)  # the first locale with this exact text, as before
    return out


def tc_string_problems(text: str, issuer: TcfIssuer | None, choice: object) -> list[str]:
    """Why the service could not have written this TC string for this choice (empty: it could have).

    The policy's purposes and TCF's purposes 1-11 are separate lists with no mapping between them, so
    only a choice that says what it was can contradict the string on its own: "Reject all" consents to
    nothing. Whole choices are checked in :func:`validate_batch`, what the layers disclosed in
    :func:`disclosure_problems`.
    """
    if issuer is None:
        return [NO_TCF]
    try:
        model = _decoded(text)
    except BadInput as exc:
        return [f"is not a TC string the service wrote: {exc.message}"]
    problems = [f"was not written by this service: {p}" for p in issuer_problems(model, issuer)]
    problems.extend(disclosure_problems(model, issuer, choice))
    if choice == "reject_all" and (given := consents_in(model)):
        problems.append(f"comes with banner_choice reject_all but consents to {'; '.join(given)}")
    return problems


def disclosure_problems(model: TCModel, issuer: TcfIssuer, choice: object) -> list[str]:
    """Live capture: the string consents only to purposes and special features the layers disclosed
    under the list it names (what the disclosed vendors and the publisher use), and "Accept all"
    consents to each of them. A consent to anything else was never shown to the person.

    An import was written under the policy and vendors of its day, which the service does not know,
    so it is not held to today's (as with the AC string). A list the service served but no longer
    has (replaced before consentgate kept replaced lists) cannot be checked, and is refused rather
    than taken unchecked.
    """
    version = model.vendor_list_version
    if not issuer.live or version not in issuer.lists:  # an unknown list: issuer_problems says so
        return []
    shown = issuer.disclosed(version)
    if shown is None:
        return [
            f"names Global Vendor List {version}, which this service served but no longer has, so what "
            "its layers disclosed cannot be checked; the banner writes a new string against the list "
            "served now when the visitor chooses again"
        ]
    problems = []
    for name, given, disclosed in (
        ("purposes", model.purpose_consents, shown.purposes),
        ("special features", model.special_feature_optins, shown.special_features),
    ):
        if extra := given - disclosed:
            problems.append(
                f"consents to {name} {_listed(extra)}, which no vendor the banner discloses and not the "
                f"publisher uses under GVL {version} (it disclosed {name} {_listed(disclosed)}), so the "
                "person was never shown them"
            )
        if choice == "accept_all" and (missing := disclosed - given):
            problems.append(
                f"comes with banner_choice accept_all but leaves {name} {_listed(missing)} without "
                f"consent; Accept all consents to every one the banner disclosed under GVL {version}"
            )
    problems.extend(_vendor_problems(model, shown, issuer, choice))
    return problems


def _vendor_problems(model: TCModel, shown: Disclosed, issuer: TcfIssuer, choice: object) -> list[str]:
    """The vendor side of :func:`disclosure_problems`: the string names exactly the vendors the layers
    disclosed under its list, signals consent or a legitimate interest only to vendors that declare
    one, carries the policy's publisher restrictions, and "Accept all" consents to every vendor a
    consent reaches. What ``web.tcf.vendors`` itself rules out is said by ``issuer_problems``."""
    version = model.vendor_list_version
    listed = issuer.settings.vendors
    problems = []
    # vendors the policy names (or, without a list, any) that the list does not have as active
    unknown = {v for v in model.vendors_disclosed - shown.vendors if listed is None or v in listed}
    if unknown:
        problems.append(
            f"discloses vendors {_listed(unknown)}, which GVL {version} does not list as active, so the "
            "layers never named them"
        )
    if missing := shown.vendors - model.vendors_disclosed:
        problems.append(
            f"leaves vendors {_listed(missing)} out of its disclosed vendors; the layers named them under "
            f"GVL {version}"
        )
    for name, given, reachable, basis in (
        ("vendor_consents", model.vendor_consents, shown.consent_vendors, "no purpose on consent"),
        ("vendor_legitimate_interests", model.vendor_legitimate_interests, shown.interest_vendors,
         "no legitimate interest or special purpose"),
    ):  # fmt: skip
        if extra := (given & shown.vendors) - reachable:
            problems.append(
                f"{name} names {_listed(extra)}, vendors with {basis} under GVL {version} and this "
                "policy's restrictions, so the service never signals one for them"
            )
    if choice == "accept_all" and (left := shown.consent_vendors - model.vendor_consents):
        problems.append(
            f"comes with banner_choice accept_all but leaves vendors {_listed(left)} without consent; "
            f"Accept all consents to every vendor the banner disclosed under GVL {version}"
        )
    if _restriction_set(model.restrictions) != _restriction_set(shown.restrictions):
        problems.append(
            f"carries publisher restrictions {_restrictions_named(model.restrictions)}; this policy's "
            f"web.tcf.restrictions give {_restrictions_named(shown.restrictions)} under GVL {version}"
        )
    return problems


def _restriction_set(rules: Iterable[PublisherRestriction]) -> set[tuple[int, int, frozenset[int]]]:
    return {(r.purpose, int(r.type), r.vendors) for r in rules if r.vendors}


# as web.tcf.restrictions names them (TCF's restriction types 0, 1 and 2)
_RESTRICTION_NAMES = ("not_allowed", "require_consent", "require_legitimate_interest")


def _restrictions_named(rules: Iterable[PublisherRestriction]) -> str:
    named = sorted(_restriction_set(rules), key=lambda r: (r[0], r[1]))
    return (
        "; ".join(f"{_RESTRICTION_NAMES[t]} for purpose {p}, vendors {_listed(v)}" for p, t, v in named)
        or "none"
    )


def _listed(ids: Iterable[int]) -> str:
    return ", ".join(map(str, sorted(ids))) or "none"


def validate_event(
    policy: Policy,
    raw: Mapping[str, Any],
    *,
    now: datetime,
    default_source: str,
    allow_future: bool = False,
    require_notice_for_grant: bool = False,
    allow_erase: bool = True,
    tcf: TcfIssuer | None = None,
) -> tuple[list[NewEvent], list[NoticeText], list[tuple[str, str]]]:
    """Validate one input event. Returns per-purpose events, their wordings, and problems.

    The defaults are the rules for historical data (``import-events``): a grant without a notice is
    kept (it never counts as consent), and so is an ``erase``. Live capture (the API, ``record``)
    passes ``require_notice_for_grant=True, allow_erase=False``. ``tcf``: what the service writes TC
    strings as (None: the policy does not enable TCF, and a TC string is refused).
    """
    problems: list[tuple[str, str]] = []

    def bad(where: str, msg: str) -> None:
        problems.append((where, msg))

    if not isinstance(raw, Mapping):
        return [], [], [("event", "must be a JSON object with subject, action, occurred_at, …")]

    subject = raw.get("subject")
    if (problem := subject_problem(subject)) is not None:
        bad("subject", problem)

    action: Action | None = None
    try:
        action = Action(str(raw.get("action")))
    except ValueError:
        actions = ", ".join(a.value for a in Action)
        given = raw.get("action")
        bad(
            "action",
            f"is required: one of {actions}" if given is None else f"{given!r} is not one of {actions}",
        )
    if action is Action.ERASE and not allow_erase:
        bad("action", ERASE_BY_REQUEST)

    purposes = raw.get("purposes")
    if purposes is None and raw.get("purpose") is not None:
        purposes = [raw["purpose"]]
    if purposes is None:
        purposes = []
    if isinstance(purposes, str):
        purposes = [purposes]
    if not isinstance(purposes, list) or not all(isinstance(p, str) for p in purposes):
        bad("purposes", "must be a list of purpose ids")
        purposes = []
    for p in purposes:
        try:
            policy.require_purpose(p)
        except QueryError as exc:
            bad("purposes", exc.message)
    if action in PURPOSE_ACTIONS and not purposes:
        bad("purposes", f"a {action.value} event needs at least one purpose")
    elif action is not None and action not in PURPOSE_ACTIONS and purposes and require_notice_for_grant:
        # Live capture only: historical files may carry purposes on such lines, and always did.
        bad("purposes", f"a {action.value} event applies to the whole person; give no purposes")
    if twice := repeated(purposes):
        bad("purposes", purpose_twice(twice))

    occurred_at = None
    try:
        occurred_at = (
            parse_time(raw.get("occurred_at"), "occurred_at") if raw.get("occurred_at") is not None else None
        )
        if occurred_at is None:
            bad("occurred_at", "is required: when the person acted, e.g. 2026-05-01T12:00:00+02:00")
        elif not allow_future and occurred_at - now > MAX_CLOCK_SKEW:
            bad("occurred_at", f"{occurred_at.isoformat()} is in the future; check the sender's clock")
    except ValueError as exc:
        bad("occurred_at", str(exc))
    recorded_at = None
    if raw.get("recorded_at") is not None:
        try:
            recorded_at = parse_time(raw["recorded_at"], "recorded_at")
        except ValueError as exc:
            bad("recorded_at", str(exc))

    region = raw.get("region")
    if region is not None:
        code = region_code(region)
        if code is None:
            bad("region", region_problem(region))
        region = code
    locale = raw.get("locale")
    if locale is not None and (problem := locale_problem(locale)) is not None:
        bad("locale", problem)
        locale = None
    source = raw.get("source") or default_source
    if (problem := source_problem(source)) is not None:
        bad("source", problem)
        source = default_source

    # A closed schema (ledger/signals.py): signals sit under the chain hash, out of erasure's reach.
    signals, signal_problems = parse_signals(raw.get("signals"))
    problems.extend(signal_problems)
    if (tc_text := signals.get("tc_string")) is not None:
        for message in tc_string_problems(tc_text, tcf, signals.get("banner_choice")):
            bad("signals.tc_string", message)
    if (ac_text := signals.get("addtl_consent")) is not None:
        choice = signals.get("banner_choice")
        for message in [NO_TCF] if tcf is None else ac_string_problems(ac_text, tcf, choice):
            bad("signals.addtl_consent", message)
    if action is Action.GPC:
        # The event itself says the request carried GPC; an explicit false is kept as such.
        signals.setdefault("gpc", True)

    notice_id = raw.get("notice_id")
    label = None
    if raw.get("notice_version") is not None:
        try:
            label = version_label(raw["notice_version"])
        except ValueError as exc:
            bad("notice_version", str(exc))
    if notice_id is None and label is not None and purposes:
        notices = {policy.purpose(p).notice for p in purposes if policy.purpose(p)}  # type: ignore[union-attr]
        if len(notices) == 1:
            notice_id = notices.pop()
    if notice_id is not None:
        if not isinstance(notice_id, str) or policy.notice(notice_id) is None:
            known = ", ".join(n.id for n in policy.notices)
            bad("notice_id", f"unknown notice {notice_id!r}; the policy declares: {known}")
            notice_id = None
        elif label is None:
            if raw.get("notice_version") is None:  # a label given but invalid is already reported
                bad(
                    "notice_version",
                    f"is required with notice_id {notice_id!r}: which version did the person see?",
                )
        elif policy.notice_version(notice_id, label) is None:
            known = ", ".join(v.label for v in policy.versions_of(notice_id))
            bad("notice_version", f"notice {notice_id!r} has no version {label!r} (known: {known})")
        if notice_id is not None and require_notice_for_grant:
            notice = policy.notice(notice_id)
            outside = [p for p in purposes if notice is not None and p not in notice.purposes]
            if outside:
                # Consent must be specific: a notice can only collect choices for the purposes it names.
                bad("notice_id", f"notice {notice_id!r} does not cover purpose(s) {', '.join(outside)}")
    elif require_notice_for_grant and action is Action.GRANT:
        unasked = [p for p in purposes if (found := policy.purpose(p)) is not None and found.notice is None]
        if unasked:
            # No version would help: the policy collects no consent for these purposes.
            bad(
                "purposes",
                f"{', '.join(unasked)} has no notice in the policy, so no grant can be made for it",
            )
        else:
            bad("notice_version", GRANT_NEEDS_NOTICE)

    given_hash = raw.get("wording_hash")
    texts: list[NoticeText] = []
    w_hash = None
    if notice_id and label and policy.notice_version(notice_id, label) is not None:
        nv = policy.notice_version(notice_id, label)
        assert nv is not None
        if given_hash is not None:
            shown = (
                _locales_by_hash(tuple(nv.text.items())).get(given_hash)
                if isinstance(given_hash, str)
                else None
            )
            match = None if shown is None else (shown, nv.text[shown])
            if match is None:
                bad(
                    "wording_hash",
                    f"does not match any wording of {notice_id} v{label}; "
                    "the text shown must be the policy's text for that version",
                )
            else:
                texts.append(NoticeText(notice_id, label, match[0], match[1], given_hash))
                w_hash = given_hash
                # The hash proves which wording was shown, and so its language.
                locale = locale or match[0]
        else:
            resolved = policy.wording(notice_id, label, locale)
            assert resolved is not None
            w_hash = wording_hash(resolved[1])
            texts.append(NoticeText(notice_id, label, resolved[0], resolved[1], w_hash))
    elif given_hash is not None and not problems:
        bad("wording_hash", "needs notice_id and notice_version")

    if problems or action is None or occurred_at is None or not isinstance(subject, str):
        return [], [], problems

    common: dict[str, Any] = {
        "subject": subject,
        "action": action,
        "occurred_at": occurred_at,
        "notice_id": notice_id,
        "notice_version": label,
        "wording_hash": w_hash,
        "region": region,
        "locale": locale,
        "source": source,
        "signals": signals,
        "recorded_at": recorded_at,
    }
    if action in PURPOSE_ACTIONS:
        return [NewEvent(purpose=p, **common) for p in purposes], texts, []
    return [NewEvent(purpose=None, **common)], texts, []


def validate_batch(
    policy: Policy,
    raws: Iterable[tuple[str, Any]],
    *,
    now: datetime,
    default_source: str,
    allow_future: bool = False,
    require_notice_for_grant: bool = False,
    allow_erase: bool = True,
    tcf: TcfIssuer | None = None,
) -> Intake:
    """Validate many events (``(location, raw)`` pairs); raise one EventError listing every problem."""
    intake = Intake()
    problems: list[tuple[str, str]] = []
    choices: dict[tuple[str, datetime, str], tuple[str, set[Action]]] = {}
    for where, raw in raws:
        evs, texts, errs = validate_event(
            policy,
            raw,
            now=now,
            default_source=default_source,
            allow_future=allow_future,
            require_notice_for_grant=require_notice_for_grant,
            allow_erase=allow_erase,
            tcf=tcf,
        )
        if evs and (tc_text := evs[0].signals.get("tc_string")) is not None:
            key = (evs[0].subject, evs[0].occurred_at, tc_text)
            choices.setdefault(key, (where, set()))[1].add(evs[0].action)
        problems.extend((f"{where}: {field_}" if where else field_, msg) for field_, msg in errs)
        intake.events.extend(evs)
        for nt in texts:
            intake.texts[nt.text_hash] = nt
    problems.extend(_refusals_with_consents(intake.events, choices))
    if problems:
        shown = "\n".join(f"  {w}: {m}" for w, m in problems[:50])
        more = f"\n  … and {len(problems) - 50} more" if len(problems) > 50 else ""
        raise EventError(f"{len(problems)} problem(s); nothing was stored:\n{shown}{more}", problems=problems)
    return intake


def _refusals_with_consents(
    events: Iterable[NewEvent], choices: Mapping[tuple[str, datetime, str], tuple[str, set[Action]]]
) -> Iterator[tuple[str, str]]:
    """A choice (one subject's events at one moment with one TC string) that grants nothing must not
    carry a TCF consent: vendors would read a yes the ledger records as a no.

    A banner "Save" (``banner_choice`` custom) is the exception: its TCF switches are separate from
    the policy's purposes, so refusing every policy purpose while consenting to a TCF purpose is a
    real choice, and the string records it. "Reject all" is checked with its event (no consent at all).
    """
    exempt = {
        (e.subject, e.occurred_at, e.signals["tc_string"])
        for e in events
        if e.signals.get("banner_choice") in ("custom", "reject_all") and "tc_string" in e.signals
    }
    for key, (where, actions) in choices.items():
        if Action.GRANT in actions or key in exempt:
            continue
        given = consents_in(_decoded(key[2]))
        if given:
            did = ", ".join(sorted(a.value for a in actions))
            yield (
                f"{where}: signals.tc_string" if where else "signals.tc_string",
                f"consents to {'; '.join(given)}, but this choice grants nothing ({did}); "
                "a refusal cannot carry a TCF consent",
            )

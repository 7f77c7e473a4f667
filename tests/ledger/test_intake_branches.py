"""Every validation branch of event intake, at its edges, through the public entry points.

``validate_event`` / ``validate_batch`` inputs go in; accepted events (every field) or problems
come out. Messages are checked for their substance (the field, the key words, the limit or the
offending value), not word for word: the wording may be unified across the CLI, API and banner, the
information in it may not be lost. Boundaries are tested at the edge and one step past it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import pytest

from consentgate.errors import EventError
from consentgate.ledger.chain import wording_hash
from consentgate.ledger.events import Action, NewEvent
from consentgate.ledger.intake import (
    GRANT_NEEDS_NOTICE,
    MAX_CLOCK_SKEW,
    MAX_SUBJECT,
    validate_batch,
    validate_event,
)
from consentgate.policy import parse_policy_text

POLICY = parse_policy_text(
    """
organization: {name: Example Intake Ltd, contact: privacy@example.com}
web: {origins: ["https://www.example.com"], default_locale: fr}
regions:
  EU: {countries: [DE, FR], honour_gpc: false}
purposes:
  - id: tune
    title: Tune the example model
    kind: ai_training
    notice: ai
    basis: {"*": consent}
  - id: chat
    title: Train the example chatbot
    kind: ai_training
    notice: ai
    basis: {"*": consent}
  - id: ads
    title: Measure ads
    kind: marketing
    notice: ads-notice
    basis: {"*": consent}
  - id: promo
    title: Send offers
    kind: marketing
    notice: ads-notice
    basis: {"*": consent}
notices:
  - id: ai
    purposes: [tune, chat]
    versions:
      - version: 1
        effective_from: 2026-01-01T00:00:00Z
        text: {en: "Use my chats.", de: "Meine Chats.", fr: "Mes chats."}
      - version: 2
        effective_from: 2026-06-01T00:00:00Z
        reconsent: true
        text: {en: "Use my chats and files."}
  - id: ads-notice
    purposes: [ads, promo]
    versions:
      - {version: 1, effective_from: 2026-01-01T00:00:00Z, text: {en: "Measure ads."}}
"""
)
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
US = timedelta(microseconds=1)


def raw(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "subject": "visitor-1",
        "action": "grant",
        "purposes": ["tune"],
        "notice_id": "ai",
        "notice_version": 1,
        "occurred_at": "2026-10-01T09:00:00+02:00",
    }
    base.update(over)
    return {k: v for k, v in base.items() if v is not ...}


def accepted(data: Any, **kw: Any) -> list[NewEvent]:
    events, _, problems = validate_event(POLICY, data, now=NOW, default_source="api", **kw)
    assert problems == []
    return events


def problems(data: Any, **kw: Any) -> list[tuple[str, str]]:
    events, texts, found = validate_event(POLICY, data, now=NOW, default_source="api", **kw)
    assert found, "expected the event to be refused"
    assert (events, texts) == ([], [])  # a refused event yields nothing to store
    return found


def refused(data: Any, field: str, pattern: str, **kw: Any) -> str:
    """The one problem of ``field``; all of its message must match ``pattern``.

    Patterns name the key words at both ends and the values in between (``.*`` spans wording that
    may change), so a message cut short, padded or lost is noticed and a rephrasing mostly is not.
    """
    found = [m for f, m in problems(data, **kw) if f == field]
    assert len(found) == 1, problems(data, **kw)
    assert re.fullmatch(pattern, found[0]), found[0]
    return found[0]


# --- the whole accepted event -------------------------------------------------------------------------


def test_an_accepted_grant_carries_every_field() -> None:
    recorded = "2026-10-01T07:00:05Z"
    (event,) = accepted(
        raw(
            region=" de ",
            locale="de-AT",
            source="banner",
            recorded_at=recorded,
            signals={"request_id": "req-0123456789abcdef"},
        )
    )
    assert event == NewEvent(
        subject="visitor-1",
        action=Action.GRANT,
        occurred_at=datetime.fromisoformat("2026-10-01T09:00:00+02:00"),
        purpose="tune",
        notice_id="ai",
        notice_version="1",
        wording_hash=wording_hash("Meine Chats."),
        region="DE",
        locale="de-AT",
        source="banner",
        signals={"request_id": "req-0123456789abcdef"},
        recorded_at=datetime.fromisoformat("2026-10-01T07:00:05+00:00"),
    )


def test_one_event_per_purpose_sharing_the_wording() -> None:
    events, texts, found = validate_event(
        POLICY, raw(purposes=["tune", "chat"]), now=NOW, default_source="api"
    )
    assert found == []
    assert [e.purpose for e in events] == ["tune", "chat"]
    assert {e.wording_hash for e in events} == {wording_hash("Mes chats.")}  # the site's default locale
    assert [(t.notice_id, t.notice_version, t.locale, t.text) for t in texts] == [
        ("ai", "1", "fr", "Mes chats.")
    ]


def test_a_single_purpose_key_and_a_bare_string_are_one_purpose() -> None:
    assert [e.purpose for e in accepted(raw(purposes=..., purpose="chat"))] == ["chat"]
    assert [e.purpose for e in accepted(raw(purposes="chat"))] == ["chat"]


@pytest.mark.parametrize("action", ["gpc", "erase"])
def test_subject_level_actions_are_one_event_without_purpose(action: str) -> None:
    data = {"subject": "v", "action": action, "occurred_at": "2026-10-01T09:00:00Z"}
    (event,) = accepted(data)
    assert (event.action, event.purpose, event.notice_id, event.wording_hash) == (
        Action(action),
        None,
        None,
        None,
    )
    assert event.signals == ({"gpc": True} if action == "gpc" else {})
    assert event.source == "api"  # the caller's default


def test_datetime_objects_are_taken_as_they_are() -> None:
    when = datetime(2026, 10, 1, 9, tzinfo=UTC)
    (event,) = accepted(raw(occurred_at=when, recorded_at=when))
    assert (event.occurred_at, event.recorded_at) == (when, when)


# --- the shape of the input --------------------------------------------------------------------------


@pytest.mark.parametrize("data", [["subject", "visitor-1"], "visitor-1", None, 7])
def test_an_event_must_be_an_object(data: Any) -> None:
    assert problems(data) == [("event", "must be a JSON object with subject, action, occurred_at, …")]


# --- subject ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("subject", [None, "", "   ", 42])
def test_subject_is_required(subject: Any) -> None:
    refused(raw(subject=subject), "subject", r"is required\b.*\bid")


def test_subject_of_exactly_the_limit_is_accepted_and_one_more_is_refused() -> None:
    assert MAX_SUBJECT == 256
    (event,) = accepted(raw(subject="s" * 256))
    assert event.subject == "s" * 256
    refused(raw(subject="s" * 257), "subject", r"is longer than 256 characters")


@pytest.mark.parametrize(
    ("subject", "shown", "position"),
    [
        ("visitor\n1", r"'\\n'", 7),
        ("\x00visitor", r"'\\x00'", 0),
        ("vis\x1ftor", r"'\\x1f'", 3),
        ("v\x7f", r"'\\x7f'", 1),
    ],
)
def test_subject_with_control_characters_is_refused_with_where(
    subject: str, shown: str, position: int
) -> None:
    msg = refused(
        raw(subject=subject),
        "subject",
        rf"must not contain control characters.*{shown}.*position {position}\b.*id",
    )
    assert "newlines, tabs and NUL cannot be part of an id" in msg  # says why, for the person who sent it


def test_subject_with_a_space_or_non_ascii_letters_is_accepted() -> None:
    assert accepted(raw(subject="Zoë Müller\u00a0#7"))[0].subject == "Zoë Müller\u00a0#7"


# --- action and purposes -------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["maybe", None, "GRANT"])
def test_unknown_action_lists_the_actions(action: Any) -> None:
    actions = ", ".join(a.value for a in Action)
    said = "is required: one of" if action is None else f"{action!r} is not one of"
    refused(raw(action=action), "action", re.escape(f"{said} {actions}"))


@pytest.mark.parametrize("purposes", [5, {"tune": True}, ["tune", 5], [None]])
def test_purposes_must_be_a_list_of_ids(purposes: Any) -> None:
    found = problems(raw(purposes=purposes))
    assert ("purposes", "must be a list of purpose ids") in found


def test_unknown_purpose_names_it_and_lists_the_declared_ones() -> None:
    refused(
        raw(purposes=["tune", "mine_crypto"]),
        "purposes",
        r"unknown purpose 'mine_crypto'.*: tune, chat, ads, promo",
    )


@pytest.mark.parametrize("action", ["grant", "deny", "withdraw", "object", "opt_out"])
def test_a_purpose_action_needs_a_purpose(action: str) -> None:
    refused(
        raw(action=action, purposes=[], notice_id=..., notice_version=...),
        "purposes",
        rf"a {action} event needs at least one purpose",
    )


def test_a_purpose_listed_twice_is_refused() -> None:
    refused(raw(purposes=["tune", "chat", "tune"]), "purposes", r"lists purpose 'tune' twice; keep one")


# --- occurred_at and recorded_at ------------------------------------------------------------------


def test_clock_skew_of_exactly_the_limit_is_accepted_and_a_microsecond_more_is_refused() -> None:
    assert timedelta(minutes=5) == MAX_CLOCK_SKEW
    edge = NOW + MAX_CLOCK_SKEW
    assert accepted(raw(occurred_at=edge.isoformat()))[0].occurred_at == edge
    past_edge = re.escape((edge + US).isoformat())
    refused(raw(occurred_at=(edge + US).isoformat()), "occurred_at", rf"{past_edge} is in the future.*clock")
    # Imports of histories may carry any date.
    assert accepted(raw(occurred_at=(edge + US).isoformat()), allow_future=True)[0].occurred_at == edge + US


def test_the_clock_skew_is_measured_against_the_injected_now() -> None:
    later = NOW + timedelta(days=400)
    refused(raw(occurred_at=later.isoformat()), "occurred_at", r".* is in the future.*clock")
    events, _, found = validate_event(
        POLICY, raw(occurred_at=later.isoformat()), now=later, default_source="x"
    )
    assert found == []
    assert events[0].occurred_at == later


@pytest.mark.parametrize(
    ("value", "pattern"),
    [
        (None, r"is required: when the person acted.*2026-05-01T12:00:00\+02:00"),
        ("yesterday", r"occurred_at 'yesterday' is not an ISO 8601 time.*Z"),
        ("2026-10-01T09:00:00", r"occurred_at '2026-10-01T09:00:00' has no time zone.*\+02:00"),
        (1_780_000_000, r"occurred_at must be an ISO 8601 string, got int"),
    ],
)
def test_occurred_at_must_be_a_zoned_iso_time(value: Any, pattern: str) -> None:
    refused(raw(occurred_at=value), "occurred_at", pattern)


class _NoOffset(tzinfo):
    """A time zone that does not know its offset: as good as none."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None


def test_a_datetime_whose_zone_has_no_offset_is_refused() -> None:
    refused(
        raw(occurred_at=datetime(2026, 10, 1, 9, tzinfo=_NoOffset())),
        "occurred_at",
        r"occurred_at .* has no time zone.*",
    )


def test_occurred_at_may_have_surrounding_spaces() -> None:
    assert accepted(raw(occurred_at=" 2026-10-01T09:00:00Z "))[0].occurred_at == datetime(
        2026, 10, 1, 9, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("value", "pattern"),
    [
        ("soon", r"recorded_at 'soon' is not an ISO 8601 time.*Z"),
        ("2026-10-01T09:00:00", r"recorded_at '2026-10-01T09:00:00' has no time zone.*\+02:00"),
    ],
)
def test_a_supplied_recorded_at_is_validated(value: str, pattern: str) -> None:
    refused(raw(recorded_at=value), "recorded_at", pattern)


def test_without_recorded_at_the_ledger_assigns_it() -> None:
    assert accepted(raw())[0].recorded_at is None


# --- region, locale, source ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "stored"), [("fr", "FR"), ("US-CA", "US-CA"), ("de-by", "DE-BY"), (None, None)]
)
def test_region_is_normalised(region: str | None, stored: str | None) -> None:
    assert accepted(raw(region=region))[0].region == stored


@pytest.mark.parametrize(
    "region",
    [
        "Germany",
        5,
        "D",
        "DE-ABCD",
        "d\u0131",  # dotless i: upper() makes it "DI", which looks like an ISO code
        "\u017fe",  # long s: upper() makes it "SE"
    ],
)
def test_region_must_be_an_ascii_iso_code(region: Any) -> None:
    refused(raw(region=region), "region", rf"{re.escape(repr(region))} is not an ISO 3166 code.*US-CA")


@pytest.mark.parametrize("locale", ["en", "de-AT", "pt_BR", "zh-Hant-TW"])
def test_locales_accepted(locale: str) -> None:
    assert accepted(raw(locale=locale))[0].locale == locale


@pytest.mark.parametrize("locale", ["english!", "e", "en\n", 7, "en-"])
def test_locales_refused(locale: Any) -> None:
    refused(raw(locale=locale), "locale", rf"{re.escape(repr(locale))} is not a language tag.*de-AT")


def test_source_defaults_to_the_callers_and_is_kept_when_valid() -> None:
    assert accepted(raw())[0].source == "api"
    assert accepted(raw(source=""))[0].source == "api"
    assert accepted(raw(source="privacy_center"))[0].source == "privacy_center"


def test_source_of_32_characters_is_accepted_and_33_refused() -> None:
    assert accepted(raw(source="s" * 32))[0].source == "s" * 32
    refused(raw(source="s" * 33), "source", r"'s{33}' must be a short lowercase word.*import")


@pytest.mark.parametrize("source", ["Banner", "api\n", "1api", 5, "-x"])
def test_sources_refused(source: Any) -> None:
    refused(
        raw(source=source), "source", rf"{re.escape(repr(source))} must be a short lowercase word.*import"
    )


# --- signals ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("signals", [[1], "gpc", 5])
def test_signals_must_be_an_object(signals: Any) -> None:
    refused(raw(signals=signals), "signals", r'must be an object.*\{"gpc": true\}')


def test_gpc_keeps_an_explicit_false_and_refuses_a_non_boolean() -> None:
    gpc = {"subject": "v", "action": "gpc", "occurred_at": "2026-10-01T09:00:00Z"}
    assert accepted(dict(gpc, signals={"gpc": False}))[0].signals == {"gpc": False}
    refused(dict(gpc, signals={"gpc": "yes"}), "signals.gpc", r"must be a valid boolean")
    refused(dict(gpc, signals={"gpc": 1}), "signals.gpc", r"must be a valid boolean")


def test_signals_of_other_actions_get_no_gpc_added() -> None:
    assert accepted(raw(signals={"request_id": "req-00000000000000a2"}))[0].signals == {
        "request_id": "req-00000000000000a2"
    }


# --- notice and version ------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [True, False, 2.0, [1], {"v": 1}])
def test_notice_version_must_be_a_label(version: Any) -> None:
    refused(
        raw(notice_id=..., notice_version=version),
        "notice_version",
        r'must be a notice version label such as 2 or "2", got .*',
    )


@pytest.mark.parametrize("version", [2, "2"])
def test_notice_version_is_stored_as_text(version: Any) -> None:
    (event,) = accepted(raw(notice_version=version))
    assert (event.notice_id, event.notice_version, event.wording_hash) == (
        "ai",
        "2",
        wording_hash("Use my chats and files."),
    )


def test_a_version_without_notice_takes_the_purposes_notice() -> None:
    (event,) = accepted(raw(notice_id=..., notice_version=2))
    assert (event.notice_id, event.notice_version) == ("ai", "2")


def test_a_version_for_purposes_of_different_notices_names_no_notice() -> None:
    events = accepted(raw(purposes=["tune", "ads"], notice_id=..., notice_version=1))
    assert {(e.notice_id, e.wording_hash) for e in events} == {(None, None)}


def test_notice_id_without_version_asks_which_version() -> None:
    refused(raw(notice_version=...), "notice_version", r"is required with notice_id 'ai'.*\?")


@pytest.mark.parametrize("notice", ["nope", 5])
def test_unknown_notice_lists_the_declared_ones(notice: Any) -> None:
    refused(
        raw(notice_id=notice), "notice_id", rf"unknown notice {re.escape(repr(notice))}.*: ai, ads-notice"
    )


def test_unknown_version_lists_the_known_ones() -> None:
    refused(raw(notice_version=9), "notice_version", r"notice 'ai' has no version '9' \(known: 1, 2\)")


# --- strict mode: the notice must cover the purposes, and a grant needs one -----------------------


def test_strict_mode_refuses_a_notice_that_does_not_cover_every_purpose() -> None:
    data = raw(purposes=["tune", "ads", "chat", "promo"])
    refused(
        data,
        "notice_id",
        r"notice 'ai' does not cover purpose\(s\) ads, promo",
        require_notice_for_grant=True,
    )
    assert len(accepted(raw(purposes=["tune", "chat"]), require_notice_for_grant=True)) == 2


def test_strict_mode_refuses_a_grant_without_a_notice_only() -> None:
    bare = raw(notice_id=..., notice_version=...)
    assert accepted(bare)[0].notice_id is None
    refused(bare, "notice_version", r"a grant needs the notice version.*\)", require_notice_for_grant=True)
    assert accepted(dict(bare, action="withdraw"), require_notice_for_grant=True)[0].action is Action.WITHDRAW


# --- the wording shown ----------------------------------------------------------------------------


def test_a_given_wording_hash_picks_the_locale_it_matches() -> None:
    events, texts, found = validate_event(
        POLICY, raw(wording_hash=wording_hash("Use my chats."), locale="de"), now=NOW, default_source="api"
    )
    assert found == []
    assert events[0].wording_hash == wording_hash("Use my chats.")
    assert [(t.notice_id, t.notice_version, t.locale, t.text, t.text_hash) for t in texts] == [
        ("ai", "1", "en", "Use my chats.", wording_hash("Use my chats."))
    ]


def test_a_wording_hash_of_another_version_is_refused() -> None:
    refused(
        raw(wording_hash=wording_hash("Use my chats and files.")),
        "wording_hash",
        r"does not match any wording of ai v1\b.*version",
    )


def test_a_wording_hash_without_a_notice_is_refused_not_dropped() -> None:
    data = raw(
        purposes=["tune", "ads"],
        notice_id=...,
        notice_version=...,
        wording_hash=wording_hash("Use my chats."),
    )
    refused(data, "wording_hash", r"needs notice_id and notice_version")


def test_the_locale_picks_the_wording_and_falls_back_to_the_sites_default() -> None:
    assert accepted(raw(locale="de-AT"))[0].wording_hash == wording_hash("Meine Chats.")
    assert accepted(raw(locale="ja"))[0].wording_hash == wording_hash("Mes chats.")


# --- batches ----------------------------------------------------------------------------------------


def test_a_batch_returns_every_event_and_each_wording_once() -> None:
    intake = validate_batch(
        POLICY,
        [("line 1", raw()), ("line 2", raw(subject="visitor-2", purposes=["tune", "chat"]))],
        now=NOW,
        default_source="import",
    )
    assert [(e.subject, e.purpose, e.source) for e in intake.events] == [
        ("visitor-1", "tune", "import"),
        ("visitor-2", "tune", "import"),
        ("visitor-2", "chat", "import"),
    ]
    assert list(intake.texts) == [wording_hash("Mes chats.")]


def test_a_batch_passes_its_options_to_every_event() -> None:
    ahead = (NOW + timedelta(days=1)).isoformat()
    intake = validate_batch(
        POLICY, [("", raw(occurred_at=ahead))], now=NOW, default_source="x", allow_future=True
    )
    assert len(intake.events) == 1
    with pytest.raises(EventError):
        validate_batch(
            POLICY,
            [("", raw(purposes=["tune", "ads"]))],
            now=NOW,
            default_source="x",
            require_notice_for_grant=True,
        )


def test_a_batch_with_problems_stores_nothing_and_says_where() -> None:
    raws = [("line 1", raw()), ("line 2", raw(action="nope", region="ZZZZ")), ("", raw(subject=""))]
    with pytest.raises(EventError) as err:
        validate_batch(POLICY, raws, now=NOW, default_source="import")
    assert [w for w, _ in err.value.problems] == ["line 2: action", "line 2: region", "subject"]
    text = str(err.value)
    assert text.startswith("3 problem(s); nothing was stored:\n  line 2: action: 'nope' is not one of")
    assert "\n  subject: is required" in text


def test_a_batch_shows_at_most_fifty_problems_and_counts_the_rest() -> None:
    raws = [(f"line {i}", raw(action="nope")) for i in range(1, 53)]
    with pytest.raises(EventError) as err:
        validate_batch(POLICY, raws, now=NOW, default_source="import")
    assert len(err.value.problems) == 52
    text = str(err.value)
    assert text.startswith("52 problem(s)")
    assert "line 50: action" in text
    assert "line 51: action" not in text
    assert text.endswith("\n  … and 2 more")


@pytest.mark.parametrize(("count", "tail"), [(50, ""), (51, "\n  … and 1 more")])
def test_a_batch_at_the_fifty_problem_limit_and_one_past_it(count: int, tail: str) -> None:
    raws = [(f"line {i}", raw(action="nope")) for i in range(1, count + 1)]
    with pytest.raises(EventError) as err:
        validate_batch(POLICY, raws, now=NOW, default_source="import")
    text = str(err.value)
    assert text.endswith(
        f"  line 50: action: 'nope' is not one of {', '.join(a.value for a in Action)}{tail}"
    )


def test_a_batch_by_default_refuses_future_events_and_does_not_require_notices() -> None:
    ahead = (NOW + timedelta(days=1)).isoformat()
    with pytest.raises(EventError, match="future"):
        validate_batch(POLICY, [("", raw(occurred_at=ahead))], now=NOW, default_source="x")
    bundled = raw(purposes=["tune", "ads"])
    assert len(validate_batch(POLICY, [("", bundled)], now=NOW, default_source="x").events) == 2


# --- live capture's rules (the API and ``record``), and the batch passing them on ------------------


ERASE = {"subject": "v", "action": "erase", "occurred_at": "2026-10-01T09:00:00Z"}
GPC = {"subject": "v", "action": "gpc", "occurred_at": "2026-10-01T09:00:00Z"}


def test_live_capture_refuses_an_erase_event_pointing_to_the_request() -> None:
    refused(
        ERASE,
        "action",
        r"erasure is a data-subject request.*POST /v1/requests.*every source",
        allow_erase=False,
    )
    assert [e.action for e in accepted(GPC, allow_erase=False)] == [Action.GPC]  # only erase is refused
    assert [e.action for e in accepted(ERASE)] == [Action.ERASE]  # historical files keep it


def test_live_capture_refuses_purposes_on_a_whole_person_event() -> None:
    refused(
        {**GPC, "purposes": ["tune"]},
        "purposes",
        r"a gpc event applies to the whole person; give no purposes",
        require_notice_for_grant=True,
    )
    assert [e.purpose for e in accepted({**GPC, "purposes": ["tune"]})] == [None]  # imports: kept as before


def test_a_locale_of_35_characters_is_the_longest_accepted() -> None:
    longest = "de-abcdefgh-abcdefgh-abcdefgh-abcde"
    assert len(longest) == 35
    assert accepted(raw(locale=longest))[0].locale == longest
    refused(raw(locale=longest + "f"), "locale", r"'de-abcdefgh.*abcdef' is not a language tag.*de-AT")


@pytest.mark.parametrize("label", ["", "  "])
def test_a_blank_notice_version_is_refused(label: str) -> None:
    refused(
        raw(notice_version=label),
        "notice_version",
        rf"must be a notice version label.*got {re.escape(repr(label))}",
    )


def test_a_batch_keeps_erase_by_default_and_refuses_it_when_told() -> None:
    intake = validate_batch(POLICY, [("line 1", ERASE)], now=NOW, default_source="import")
    assert [e.action for e in intake.events] == [Action.ERASE]
    with pytest.raises(EventError, match="line 1: action: erasure is a data-subject request"):
        validate_batch(POLICY, [("line 1", ERASE)], now=NOW, default_source="api", allow_erase=False)


def test_a_batch_keeps_each_wording_under_its_hash() -> None:
    intake = validate_batch(POLICY, [("", raw(locale="de")), ("", raw())], now=NOW, default_source="api")
    assert {h: (t.notice_id, t.notice_version, t.locale, t.text) for h, t in intake.texts.items()} == {
        wording_hash("Meine Chats."): ("ai", "1", "de", "Meine Chats."),
        wording_hash("Mes chats."): ("ai", "1", "fr", "Mes chats."),
    }


@pytest.mark.parametrize("label", [True, 1.5])
def test_an_invalid_notice_version_is_one_problem_not_also_a_missing_one(label: Any) -> None:
    refused(
        raw(notice_version=label),
        "notice_version",
        rf"must be a notice version label.*got {re.escape(repr(label))}",
    )
    refused(
        raw(notice_version=...), "notice_version", r"is required with notice_id 'ai': which version.*see\?"
    )


MIXED = parse_policy_text(
    """
organization: {name: Example Mixed Ltd, contact: privacy@example.com}
purposes:
  - id: tune
    title: Tune the example model
    kind: ai_training
    notice: ai
    basis: {"*": consent}
  - id: fraud
    title: Detect fraud
    kind: analytics
    basis: {"*": legitimate_interest}
  - id: stats
    title: Count visits
    kind: analytics
    basis: {"*": legitimate_interest}
notices:
  - id: ai
    purposes: [tune]
    versions:
      - {version: 1, effective_from: 2026-01-01T00:00:00Z, text: {en: "Use my chats."}}
"""
)


def test_a_live_grant_for_purposes_without_a_notice_names_them() -> None:
    def found(purposes: list[str]) -> list[tuple[str, str]]:
        data = {
            "subject": "v",
            "action": "grant",
            "purposes": purposes,
            "occurred_at": "2026-10-01T09:00:00Z",
        }
        return validate_event(MIXED, data, now=NOW, default_source="api", require_notice_for_grant=True)[2]

    no_grant = "has no notice in the policy, so no grant can be made for it"
    assert found(["tune", "fraud"]) == [("purposes", f"fraud {no_grant}")]
    assert found(["fraud", "tune", "stats"]) == [("purposes", f"fraud, stats {no_grant}")]
    assert found(["tune"]) == [("notice_version", GRANT_NEEDS_NOTICE)]


def test_a_wording_hash_without_a_locale_gives_the_locale_it_matches() -> None:
    german = wording_hash("Meine Chats.")
    assert accepted(raw(wording_hash=german, locale=...))[0].locale == "de"
    assert accepted(raw(wording_hash=german, locale="de-AT"))[0].locale == "de-AT"  # a given locale is kept

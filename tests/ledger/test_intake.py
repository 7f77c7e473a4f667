"""Validation of raw events: every problem is reported with its place, nothing half-stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consentgate.errors import EventError
from consentgate.ledger.chain import wording_hash
from consentgate.ledger.events import Action
from consentgate.ledger.intake import validate_batch, validate_event
from consentgate.policy import Policy

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _grant(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "subject": "visitor-1",
        "action": "grant",
        "purposes": ["train_support_chatbot", "finetune_recommender"],
        "notice_id": "ai-training",
        "notice_version": 2,
        "region": "de",
        "locale": "de-AT",
        "occurred_at": "2026-10-01T09:00:00+02:00",
    }
    base.update(over)
    return base


def _problems(policy: Policy, raw: Any, **kw: Any) -> list[tuple[str, str]]:
    return validate_event(policy, raw, now=NOW, default_source="api", **kw)[2]


def test_one_event_per_purpose_with_resolved_wording(example_policy: Policy) -> None:
    events, texts, problems = validate_event(example_policy, _grant(), now=NOW, default_source="banner")
    assert problems == []
    assert [e.purpose for e in events] == ["train_support_chatbot", "finetune_recommender"]
    assert {e.action for e in events} == {Action.GRANT}
    assert events[0].region == "DE"
    assert events[0].source == "banner"
    (text,) = texts
    assert text.locale == "de"
    assert text.text.startswith("Meine Support-Gespräche samt Anhängen")
    assert events[0].wording_hash == wording_hash(text.text) == text.text_hash
    assert events[0].notice_version == "2"


def test_given_wording_hash_must_match_a_wording_of_that_version(example_policy: Policy) -> None:
    nv = example_policy.notice_version("ai-training", "2")
    assert nv is not None
    good = wording_hash(nv.text["fr"])
    _, texts, problems = validate_event(
        example_policy, _grant(wording_hash=good), now=NOW, default_source="api"
    )
    assert problems == []
    assert texts[0].locale == "fr"
    old = example_policy.notice_version("ai-training", "1")
    assert old is not None
    assert (
        _problems(example_policy, _grant(wording_hash=wording_hash(old.text["en"])))[0][0] == "wording_hash"
    )


@pytest.mark.parametrize(
    ("over", "field", "words"),
    [
        ({"subject": ""}, "subject", "required"),
        ({"subject": "x" * 300}, "subject", "longer"),
        ({"action": "maybe"}, "action", "not one of"),
        ({"purposes": ["mine_bitcoin"]}, "purposes", "unknown purpose"),
        ({"purposes": []}, "purposes", "at least one purpose"),
        ({"notice_version": 9}, "notice_version", "no version '9'"),
        ({"notice_id": "nope"}, "notice_id", "unknown notice"),
        ({"occurred_at": "2026-10-01T09:00:00"}, "occurred_at", "no time zone"),
        ({"occurred_at": "yesterday"}, "occurred_at", "ISO 8601"),
        ({"occurred_at": None}, "occurred_at", "required"),
        ({"occurred_at": "2027-10-01T09:00:00Z"}, "occurred_at", "future"),
        ({"region": "Germany"}, "region", "ISO 3166"),
        ({"locale": "not a locale"}, "locale", "language tag"),
        ({"signals": [1]}, "signals", "object"),
        ({"source": "Bad Source!"}, "source", "lowercase"),
    ],
)
def test_bad_fields_are_named(example_policy: Policy, over: dict[str, Any], field: str, words: str) -> None:
    problems = _problems(example_policy, _grant(**over))
    assert any(f == field and words in m for f, m in problems), problems


def test_far_future_allowed_for_imports_of_histories(example_policy: Policy) -> None:
    assert _problems(example_policy, _grant(occurred_at="2027-10-01T09:00:00Z"), allow_future=True) == []


def test_strict_mode_refuses_bundled_and_unversioned_grants(example_policy: Policy) -> None:
    bundled = _grant(purposes=["train_support_chatbot", "marketing"])
    assert any(
        "does not cover" in m for _, m in _problems(example_policy, bundled, require_notice_for_grant=True)
    )
    unversioned = _grant(notice_id=None, notice_version=None)
    assert _problems(example_policy, unversioned) == []
    assert _problems(example_policy, unversioned, require_notice_for_grant=True)


def test_version_without_notice_takes_the_purposes_notice(example_policy: Policy) -> None:
    events, _, problems = validate_event(
        example_policy, _grant(notice_id=None, notice_version=1), now=NOW, default_source="api"
    )
    assert problems == []
    assert events[0].notice_id == "ai-training"


def test_subject_level_actions(example_policy: Policy) -> None:
    gpc = {"subject": "v", "action": "gpc", "occurred_at": "2026-10-01T09:00:00Z", "region": "US-CA"}
    events, _, problems = validate_event(example_policy, gpc, now=NOW, default_source="banner")
    assert problems == []
    assert events[0].purpose is None
    assert events[0].signals == {"gpc": True}
    off = dict(gpc, signals={"gpc": False})
    assert validate_event(example_policy, off, now=NOW, default_source="api")[0][0].signals == {"gpc": False}
    bad = dict(gpc, signals={"gpc": "yes"})
    assert _problems(example_policy, bad)[0][0] == "signals.gpc"
    erase = {"subject": "v", "action": "erase", "occurred_at": "2026-10-01T09:00:00Z"}
    assert len(validate_event(example_policy, erase, now=NOW, default_source="api")[0]) == 1


def test_batch_lists_every_problem_with_its_line_and_returns_nothing(example_policy: Policy) -> None:
    raws = [("line 1", _grant()), ("line 2", _grant(action="nope")), ("line 3", _grant(region="ZZZZ"))]
    with pytest.raises(EventError) as err:
        validate_batch(example_policy, raws, now=NOW, default_source="import")
    locations = [where for where, _ in err.value.problems]
    assert locations == ["line 2: action", "line 3: region"]
    assert "nothing was stored" in str(err.value)


def test_timestamps_keep_their_offset(example_policy: Policy) -> None:
    events, _, _ = validate_event(example_policy, _grant(), now=NOW, default_source="api")
    assert events[0].occurred_at.utcoffset() == timedelta(hours=2)


_FIELD_VALUES: dict[str, list[Any]] = {
    "subject": [None, "", "  ", "u\n1", "u" * 300, 7, "visitor-1"],
    "action": [None, "", "grnat", 3, "grant", "deny", "gpc", "erase"],
    "purposes": [None, [], "train_support_chatbot", ["nope"], [None], ["marketing", "marketing"], 5],
    "notice_id": [None, "nope", 4, "ai-training", "cookies"],
    "notice_version": [None, True, "", 9, "9", 2, [1]],
    "region": [None, "Germany", "\u0131t", 5, "", "de"],
    "locale": [None, "", "english!", 3, "de-AT"],
    "source": [None, "", "Support Desk", 1, "banner"],
    "occurred_at": [None, "", "yesterday", "2026-05-01T12:00:00", "2099-01-01T00:00:00Z", 5],
    "recorded_at": [None, "soon", 7],
    "signals": [None, [], "gpc", {"gpc": "yes"}],
    "wording_hash": [None, "0" * 64, 12],
}


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({}, optional={k: st.sampled_from(v) for k, v in _FIELD_VALUES.items()}))
def test_no_problem_ever_shows_none(example_policy: Policy, raw: dict[str, Any]) -> None:
    # Messages are read by people: a missing field is said in words ("is required"), never "None".
    for strict in (False, True):
        kw = {"require_notice_for_grant": strict, "allow_erase": not strict}
        for where, message in _problems(example_policy, raw, **kw):
            assert "None" not in message, (where, message)


# -- signals: a closed schema, since whatever is stored there is under the hash, out of erasure's reach


@pytest.mark.parametrize(
    "signals",
    [
        {"gpc": True, "via": "header"},
        {"gpc": False, "via": "dom"},
        {"do_not_train": True, "consent_mode": {"ad_storage": "denied", "analytics_storage": "granted"}},
        {"request_id": "req-0123456789abcdef"},
        {},
        None,
    ],
)
def test_signals_the_banner_gpc_and_requests_send_are_stored(
    example_policy: Policy, signals: dict[str, Any] | None
) -> None:
    events, _, problems = validate_event(
        example_policy, _grant(signals=signals), now=NOW, default_source="banner"
    )
    assert problems == []
    assert dict(events[0].signals) == (signals or {})


@pytest.mark.parametrize(
    ("signals", "where", "words"),
    [
        ({"email": "ann@example.com"}, "signals", ["'email' is not a signal", "gpc", "request_id"]),
        ({"gpc": True, "ip": "192.0.2.7", "note": "x"}, "signals", ["'ip', 'note' are not"]),
        ({"gpc": "yes"}, "signals.gpc", ["boolean"]),
        ({"via": "cookie"}, "signals.via", ["'dom' or 'header'"]),
        ({"consent_mode": {"ad_storage": "maybe"}}, "signals.consent_mode.ad_storage", ["'granted' or"]),
        ({"consent_mode": {"visitor": "192.0.2.7"}}, "signals.consent_mode", ["'visitor'", "ad_storage"]),
        ({"request_id": "ann@example.com"}, "signals.request_id", ["req-0123456789abcdef"]),
        ({"do_not_train": 1}, "signals.do_not_train", ["boolean"]),
        ([1], "signals", ["object"]),
    ],
)
def test_signals_outside_the_schema_are_refused_naming_the_key(
    example_policy: Policy, signals: Any, where: str, words: list[str]
) -> None:
    problems = _problems(example_policy, _grant(signals=signals))
    assert [w for w, _ in problems] == [where], problems
    for word in words:
        assert word in problems[0][1], problems
    with pytest.raises(EventError, match="nothing was stored"):
        validate_batch(example_policy, [("", _grant(signals=signals))], now=NOW, default_source="api")


def test_gpc_event_defaults_signals_gpc_to_true_and_keeps_false(example_policy: Policy) -> None:
    raw = {"subject": "v", "action": "gpc", "occurred_at": "2026-10-01T09:00:00Z"}
    on, _, _ = validate_event(example_policy, raw, now=NOW, default_source="api")
    off_raw = {**raw, "signals": {"gpc": False}}
    off, _, _ = validate_event(example_policy, off_raw, now=NOW, default_source="api")
    assert (dict(on[0].signals), dict(off[0].signals)) == ({"gpc": True}, {"gpc": False})

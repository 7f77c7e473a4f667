"""The closed signals schema on its own: exact messages, what is stored, which stored events fall outside.

Intake's tests check that signals reach the event and that problems carry their place; these pin the
words and the edges of ``ledger/signals.py`` itself (it is mutated with intake, docs/testing.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from consentgate.ledger.events import Action, ConsentEvent
from consentgate.ledger.signals import ALLOWED, ConsentMode, Signals, outside_schema, parse_signals

WHEN = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ALLOWED_WORDS = (
    "allowed: gpc, via, do_not_train, consent_mode, request_id, banner_choice, tc_string, addtl_consent"
)
NOT_STORED = "a signal consentgate stores (signals hold no notes or identifiers)"
MODE_TYPES = (
    "ad_storage, ad_user_data, ad_personalization, analytics_storage, functionality_storage, "
    "personalization_storage, security_storage"
)


def test_nothing_given_is_nothing_stored() -> None:
    assert parse_signals(None) == ({}, [])
    assert parse_signals({}) == ({}, [])


def test_only_the_keys_given_are_stored() -> None:
    raw = {
        "gpc": False,
        "via": None,
        "consent_mode": {"ad_storage": "denied"},
        "request_id": "req-0123456789abcdef",
    }
    assert parse_signals(raw) == (
        {"gpc": False, "consent_mode": {"ad_storage": "denied"}, "request_id": "req-0123456789abcdef"},
        [],
    )


def test_a_signals_instance_is_taken_as_is() -> None:
    assert parse_signals(Signals(gpc=True, via="header")) == ({"gpc": True, "via": "header"}, [])


@pytest.mark.parametrize("raw", [[1], "gpc", 1, True])
def test_not_an_object(raw: Any) -> None:
    assert parse_signals(raw) == ({}, [("signals", 'must be an object, e.g. {"gpc": true}')])


@pytest.mark.parametrize(
    ("raw", "problems"),
    [
        (
            {"email": "a@example.com"},
            [
                (
                    "signals",
                    f"'email' is not {NOT_STORED}; {ALLOWED_WORDS}",
                )
            ],
        ),
        (
            {"note": 1, "ip": 2, "gpc": True},
            [
                (
                    "signals",
                    f"'ip', 'note' are not {NOT_STORED}; {ALLOWED_WORDS}",
                )
            ],
        ),
        (
            {"consent_mode": {"visitor": "x"}},
            [("signals.consent_mode", f"'visitor' is not a Consent Mode v2 type; allowed: {MODE_TYPES}")],
        ),
        ({"via": "cookie"}, [("signals.via", "must be 'dom' or 'header'")]),
        (
            {"consent_mode": {"ad_storage": "maybe"}},
            [("signals.consent_mode.ad_storage", "must be 'granted' or 'denied'")],
        ),
        ({"gpc": "yes"}, [("signals.gpc", "must be a valid boolean")]),
        (
            {"request_id": "req-0123"},
            [("signals.request_id", "must be a request id such as req-0123456789abcdef")],
        ),
        ({"request_id": 7}, [("signals.request_id", "must be a valid string")]),
    ],
)
def test_problems_name_the_place_and_say_what_to_send(
    raw: dict[str, Any], problems: list[tuple[str, str]]
) -> None:
    assert parse_signals(raw) == ({}, problems)


def test_every_problem_is_reported() -> None:
    stored, problems = parse_signals({"gpc": "yes", "via": "cookie"})
    assert stored == {}
    assert [where for where, _ in problems] == ["signals.gpc", "signals.via"]


def test_the_schema_is_closed_at_both_levels() -> None:
    assert ALLOWED == (
        "gpc", "via", "do_not_train", "consent_mode", "request_id", "banner_choice",
        "tc_string", "addtl_consent",
    )  # fmt: skip
    with pytest.raises(ValueError, match="'x' is not a Consent Mode v2 type"):
        ConsentMode.model_validate({"x": "granted"})
    assert ConsentMode.model_validate({"ad_storage": "granted"}).ad_storage == "granted"


def _event(seq: int, signals: dict[str, Any]) -> ConsentEvent:
    return ConsentEvent("user", Action.GPC, WHEN, WHEN, signals=signals, seq=seq, event_id=f"e{seq}")


def test_outside_schema_names_keys_never_values() -> None:
    events = [
        _event(1, {"gpc": True}),
        _event(2, {}),
        _event(3, {"note": "ann@example.com", "gpc": True}),
        _event(4, {"via": "pigeon"}),
    ]
    found = [(e.seq, keys) for e, keys in outside_schema(events)]
    assert found == [(3, ["gpc", "note"]), (4, ["via"])]


def test_banner_choice_takes_only_the_three_buttons() -> None:
    assert parse_signals({"banner_choice": "custom"}) == ({"banner_choice": "custom"}, [])
    stored, problems = parse_signals({"banner_choice": "accept_some"})
    assert stored == {}
    assert problems == [("signals.banner_choice", "must be 'accept_all', 'reject_all' or 'custom'")]


def test_tcf_strings_are_kept_only_in_their_shape() -> None:
    tc = "CQgYw8AQgYw8AEsACBDECWFoAPLAAENAAAYgF5wBAAAgAIAAyAvMC84AcAAgADAAQAvMAEJABAXm.IF5wBIAAgAGAAgADIC8w"
    ac = "2~1.35~dv.89.2316"
    assert parse_signals({"tc_string": tc, "addtl_consent": ac}) == (
        {"tc_string": tc, "addtl_consent": ac},
        [],
    )
    for bad in ("alice@example.com", "BQgYw8AQgYw8AEsACBDECWFoAPLAA", tc + " ", "C" + "A" * 9000):
        _, problems = parse_signals({"tc_string": bad})
        assert [where for where, _ in problems] == ["signals.tc_string"], bad
    for bad in ("1~1.2", "2~1.35", "2~a~dv.1", "2~1~dv.1 x"):
        _, problems = parse_signals({"addtl_consent": bad})
        assert [where for where, _ in problems] == ["signals.addtl_consent"], bad

"""Subject tokens and visitor ids, as pure functions: expiry, tampering, key ids, rotation, domain
separation, and the constant-time comparison underneath."""

from __future__ import annotations

import base64
import hmac
import inspect
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consentgate.auth import tokens
from consentgate.auth.tokens import (
    DEFAULT_TTL,
    LEEWAY,
    MAX_TTL,
    Keyring,
    issue_subject_token,
    key_id,
)
from consentgate.errors import AuthError, BadInput

SECRET = "s" * 16 + "-fictional-test-secret-0001"
NEWER = "n" * 16 + "-fictional-test-secret-0002"
NOW = 1_780_000_000.0  # a fixed clock: 2026-05-28


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return decoded


def encode(claims: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()


def refused(ring: Keyring, token: str, *, now: float = NOW) -> str:
    with pytest.raises(AuthError) as info:
        ring.verify(token, now=now)
    assert info.value.status == 401
    return info.value.message


# -- issuing and verifying ---------------------------------------------------------------------------


def test_a_token_binds_one_subject_for_its_ttl() -> None:
    ring = Keyring([SECRET])
    token = ring.issue("user-42@example.com", 900, now=NOW)
    assert token.startswith("cgst1.")
    assert len(token.split(".")) == 3
    verified = ring.verify(token, now=NOW + 1)
    assert verified.subject == "user-42@example.com"
    assert verified.issued_at.timestamp() == NOW
    assert verified.expires_at.timestamp() == NOW + 900
    assert verified.kid == key_id(SECRET) == ring.signing_kid
    assert set(claims_of(token)) == {"sub", "iat", "exp", "kid", "jti"}


def test_the_default_lifetime_is_an_hour_and_the_longest_a_day() -> None:
    ring = Keyring([SECRET])
    claims = claims_of(ring.issue("u", now=NOW))
    assert claims["exp"] - claims["iat"] == DEFAULT_TTL == 3600
    assert claims_of(ring.issue("u", MAX_TTL, now=NOW))["exp"] - NOW == 86_400


@pytest.mark.parametrize("ttl", [0, -5, MAX_TTL + 1, 3600.5, True])
def test_a_ttl_out_of_range_is_bad_input(ttl: Any) -> None:
    with pytest.raises(BadInput, match="ttl must be"):
        Keyring([SECRET]).issue("u", ttl, now=NOW)


@pytest.mark.parametrize("subject", ["", "x" * 257])
def test_a_subject_must_be_a_sane_id(subject: str) -> None:
    with pytest.raises(BadInput, match="subject"):
        Keyring([SECRET]).issue(subject, now=NOW)


def test_two_tokens_for_the_same_subject_differ() -> None:
    ring = Keyring([SECRET])
    assert ring.issue("u", now=NOW) != ring.issue("u", now=NOW)


def test_the_longest_subject_in_the_widest_characters_round_trips() -> None:
    """256 characters outside the BMP: JSON escapes each to 12, the longest token issue can make."""
    ring = Keyring([SECRET])
    subject = "\U0001f600" * 256
    token = ring.issue(subject, now=NOW)
    assert len(token) > 4096
    assert ring.verify(token, now=NOW).subject == subject


@given(st.text(min_size=1, max_size=256))
def test_any_subject_round_trips(subject: str) -> None:
    ring = Keyring([SECRET])
    assert ring.verify(ring.issue(subject, now=NOW), now=NOW).subject == subject


# -- expiry and clocks -------------------------------------------------------------------------------


def test_expiry_allows_a_little_clock_skew_and_no_more() -> None:
    ring = Keyring([SECRET])
    token = ring.issue("u", 600, now=NOW)
    assert ring.verify(token, now=NOW + 600 + LEEWAY - 1).subject == "u"
    message = refused(ring, token, now=NOW + 600 + LEEWAY)
    assert "expired at 2026-" in message
    assert "new one" in message


def test_a_token_from_the_future_is_refused() -> None:
    ring = Keyring([SECRET])
    token = ring.issue("u", now=NOW + LEEWAY + 5)
    assert "future" in refused(ring, token)
    assert ring.verify(ring.issue("u", now=NOW + LEEWAY - 5), now=NOW).subject == "u"


# -- tampering ---------------------------------------------------------------------------------------


def test_changing_any_claim_breaks_the_signature() -> None:
    ring = Keyring([SECRET])
    prefix, _, signature = ring.issue("user-1@example.com", now=NOW).split(".")
    original = claims_of(ring.issue("user-1@example.com", now=NOW))
    for change in ({"sub": "user-2@example.com"}, {"exp": original["exp"] + 86_400}, {"iat": NOW - 5}):
        forged = f"{prefix}.{encode({**original, **change})}.{signature}"
        assert "altered" in refused(ring, forged)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2],  # a shortened signature
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # also the last char's unused bits
        lambda t: t[:-5] + ("A" if t[-5] != "A" else "B") + t[-4:],
        lambda t: t + ".extra",
        lambda t: t.replace("cgst1.", "cgst2.", 1),
        lambda t: t.split(".")[0] + "." + t.split(".")[2],
        lambda t: "cgst1.!!!." + t.split(".")[2],
        lambda t: "cgst1." + encode({"kid": 7}) + "." + t.split(".")[2],  # type: ignore[dict-item]
        lambda t: "cgst1." + base64.urlsafe_b64encode(b"[1, 2]").decode().rstrip("=") + ".AAAA",
        lambda t: "not a token",
        lambda t: "",
        lambda t: "cgst1." + "A" * 2000 + ".AAAA",
    ],
    ids=[
        "short-mac",
        "flipped-mac-last-char",
        "flipped-mac",
        "extra-part",
        "other-version",
        "no-payload",
        "bad-base64",
        "kid-not-a-string",
        "payload-not-an-object",
        "garbage",
        "empty",
        "too-long",
    ],
)
def test_malformed_or_altered_tokens_are_401(mangle: Any) -> None:
    ring = Keyring([SECRET])
    refused(ring, mangle(ring.issue("u", now=NOW)))


def test_a_signed_token_with_missing_or_silly_claims_is_refused() -> None:
    """Even with a valid signature (a buggy issuer), claims must be complete and in range."""
    ring = Keyring([SECRET])
    kid = ring.signing_kid
    for claims in (
        {"sub": "u", "iat": NOW, "exp": NOW + 60, "kid": kid},  # no jti
        {"sub": "", "iat": NOW, "exp": NOW + 60, "kid": kid, "jti": "x"},
        {"sub": "u", "iat": int(NOW), "exp": int(NOW) + MAX_TTL + 1, "kid": kid, "jti": "x"},
        {"sub": "u", "iat": True, "exp": int(NOW) + 60, "kid": kid, "jti": "x"},
    ):
        signed = f"cgst1.{encode(claims)}"
        mac = tokens._mac(SECRET, tokens._TOKEN_LABEL, signed)
        token = f"{signed}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
        assert "claims" in refused(ring, token)


# -- key ids and rotation ----------------------------------------------------------------------------


def test_a_token_from_another_deployment_names_the_unknown_key() -> None:
    theirs = Keyring([NEWER]).issue("u", now=NOW)
    message = refused(Keyring([SECRET]), theirs)
    assert key_id(NEWER) in message
    assert "rotated out" in message


def test_rotation_signs_with_the_first_secret_and_verifies_with_all() -> None:
    old_token = Keyring([SECRET]).issue("u", now=NOW)
    rotated = Keyring.from_setting(f" {NEWER} , {SECRET} ")
    assert rotated.kids == [key_id(NEWER), key_id(SECRET)]
    assert rotated.verify(old_token, now=NOW).kid == key_id(SECRET)
    new_token = rotated.issue("u", now=NOW)
    assert rotated.verify(new_token, now=NOW).kid == key_id(NEWER)
    # Once the old secret is dropped, its tokens stop working; the new ones keep working.
    retired = Keyring([NEWER])
    refused(retired, old_token)
    assert retired.verify(new_token, now=NOW).subject == "u"


def test_a_key_id_names_a_secret_without_revealing_it() -> None:
    assert key_id(SECRET) != key_id(NEWER)
    assert len(key_id(SECRET)) == 8
    assert key_id(SECRET) not in SECRET


@pytest.mark.parametrize("setting", ["", " , ", "short", f"{SECRET},tooshort"])
def test_secrets_must_exist_and_be_long(setting: str) -> None:
    with pytest.raises(BadInput, match=r"secrets\.token_urlsafe"):
        Keyring.from_setting(setting)


def test_the_offline_helper_signs_with_the_first_configured_secret() -> None:
    token = issue_subject_token(f"{NEWER},{SECRET}", "user-42@example.com", ttl=120, now=NOW)
    assert Keyring([NEWER]).verify(token, now=NOW).subject == "user-42@example.com"
    refused(Keyring([SECRET]), token)


# -- visitor ids and domain separation ---------------------------------------------------------------


def test_visitor_ids_are_random_signed_and_recognised() -> None:
    ring = Keyring([SECRET])
    ids = {ring.new_visitor_id() for _ in range(100)}
    assert len(ids) == 100
    for vid in ids:
        assert vid.startswith("cgv1.")
        assert len(vid) <= 80
        assert ring.is_visitor_id(vid)


def test_made_up_or_foreign_visitor_ids_are_not_recognised() -> None:
    ring = Keyring([SECRET])
    vid = ring.new_visitor_id()
    prefix, random_part, mac = vid.split(".")
    flipped = "B" if random_part[0] == "A" else "A"
    for fake in (
        f"{prefix}.{flipped}{random_part[1:]}.{mac}",
        f"{prefix}.{random_part}.{mac[:-2]}",
        f"{prefix}.{random_part}",
        f"{vid}.x",
        "cgv1.!!.!!",
        "user-1@example.com",
        Keyring([NEWER]).new_visitor_id(),
        "",
    ):
        assert not ring.is_visitor_id(fake), fake


def test_rotation_keeps_old_visitor_ids_recognised() -> None:
    old = Keyring([SECRET]).new_visitor_id()
    assert Keyring([NEWER, SECRET]).is_visitor_id(old)
    assert not Keyring([NEWER]).is_visitor_id(old)


def test_a_visitor_id_never_passes_as_a_token_nor_a_token_as_a_visitor_id() -> None:
    """One secret signs both, under different derived keys: re-labelling one as the other fails."""
    ring = Keyring([SECRET])
    vid = ring.new_visitor_id()
    _, random_part, vid_mac = vid.split(".")
    assert "visitor id" in refused(ring, vid)
    refused(ring, f"cgst1.{random_part}.{vid_mac}")
    # A token-shaped string carrying a visitor MAC over token-like claims does not verify …
    claims = {"sub": vid, "iat": int(NOW), "exp": int(NOW) + 60, "kid": ring.signing_kid, "jti": "x"}
    payload = encode(claims)
    visitor_mac = tokens._mac(SECRET, tokens._VISITOR_LABEL, f"cgst1.{payload}")
    forged = f"cgst1.{payload}.{base64.urlsafe_b64encode(visitor_mac).rstrip(b'=').decode()}"
    assert "altered" in refused(ring, forged)
    # … and a token relabelled as a visitor id is not one.
    token = ring.issue("u", now=NOW)
    _, payload, mac = token.split(".")
    assert not ring.is_visitor_id(f"cgv1.{payload}.{mac}")
    assert not ring.is_visitor_id(token)


# -- constant-time comparison ------------------------------------------------------------------------


def test_signatures_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(tokens.hmac, "compare_digest", spy)
    ring = Keyring([NEWER, SECRET])
    ring.verify(ring.issue("u", now=NOW), now=NOW)
    assert len(calls) == 1
    ring.is_visitor_id(Keyring([SECRET]).new_visitor_id())
    # Every active secret is tried, so how many comparisons run does not tell which secret matched.
    assert len(calls) == 3
    source = inspect.getsource(tokens)
    assert "== mac" not in source
    assert "mac ==" not in source


def test_a_non_canonical_encoding_of_a_valid_mac_is_refused() -> None:
    """The last base64url character of a 32-byte MAC carries 2 unused bits (zero when canonical);
    decoders ignore them, so without a canonical check four strings would verify as one token."""
    ring = Keyring([SECRET])
    token = ring.issue("u", now=NOW)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    value = alphabet.index(token[-1])
    assert value % 4 == 0
    assert ring.verify(token, now=NOW).subject == "u"
    for spare in (1, 2, 3):
        refused(ring, token[:-1] + alphabet[value + spare])

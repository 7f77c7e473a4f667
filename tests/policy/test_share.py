"""``web.share``: a site group's domains, validated like the rest of the policy; and the hand-off's
signature and expiry rules, which need no database (auth/handoff.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from consentgate.auth import handoff
from consentgate.auth.tokens import Keyring
from consentgate.errors import AuthError, PolicyError
from consentgate.policy import load_policy
from consentgate.policy.share import ShareSettings

from .test_policy import MINIMAL

KEYS = Keyring.from_setting("h" * 40)


def _load(tmp_path: Path, share: Any) -> ShareSettings | None:
    data = yaml.safe_load(MINIMAL)
    data["regions"]["EU"]["countries"] = ["DE", "FR"]  # YAML 1.1 reads NO (Norway) as false
    data.setdefault("web", {})["share"] = share
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_policy(path).web.share


def test_domains_are_host_names_and_subdomains_belong_to_them(tmp_path: Path) -> None:
    share = _load(tmp_path, {"domains": ["Example.com.", "shop.example.net"]})
    assert share is not None
    assert share.domains == ["example.com", "shop.example.net"]
    assert share.handoff_seconds == 60
    assert share.domain_of("www.example.com") == "example.com"
    assert share.domain_of("SHOP.example.net") == "shop.example.net"
    assert share.domain_of("badexample.com") is None
    assert share.domain_of("example.net") is None


@pytest.mark.parametrize(
    ("share", "what"),
    [
        ({"domains": ["https://www.example.com", "example.net"]}, "is not a host name"),
        ({"domains": ["example.com:8443", "example.net"]}, "is not a host name"),
        ({"domains": ["example.com"]}, "at least 2"),
        ({"domains": ["example.com", "EXAMPLE.com"]}, "at least two different domains"),
        ({"domains": ["example.com", "example.net"], "handoff_seconds": 3600}, "less than or equal to 600"),
        ({"domains": ["example.com", "example.net"], "ttl": 60}, "`ttl` is not a field"),
    ],
)
def test_a_wrong_group_is_refused_with_what_to_fix(tmp_path: Path, share: Any, what: str) -> None:
    with pytest.raises(PolicyError, match=r"web\.share") as err:
        _load(tmp_path, share)
    assert what in str(err.value)


def test_a_hand_off_carries_its_claims_and_lasts_its_time() -> None:
    token = handoff.issue(KEYS, "cgv1.a.b", "example.com", "example.net", 60, now=1_000_000)
    claims = handoff.verify(KEYS, token, now=1_000_059)
    assert (claims.subject, claims.source, claims.target) == ("cgv1.a.b", "example.com", "example.net")
    with pytest.raises(AuthError, match="expired"):
        handoff.verify(KEYS, token, now=1_000_060)
    other = handoff.issue(KEYS, "cgv1.a.b", "example.com", "example.net", 60, now=1_000_000)
    assert handoff.verify(KEYS, other, now=1_000_000).token_id != claims.token_id


@pytest.mark.parametrize("bad", ["", "cgh1.x", "cgst1.a.b", "cgh1.e30.AA", "x" * 5000])
def test_anything_but_a_signed_hand_off_is_refused(bad: str) -> None:
    with pytest.raises(AuthError, match="hand-off"):
        handoff.verify(KEYS, bad)


def test_a_rotated_secret_still_verifies_hand_offs_it_signed() -> None:
    old = handoff.issue(KEYS, "cgv1.a.b", "example.com", "example.net", 60)
    rotated = Keyring.from_setting("n" * 40 + "," + "h" * 40)
    assert handoff.verify(rotated, old).subject == "cgv1.a.b"

"""Warnings: what a policy may legally say but probably does not mean, and `policy check --strict`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from consentgate.cli import app
from consentgate.policy import parse_policy_text
from consentgate.policy.lint import GPC_STATES, PolicyWarning, banner_locales, policy_warnings
from consentgate.web import i18n

NOW = datetime(2026, 12, 1, tzinfo=UTC)

MANDATING = [
    "US-CA",
    "US-CO",
    "US-CT",
    "US-DE",
    "US-MD",
    "US-MN",
    "US-MT",
    "US-NE",
    "US-NH",
    "US-NJ",
    "US-OR",
]
MANDATING += ["US-TX"]
CLEAN = """
organization: {name: Example Ltd}
web: {default_locale: en}
regions:
  EU: {countries: [DE, FR]}
  US-OPTOUT: {countries: [US-CA, US-CO, US-CT, US-DE, US-MD, US-MN, US-MT, US-NE, US-NH, US-NJ, US-OR, US-TX],
              honour_gpc: true}
  US: {countries: [US]}
purposes:
  - id: train
    title: Train
    kind: ai_training
    notice: n
    max_age_days: 395
    basis: {EU: consent, US-OPTOUT: opt_out, US: opt_out, "*": consent}
  - id: security
    title: Security
    kind: security
    basis: {"*": legitimate_interest}
notices:
  - id: n
    purposes: [train]
    versions:
      - {version: 1, effective_from: 2026-01-01, text: {en: "Use my data.", de: "Meine Daten nutzen."}}
"""


def warnings_of(text: str) -> list[PolicyWarning]:
    return policy_warnings(parse_policy_text(text), now=NOW)


def codes(text: str) -> list[str]:
    return [w.code for w in warnings_of(text)]


def test_a_careful_policy_has_no_warnings() -> None:
    assert warnings_of(CLEAN) == []


def test_the_table_of_gpc_states_is_the_documented_one() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "policy.md").read_text(encoding="utf-8")
    assert set(GPC_STATES) == set(MANDATING)
    for name in GPC_STATES.values():
        assert name in doc


@pytest.mark.parametrize(
    ("edit", "region", "named", "not_named"),
    [
        # Listed in a region that ignores GPC.
        (("honour_gpc: true", "honour_gpc: false"), "US-OPTOUT", ["California", "US-TX"], []),
        # Not listed: Oregon and Texas fall back to the region listing US, which ignores GPC.
        ((", US-OR, US-TX]", "]"), "US", ["Oregon", "Texas"], ["California"]),
    ],
)
def test_a_gpc_state_in_a_region_without_honour_gpc_warns(
    edit: tuple[str, str], region: str, named: list[str], not_named: list[str]
) -> None:
    text = CLEAN.replace(*edit)
    assert text != CLEAN
    (w,) = warnings_of(text)
    assert (w.code, w.loc) == ("gpc_not_honoured", ("regions", region))
    assert "honour_gpc: true" in w.message
    assert [n for n in named if n in w.message] == named
    assert [n for n in not_named if n in w.message] == []


def test_a_us_region_honouring_gpc_or_no_us_region_at_all_does_not_warn() -> None:
    assert "gpc_not_honoured" not in codes(
        CLEAN.replace("US: {countries: [US]}", "US: {countries: [US], honour_gpc: true}")
    )
    # A state without a mandate in a region without honour_gpc is fine.
    assert codes(CLEAN.replace("US: {countries: [US]}", "US: {countries: [US-VA, US-UT]}")) == []
    # No region reaches California & co: they use "*", a policy that claims no US treatment.
    start, end = CLEAN.index("  US-OPTOUT:"), CLEAN.index("purposes:")
    eu_only = CLEAN[:start] + "  US-OPTOUT: {countries: [BR]}\n  US: {countries: [MX]}\n" + CLEAN[end:]
    policy = parse_policy_text(eu_only)
    assert {policy.region_group(state) for state in MANDATING} == {"*"}
    assert codes(eu_only) == []


def test_consent_without_max_age_warns() -> None:
    (w,) = warnings_of(CLEAN.replace("    max_age_days: 395\n", ""))
    assert (w.code, w.loc) == ("consent_never_expires", ("purposes", 0))
    assert "max_age_days" in w.message
    # Without consent anywhere, consent cannot expire: no warning.
    no_consent = CLEAN.replace("    max_age_days: 395\n", "").replace("EU: consent", "EU: opt_out")
    assert codes(no_consent.replace('"*": consent', '"*": opt_out')) == []


def test_the_banner_offers_shipped_locales_the_policy_has_wording_in() -> None:
    policy = parse_policy_text(CLEAN)
    assert banner_locales(policy) == ["de", "en"]
    # A locale the banner has no interface for is never offered; the default always is.
    odd = CLEAN.replace('de: "Meine Daten nutzen."', 'tlh: "nuqneH"').replace(
        "default_locale: en", "default_locale: fr"
    )
    assert "tlh" not in i18n.available()
    assert banner_locales(parse_policy_text(odd)) == ["en", "fr"]
    # A shipped locale with a region or script is named as shipped, whatever case the policy wrote.
    regional = CLEAN.replace(
        'de: "Meine Daten nutzen."', 'pt-br: "Usar meus dados.", zh-Hant: "使用我的資料。"'
    )
    assert banner_locales(parse_policy_text(regional)) == ["en", "pt-BR", "zh-Hant"]


def test_a_notice_without_wording_in_a_banner_locale_warns() -> None:
    text = CLEAN.replace(
        "  - id: security\n",
        "  - id: ads\n    title: Ads\n    kind: marketing\n    notice: m\n    max_age_days: 30\n"
        '    basis: {"*": consent}\n  - id: security\n',
    ) + (
        "  - id: m\n    purposes: [ads]\n    versions:\n"
        '      - {version: 1, effective_from: 2026-01-01, text: {en: "Send me ads."}}\n'
    )
    (w,) = warnings_of(text)
    assert (w.code, w.loc) == ("notice_missing_locale", ("purposes", 1, "notice"))
    assert "no wording in de" in w.message
    assert "see the en wording" in w.message
    assert codes(text.replace('{en: "Send me ads."}', '{en: "Send me ads.", de: "Werbung."}')) == []
    # The banner looks up "de" and then its language, never a regional variant: de-AT is not shown.
    assert codes(text.replace('{en: "Send me ads."}', '{en: "Send me ads.", de-AT: "Werbung."}')) == [
        "notice_missing_locale"
    ]
    # A later version must have the wording too.
    later = text.replace(
        '{en: "Send me ads."}}\n',
        '{en: "Send me ads.", de: "Werbung."}}\n'
        '      - {version: 2, effective_from: 2027-01-01, text: {en: "Send me ads, please."}}\n',
    )
    assert codes(later) == ["notice_missing_locale"]
    assert "version 2" in warnings_of(later)[0].message


def test_a_notice_that_does_not_list_its_purpose_warns() -> None:
    text = CLEAN.replace("    purposes: [train]\n", "    purposes: [security]\n")
    assert "notice_omits_purpose" in codes(text)


def test_a_consent_notice_with_no_version_in_force_warns() -> None:
    text = CLEAN.replace("effective_from: 2026-01-01", "effective_from: 2027-06-01")
    assert codes(text) == ["no_version_in_force"]


# -- policy check ------------------------------------------------------------------------------------


def run_check(tmp_path: Path, text: str, *args: str) -> tuple[int, str, str]:
    (tmp_path / "policy.yaml").write_text(text, encoding="utf-8")
    result = CliRunner(env={"COLUMNS": "240"}).invoke(
        app,
        ["--db", str(tmp_path / "l.db"), "--policy", str(tmp_path / "policy.yaml"), "policy", "check", *args],
    )
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(autouse=True)
def _no_ambient_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CONSENTGATE_DB", "CONSENTGATE_POLICY"):
        monkeypatch.delenv(name, raising=False)


def test_check_prints_warnings_with_their_line_and_exits_0(tmp_path: Path) -> None:
    text = CLEAN.replace("    max_age_days: 395\n", "")
    code, out, _ = run_check(tmp_path, text)
    assert code == 0
    assert "valid policy for Example Ltd, with 1 warning" in out
    line = text.splitlines().index("  - id: train") + 1
    assert f"warning [consent_never_expires]: purposes[0] (line {line}, column 5): purpose train" in out


def test_strict_turns_warnings_into_exit_3_and_never_says_valid(tmp_path: Path) -> None:
    text = CLEAN.replace("    max_age_days: 395\n", "")
    code, out, _ = run_check(tmp_path, text, "--strict")
    assert code == 3
    assert "valid policy" not in out
    assert "--strict fails it on 1 warning" in out
    code, out, _ = run_check(tmp_path, CLEAN, "--strict")
    assert code == 0
    assert "valid policy for Example Ltd" in out
    assert "warning [" not in out


def test_check_json_lists_warnings_and_strict_sets_the_exit_code(tmp_path: Path) -> None:
    text = CLEAN.replace("honour_gpc: true", "honour_gpc: false")
    code, out, _ = run_check(tmp_path, text, "--json")
    assert code == 0
    body = json.loads(out)
    (w,) = body["warnings"]
    assert w["code"] == "gpc_not_honoured"
    assert w["path"] == "regions.US-OPTOUT"
    assert w["line"] == next(
        i for i, line in enumerate(text.splitlines(), 1) if line.startswith("  US-OPTOUT:")
    )
    assert body["banner_locales"] == ["de", "en"]
    code, out, _ = run_check(tmp_path, text, "--json", "--strict")
    assert code == 3
    assert json.loads(out)["strict"] is True


def test_an_invalid_policy_exits_1(tmp_path: Path) -> None:
    code, _, err = run_check(tmp_path, CLEAN.replace("honour_gpc", "honor_gpc"), "--strict")
    assert code == 1
    assert "did you mean `honour_gpc`?" in err

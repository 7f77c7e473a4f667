"""Loading and validating policy files: good files load, bad files say file, place and problem."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from consentgate.errors import PolicyError
from consentgate.policy import Basis, Policy, load_policy, parse_policy_text
from consentgate.policy.schema import policy_json_schema

MINIMAL = """
organization: {name: Example Ltd}
regions:
  EU: {countries: [DE, FR, NO]}
  US-CA: {countries: [US-CA], honour_gpc: true}
purposes:
  - id: train
    title: Train
    kind: ai_training
    notice: n
    basis: {EU: consent, US-CA: opt_out, "*": consent}
notices:
  - id: n
    purposes: [train]
    versions:
      - {version: 1, effective_from: 2026-01-01, text: {en: "Use my data to train."}}
"""


def test_example_policy_models_a_real_saas(example_policy: Policy) -> None:
    kinds = {p.kind.value for p in example_policy.purposes}
    assert {"ai_training", "fine_tuning", "analytics", "personalisation", "marketing", "security"} <= kinds
    assert {s.kind for s in example_policy.sources} >= {"chat_transcripts", "event_log"}
    assert any(v.self_training for v in example_policy.vendors)
    assert example_policy.honours_gpc("US-OPTOUT")
    assert not example_policy.honours_gpc("EU")


def test_yaml_1_1_pitfalls_are_avoided() -> None:
    policy = parse_policy_text(MINIMAL)
    # Norway is a country, not the boolean false; a bare date means midnight UTC.
    assert "NO" in policy.regions["EU"].countries
    assert policy.notices[0].versions[0].effective_from.isoformat() == "2026-01-01T00:00:00+00:00"


def test_region_groups_and_fallbacks() -> None:
    policy = parse_policy_text(MINIMAL)
    assert policy.region_group("de") == "EU"
    assert policy.region_group("US-CA") == "US-CA"
    assert policy.region_group("US-NY") == "*"
    assert policy.region_group(None) == "*"
    assert policy.region_group("EU") == "EU"
    train = policy.purpose("train")
    assert train is not None
    assert policy.basis_for(train, "US-CA") is Basis.OPT_OUT
    assert policy.basis_for(train, "*") is Basis.CONSENT


@pytest.mark.parametrize(
    ("mutation", "where", "what"),
    [
        (lambda d: d["purposes"][0].update(kind="mining"), "purposes[0].kind", "Input should be"),
        (lambda d: d["purposes"][0]["basis"].update(EU="maybe"), "purposes[0].basis.EU", "Input should be"),
        (lambda d: d["purposes"][0]["basis"].update(APAC="consent"), "", "region 'APAC'"),
        (lambda d: d["purposes"][0].update(notice="missing"), "", "'missing' is not a notice id"),
        (lambda d: d["regions"]["EU"].update(countries=["Germany"]), "regions.EU.countries", "ISO 3166"),
        (
            lambda d: d["notices"][0]["versions"][0].update(effective_from="2026-01-01T00:00:00"),
            "notices[0].versions[0].effective_from",
            "time zone",
        ),
        (lambda d: d["purposes"][0].update(max_age_days=0), "purposes[0].max_age_days", "greater than 0"),
        (lambda d: d.update(purposes=[]), "purposes", "at least 1"),
        (lambda d: d["notices"][0]["versions"].append(dict(d["notices"][0]["versions"][0])), "", "twice"),
        (lambda d: d.update(surprise=1), "surprise", "`surprise` is not a field of the policy"),
    ],
)
def test_bad_policies_name_file_path_and_problem(tmp_path: Path, mutation, where: str, what: str) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(MINIMAL)
    data["regions"]["EU"]["countries"] = ["DE", "FR"]
    mutation(data)
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    message = str(err.value)
    assert str(path) in message
    assert where in message
    assert what in message


def test_yaml_syntax_errors_give_a_line(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("organization: {name: x\npurposes: [\n")
    with pytest.raises(PolicyError, match=r"line \d+"):
        load_policy(path)


def test_errors_point_at_the_yaml_line(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(MINIMAL.replace("kind: ai_training", "kind: mining"))
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert "purposes[0].kind (line 9, column 11)" in str(err.value)


def test_missing_file_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="consentgate init"):
        load_policy(tmp_path / "nope.yaml")


def test_every_schema_field_has_a_description() -> None:
    schema = policy_json_schema()
    missing = []
    for name, definition in [("Policy", schema), *schema["$defs"].items()]:
        for field, spec in definition.get("properties", {}).items():
            if "description" not in spec:
                missing.append(f"{name}.{field}")
    assert missing == []


def test_every_policy_field_is_documented() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "policy.md").read_text()
    schema = policy_json_schema()
    fields = set(schema["properties"])
    for definition in schema["$defs"].values():
        fields |= set(definition.get("properties", {}))
    undocumented = sorted(f for f in fields if f"`{f}`" not in doc)
    assert undocumented == []

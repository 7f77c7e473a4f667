"""A closed policy: an unknown key anywhere is refused at its own line, and so is a dangling id."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consentgate.errors import PolicyError
from consentgate.policy import load_policy, parse_policy_text
from consentgate.policy.load import _PolicyYamlLoader

from .test_policy import MINIMAL

EXAMPLE = (Path(__file__).parents[2] / "src" / "consentgate" / "policy" / "example.yaml").read_text()
PROBLEM = re.compile(r"^  (?P<path>\S+) \(line (?P<line>\d+), column (?P<column>\d+)\): (?P<message>.+)$")


@dataclass(frozen=True)
class Reported:
    path: str
    line: int
    column: int
    message: str


def refusal(text: str) -> list[Reported]:
    with pytest.raises(PolicyError) as err:
        parse_policy_text(text, file="policy.yaml")
    lines = str(err.value).splitlines()
    assert lines[0].startswith("policy.yaml: invalid policy")
    found = [PROBLEM.match(line) for line in lines[1:]]
    assert all(found), str(err.value)
    return [Reported(m["path"], int(m["line"]), int(m["column"]), m["message"]) for m in found if m]


def where(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    """1-based line and column of the ``nth`` occurrence of ``needle`` in ``text``."""
    at = -1
    for _ in range(nth + 1):
        at = text.index(needle, at + 1)
    line = text.count("\n", 0, at) + 1
    return line, at - (text.rfind("\n", 0, at) + 1) + 1


def test_the_example_and_minimal_policies_load() -> None:
    parse_policy_text(EXAMPLE)
    parse_policy_text(MINIMAL)


@pytest.mark.parametrize(
    ("good", "typo", "path", "message"),
    [
        (
            "US-CA: {countries: [US-CA], honour_gpc: true}",
            "US-CA: {countries: [US-CA], honor_gpc: true}",
            "regions.US-CA.honor_gpc",
            "`honor_gpc` is not a field of a region; did you mean `honour_gpc`?",
        ),
        (
            "    notice: n\n",
            "    notice: n\n    max_age_dayz: 365\n",
            "purposes[0].max_age_dayz",
            "`max_age_dayz` is not a field of a purpose; did you mean `max_age_days`?",
        ),
        (
            "effective_from: 2026-01-01,",
            "effective_from: 2026-01-01, re_consent: true,",
            "notices[0].versions[0].re_consent",
            "`re_consent` is not a field of a notice version; did you mean `reconsent`?",
        ),
        (
            "organization: {name: Example Ltd}",
            "organization: {name: Example Ltd, contcat: privacy@example.com}",
            "organization.contcat",
            "`contcat` is not a field of the organization; did you mean `contact`?",
        ),
        (
            "purposes:\n",
            "purposes:\n",
            "",
            "",
        ),
    ],
)
def test_a_misspelt_key_is_refused_at_its_line_with_the_closest_field(
    good: str, typo: str, path: str, message: str
) -> None:
    if not path:  # the unedited policy is the control: it must load
        parse_policy_text(MINIMAL)
        return
    text = MINIMAL.replace(good, typo)
    assert text != MINIMAL
    key = path.rsplit(".", 1)[-1]
    line, column = where(text, key + ":")
    assert Reported(path, line, column, message) in refusal(text)


def test_an_unknown_key_without_a_close_field_lists_the_fields() -> None:
    text = MINIMAL.replace("US-CA: {countries: [US-CA],", "US-CA: {countries: [US-CA], zzz: 1,")
    (problem,) = refusal(text)
    assert problem.message == "`zzz` is not a field of a region (fields: countries, honour_gpc)"


def test_a_misspelt_notice_key_is_named_and_so_is_the_missing_notice() -> None:
    text = MINIMAL.replace("    notice: n\n", "    notcie: ai-chat\n")
    problems = refusal(text)
    line, column = where(text, "notcie")
    assert (
        Reported(
            "purposes[0].notcie", line, column, "`notcie` is not a field of a purpose; did you mean `notice`?"
        )
        in problems
    )
    assert any(p.path == "purposes[0]" and "names no notice" in p.message for p in problems)


def test_the_banner_accept_setting_is_closed_and_off_unless_set() -> None:
    assert parse_policy_text(EXAMPLE).web.accept.fetch_tags_while_recording is False
    on = EXAMPLE.replace("web:\n", "web:\n  accept: {fetch_tags_while_recording: true}\n", 1)
    assert parse_policy_text(on).web.accept.fetch_tags_while_recording is True
    problems = refusal(on.replace("fetch_tags_while_recording", "fetch_tags_whilst_recording"))
    assert [p.path for p in problems] == ["web.accept.fetch_tags_whilst_recording"]
    assert "did you mean `fetch_tags_while_recording`" in problems[0].message


def test_nested_models_are_closed_too() -> None:
    text = EXAMPLE.replace(
        "- {name: _demo_replay, category: analytics,", "- {name: _demo_replay, categroy: analytics,"
    )
    problems = refusal(text)
    assert any(
        p.path == "web.cookies[1].categroy" and "did you mean `category`" in p.message for p in problems
    )


@pytest.mark.parametrize(
    ("good", "bad", "needle", "path", "message"),
    [
        (
            "    notice: n\n",
            "    notice: nn\n",
            "nn",
            "purposes[0].notice",
            "'nn' is not a notice id; did you mean 'n'?",
        ),
        (
            "US-CA: opt_out,",
            "US-CX: opt_out,",
            "US-CX",
            "purposes[0].basis.US-CX",
            "region 'US-CX' is not under 'regions'; did you mean 'US-CA'?",
        ),
        (
            "    purposes: [train]\n",
            "    purposes: [train, trian]\n",
            "trian",
            "notices[0].purposes[1]",
            "'trian' is not a purpose id; did you mean 'train'?",
        ),
        (
            "EU: {countries: [DE, FR, NO]}",
            "EU: {countries: [DE, FR, NO, US-CA]}",
            "US-CA], honour",
            "regions.US-CA.countries[0]",
            "US-CA is in both EU and US-CA; a code belongs to one region",
        ),
    ],
)
def test_cross_reference_errors_name_the_line_of_the_bad_value(
    good: str, bad: str, needle: str, path: str, message: str
) -> None:
    text = MINIMAL.replace(good, bad)
    assert text != MINIMAL
    line, column = where(text, needle)
    assert refusal(text) == [Reported(path, line, column, message)]


def test_dangling_ids_in_vendors_sources_and_consent_mode_are_located() -> None:
    text = EXAMPLE.replace(
        "purposes: [product_analytics], self_training: false}",
        "purposes: [product_analytic], self_training: false}",
    ).replace("purposes: [security], retention_days: 90", "purposes: [securty], retention_days: 90")
    text = text.replace(
        "  default_locale: en\n", "  default_locale: en\n  consent_mode: {marketting: [ad_storage]}\n"
    )
    problems = {p.path: p for p in refusal(text)}
    assert set(problems) == {
        "vendors[1].purposes[0]",
        "sources[3].purposes[0]",
        "web.consent_mode.marketting",
    }
    assert (problems["vendors[1].purposes[0]"].line, problems["vendors[1].purposes[0]"].column) == where(
        text, "product_analytic]"
    )
    assert problems["sources[3].purposes[0]"].line == where(text, "securty")[0]
    assert (
        problems["web.consent_mode.marketting"].line,
        problems["web.consent_mode.marketting"].column,
    ) == where(text, "marketting")
    assert "did you mean 'marketing'" in problems["web.consent_mode.marketting"].message


def test_duplicate_ids_and_versions_point_at_the_second_one() -> None:
    text = EXAMPLE.replace("  - id: service_delivery\n", "  - id: security\n")
    text = text.replace("      - version: 2\n", "      - version: 1\n")
    problems = refusal(text)
    dup = next(p for p in problems if p.path == "purposes[6].id")
    line, column = where(text, "id: security\n", 1)  # the second one; the error points at its value
    assert (dup.line, dup.column) == (line, column + len("id: "))
    assert dup.message == "id 'security' appears twice (first at purposes[5])"
    version = next(p for p in problems if p.path == "notices[0].versions[1].version")
    assert version.line == where(text, "      - version: 1\n", 1)[0]
    assert "appears twice" in version.message


def test_every_problem_is_reported_in_one_run_in_file_order() -> None:
    text = (
        MINIMAL.replace("honour_gpc: true", "honor_gpc: true")
        .replace("    notice: n\n", "    notice: x\n")
        .replace("    purposes: [train]\n", "    purposes: [tran]\n")
    )
    problems = refusal(text)
    assert [p.path for p in problems] == [
        "regions.US-CA.honor_gpc",
        "purposes[0].notice",
        "notices[0].purposes[0]",
    ]
    assert [p.line for p in problems] == sorted(p.line for p in problems)


def test_a_key_written_twice_is_refused() -> None:
    text = MINIMAL.replace("    notice: n\n", "    notice: n\n    kind: analytics\n")
    (problem,) = refusal(text)
    assert problem.path == "purposes[0].kind"
    assert (problem.line, problem.column) == where(text, "kind: analytics")
    assert problem.message == "`kind` appears twice in this mapping (first at line 9); keep one"


def test_file_name_is_named(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(MINIMAL.replace("honour_gpc", "honor_gpc"))
    with pytest.raises(PolicyError, match=re.escape(f"{path}: invalid policy")):
        load_policy(path)


# -- property: a one-character edit of any field name anywhere in the example is refused at its line --

# Mappings whose keys are data (ids, locales), not field names, by the key of the mapping holding them.
DATA_MAPPINGS = {"regions", "basis", "text", "consent_mode"}


@dataclass(frozen=True)
class Key:
    name: str
    line: int  # 1-based
    column: int  # 1-based
    start: int  # offset in the text
    siblings: frozenset[str]  # the other keys of its mapping (an edit to one of them is no typo)
    parent: str  # the key of the mapping that holds it, "" at the top level


def _keys(node: yaml.Node, parent: str = "") -> list[Key]:
    found: list[Key] = []
    if isinstance(node, yaml.MappingNode):
        names = frozenset(str(k.value) for k, _ in node.value)
        for k, v in node.value:
            if k.style is None:  # plain scalars only: a quoted "*" is edited differently
                found.append(
                    Key(
                        str(k.value),
                        k.start_mark.line + 1,
                        k.start_mark.column + 1,
                        k.start_mark.index,
                        names,
                        parent,
                    )
                )
            found += _keys(v, str(k.value))
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            found += _keys(item, parent)
    return found


ROOT = yaml.compose(EXAMPLE, Loader=_PolicyYamlLoader)
assert ROOT is not None
KEYS = _keys(ROOT)
FIELD_KEYS = [k for k in KEYS if k.parent not in DATA_MAPPINGS]
BASIS_KEYS = [k for k in KEYS if k.parent == "basis"]
# Every field name any mapping of the policy has: an edit into one of those may be another valid key.
CHARS = "abcdefghijklmnopqrstuvwxyz_"


@st.composite
def edits(draw: st.DrawFn, keys: list[Key]) -> tuple[Key, str]:
    key = draw(st.sampled_from(keys))
    kind = draw(
        st.sampled_from(["insert", "delete", "replace"] if len(key.name) > 1 else ["insert", "replace"])
    )
    if kind == "insert":
        at = draw(st.integers(0, len(key.name)))
        edited = key.name[:at] + draw(st.sampled_from(CHARS)) + key.name[at:]
    elif kind == "delete":
        at = draw(st.integers(0, len(key.name) - 1))
        edited = key.name[:at] + key.name[at + 1 :]
    else:
        at = draw(st.integers(0, len(key.name) - 1))
        edited = (
            key.name[:at]
            + draw(st.sampled_from(CHARS.replace(key.name[at].lower(), "")))
            + key.name[at + 1 :]
        )
    return key, edited


def _apply(key: Key, edited: str) -> str:
    return EXAMPLE[: key.start] + edited + EXAMPLE[key.start + len(key.name) :]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits(FIELD_KEYS))
def test_any_single_character_edit_of_a_field_name_is_refused_at_its_line(edit: tuple[Key, str]) -> None:
    key, edited = edit
    # Landing on another key of the same mapping is a different (valid or duplicate) policy, not a typo.
    if edited in key.siblings or edited == key.name:
        return
    problems = refusal(_apply(key, edited))
    assert any(
        p.line == key.line and p.column == key.column and f"`{edited}`" in p.message for p in problems
    ), (
        key,
        edited,
        problems,
    )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits(BASIS_KEYS))
def test_an_edited_basis_region_is_refused_at_its_line(edit: tuple[Key, str]) -> None:
    key, edited = edit
    if edited == key.name:
        return
    problems = refusal(_apply(key, edited))
    # Either a region that does not exist, or one the same basis already names (a key written twice).
    assert any(p.line == key.line and p.column == key.column and edited in p.message for p in problems), (
        key,
        edited,
        problems,
    )

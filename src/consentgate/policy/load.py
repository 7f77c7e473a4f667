"""Read a policy file and turn every mistake into a message that names file, place and problem."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from consentgate.errors import PolicyError
from consentgate.policy.models import Policy


class _PolicyYamlLoader(yaml.SafeLoader):
    """YAML 1.2-style scalars: only true/false are booleans, timestamps stay strings.

    YAML 1.1 would read the country code ``NO`` (Norway) as ``False`` and turn timestamps into
    naive datetimes; pydantic then parses the strings with their zones intact.
    """


_PolicyYamlLoader.yaml_implicit_resolvers = {
    first: [
        (tag, rx)
        for tag, rx in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
for _first in "tTfF":
    _PolicyYamlLoader.yaml_implicit_resolvers.setdefault(_first, []).insert(
        0, ("tag:yaml.org,2002:bool", _BOOL)
    )


def _construct_bool(loader: yaml.SafeLoader, node: yaml.Node) -> bool:
    assert isinstance(node, yaml.ScalarNode)
    return str(loader.construct_scalar(node)).lower() == "true"


_PolicyYamlLoader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_policy_text(text: str, *, file: str = "<policy>") -> Policy:
    """Validate policy YAML held in memory (used by tests and the server's reload)."""
    try:
        root = yaml.compose(text, Loader=_PolicyYamlLoader)
        data = yaml.load(text, Loader=_PolicyYamlLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise PolicyError(f"{file}: not valid YAML{where}: {problem}", file=file) from None
    if not isinstance(data, dict):
        raise PolicyError(f"{file}: a policy must be a mapping with keys such as 'purposes'", file=file)
    _dates_to_midnight_utc(data)
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = _format_loc(err["loc"])
            line = _line_of(root, err["loc"])
            at = f"{loc} (line {line})" if line else loc or "(top level)"
            msg = err["msg"].removeprefix("Value error, ")
            problems.append((at, msg))
        lines = "\n".join(f"  {at}: {msg}" for at, msg in problems)
        raise PolicyError(f"{file}: invalid policy:\n{lines}", file=file, problems=problems) from None


def load_policy(path: str | Path) -> Policy:
    """Load and validate a policy file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError(
            f"{p}: policy file not found; create one with `consentgate init DIR` or pass --policy FILE",
            file=str(p),
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{p}: cannot read policy file: {exc}", file=str(p)) from None
    return parse_policy_text(text, file=str(p))


def _dates_to_midnight_utc(data: Any) -> None:
    """``effective_from: 2026-01-01`` means midnight UTC; a time without a zone stays an error."""
    for notice in data.get("notices") or []:
        if not isinstance(notice, dict):
            continue
        for version in notice.get("versions") or []:
            value = version.get("effective_from") if isinstance(version, dict) else None
            if isinstance(value, str) and _DATE_ONLY.match(value.strip()):
                version["effective_from"] = value.strip() + "T00:00:00Z"


def _format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not out:
            out = str(part)
        else:
            out += f".{part}"
    return out


def _line_of(node: Any, loc: tuple[Any, ...]) -> int | None:
    """The YAML line of the deepest node the error location reaches."""
    line = None
    for part in loc:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            node = None
    if node is not None:
        line = node.start_mark.line + 1
    return line

"""Read a policy file and turn every mistake into a message that names file, place and problem."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from consentgate.errors import PolicyError
from consentgate.policy.models import (
    CollectionPeriod,
    CookieCategoryRule,
    Notice,
    NoticeVersion,
    Organization,
    Policy,
    Purpose,
    Region,
    Source,
    SourceCrawl,
    SourceStore,
    TrackerHostRule,
    Vendor,
    Web,
)
from consentgate.policy.references import KEY_ERRORS, did_you_mean


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
    if root is None or not isinstance(data, dict):
        raise PolicyError(f"{file}: a policy must be a mapping with keys such as 'purposes'", file=file)
    problems = duplicate_keys(root)
    _dates_to_midnight_utc(data)
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        problems += [_locate(root, err) for err in _all_errors(data, exc)]
    if problems:
        problems.sort(key=lambda p: (p.line or 0, p.column or 0))
        count = f" ({len(problems)} problems)" if len(problems) > 1 else ""
        lines = "\n".join(f"  {p}" for p in problems)
        raise PolicyError(
            f"{file}: invalid policy{count}:\n{lines}",
            file=file,
            problems=[(p.where, p.message) for p in problems],
        )
    return policy


def position(text: str, loc: tuple[str | int, ...]) -> tuple[int | None, int | None]:
    """1-based line and column in policy YAML ``text`` of what ``loc`` names (a mapping key where the
    path ends in one), for messages about a policy that loaded, such as warnings."""
    try:
        root = yaml.compose(text, Loader=_PolicyYamlLoader)
    except yaml.YAMLError:
        return None, None
    return (None, None) if root is None else _position(root, loc, key=True)


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


def _all_errors(data: dict[str, Any], exc: ValidationError) -> list[ErrorDetails]:
    """The errors of ``exc``, plus those that only show once unknown keys are out of the way.

    Cross-references are checked only when every field is valid, so ``notcie: ai-chat`` alone would
    hide that the purpose then names no notice. Validating again without the unknown keys reports
    both in one run; a reviewer should not have to fix a file one error at a time.
    """
    errors = exc.errors()
    unknown = [tuple(e["loc"]) for e in errors if e["type"] == "extra_forbidden"]
    if not unknown:
        return errors
    trimmed = copy.deepcopy(data)
    try:
        for loc in unknown:
            parent: Any = trimmed
            for part in loc[:-1]:
                parent = parent[part]
            del parent[loc[-1]]
    except (KeyError, IndexError, TypeError):  # a location pydantic built differently: report what we have
        return errors
    try:
        Policy.model_validate(trimmed)
    except ValidationError as again:
        seen = {(tuple(e["loc"]), e["type"]) for e in errors}
        errors += [e for e in again.errors() if (tuple(e["loc"]), e["type"]) not in seen]
    return errors


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a policy file, where a reader finds it."""

    path: str
    message: str
    line: int | None = None
    column: int | None = None

    @property
    def where(self) -> str:
        """``purposes[0].notice (line 40, column 13)``: the YAML path, then the place in the file."""
        place = f"line {self.line}, column {self.column}" if self.line else ""
        if not self.path:
            return f"(top level, {place})" if place else "(top level)"
        return f"{self.path} ({place})" if place else self.path

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


# What a reader calls each mapping of the policy, for "`x` is not a field of a region".
_NOUNS: dict[type[BaseModel], str] = {
    Policy: "the policy (top level)",
    Organization: "the organization",
    Web: "web",
    CookieCategoryRule: "a web.cookies rule",
    TrackerHostRule: "a web.trackers rule",
    Region: "a region",
    Purpose: "a purpose",
    Notice: "a notice",
    NoticeVersion: "a notice version",
    Vendor: "a vendor",
    Source: "a source",
    SourceStore: "a source's store",
    SourceCrawl: "a source's crawl",
    CollectionPeriod: "a source's collection period",
}


def _locate(root: yaml.Node, err: ErrorDetails) -> Problem:
    loc = tuple(err["loc"])
    line, column = _position(root, loc, key=err["type"] in KEY_ERRORS)
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden" and loc:
        message = _unknown_field(loc)
    return Problem(_format_loc(loc), message, line, column)


def _unknown_field(loc: tuple[str | int, ...]) -> str:
    key = str(loc[-1])
    model = model_at(loc[:-1])
    if model is None:  # pragma: no cover - every closed mapping is a model
        return f"`{key}` is not a known field here"
    fields = sorted(f.alias or name for name, f in model.model_fields.items())
    noun = _NOUNS.get(model, model.__name__)
    hint = did_you_mean(key, fields, quote="`")
    return f"`{key}` is not a field of {noun}" + (hint or f" (fields: {', '.join(fields)})")


def model_at(loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The policy model whose mapping sits at ``loc`` (``("regions", "EU")`` → :class:`Region`)."""
    annotation: Any = Policy
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return None
            annotation = field.annotation
        elif get_origin(annotation) in (list, dict):
            annotation = get_args(annotation)[-1]
        else:
            return None
    annotation = _unwrap(annotation)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """``X | None`` and ``Annotated[X, …]`` → ``X``."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _unwrap(get_args(annotation)[0])
    if origin in (Union, UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _unwrap(args[0])
    return annotation


def duplicate_keys(node: yaml.Node, loc: tuple[str | int, ...] = ()) -> list[Problem]:
    """YAML keeps the last of two equal keys without a word; a policy must not (which one was meant?)."""
    found: list[Problem] = []
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, yaml.Node] = {}
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                first = seen[name].start_mark.line + 1
                found.append(
                    Problem(
                        _format_loc((*loc, name)),
                        f"`{name}` appears twice in this mapping (first at line {first}); keep one",
                        key.start_mark.line + 1,
                        key.start_mark.column + 1,
                    )
                )
            else:
                seen[name] = key
            found += duplicate_keys(value, (*loc, name))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            found += duplicate_keys(item, (*loc, i))
    return found


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


def _position(root: yaml.Node, loc: tuple[Any, ...], *, key: bool) -> tuple[int | None, int | None]:
    """1-based line and column of what ``loc`` names: its value, or with ``key`` the mapping key.

    Where the path ends early (a missing field), the deepest node reached is named: the mapping the
    field is missing from.
    """
    node: yaml.Node | None = root
    mark = root.start_mark
    for i, part in enumerate(loc):
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if str(k.value) == str(part)), None)
            if pair is None:
                break
            if key and i == len(loc) - 1:
                mark = pair[0].start_mark
                break
            node = pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
        mark = node.start_mark
    return mark.line + 1, mark.column + 1

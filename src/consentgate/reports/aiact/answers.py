"""The answers file: what the provider declares that consentgate cannot derive.

YAML kept beside the policy (``ai-act-answers.yaml`` next to it by default), with keys mirroring the
summary's JSON paths::

    version: "2026.1"                  # the summary's version (else a digest of its content)
    general:
      provider:
        authorised_representative: none
      model:
        placed_on_market: 2026-08-01

Keys are checked as the policy's are: a misspelt key is an error naming the nearest valid one (a key
silently ignored would leave the answer it meant unanswered). A declared answer never overrides a
derived one: when both exist and differ, building the summary fails and names both (docs/aiact.md).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import yaml

from consentgate.errors import BadInput
from consentgate.policy.load import duplicate_keys
from consentgate.policy.references import did_you_mean
from consentgate.reports.aiact.fields import ITEMS, Field, declared, derived

DEFAULT_NAME = "ai-act-answers.yaml"
HEADER = ("version",)


def load_answers(path: Path) -> dict[str, Any]:
    """``{"general.model.placed_on_market": "2026-08-01", …}``; a :class:`BadInput` naming the file
    and key for anything that is not a valid answer."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(f"{path}: answers file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: cannot read the answers file: {exc}") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError) as exc:  # ValueError: a date such as 2026-13-01
        raise BadInput(f"{path}: not valid YAML: {exc}") from None
    if root is None or data is None:
        return {}
    twice = duplicate_keys(root)  # YAML keeps the last of two equal keys; which answer was meant?
    if twice:
        raise BadInput(f"{path}: " + "; ".join(str(p) for p in twice))
    if not isinstance(data, dict):
        raise BadInput(f"{path}: the answers file must be a mapping with keys such as 'general'")
    found: dict[str, Any] = {}
    _walk(path, data, "", found)
    return found


def _walk(file: Path, node: dict[Any, Any], prefix: str, found: dict[str, Any]) -> None:
    for key, value in node.items():
        where = f"{prefix}{key}"
        if where in ITEMS or where in HEADER:
            if value is None or value == "" or value == []:
                raise BadInput(f"{file}: `{where}` has no answer; write one (e.g. none) or remove the key")
            found[where] = _plain(value)
            if where in ITEMS and ITEMS[where].date:
                _date(file, where, found[where])
            continue
        if isinstance(value, dict) and any(p.startswith(where + ".") for p in ITEMS):
            _walk(file, value, where + ".", found)
            continue
        raise BadInput(f"{file}: `{where}` is not a field of the AI Act summary" + _hint(where))


def _date(file: Path, where: str, value: Any) -> None:
    try:
        dt.date.fromisoformat(value if isinstance(value, str) and len(value) == 10 else "")
    except ValueError:
        raise BadInput(f"{file}: `{where}` must be a date such as 2026-09-01, not {value!r}") from None


def _hint(where: str) -> str:
    depth = where.count(".") + 1
    known = {".".join(p.split(".")[:depth]) for p in (*ITEMS, *HEADER) if p.count(".") + 1 >= depth}
    return did_you_mean(where, sorted(known), quote="`") or f" (fields: {', '.join(sorted(known))})"


def _plain(value: Any) -> Any:
    """YAML dates as ISO text, so the summary's JSON holds what the file says."""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def apply_answers(
    fields: dict[str, Field],
    answers: dict[str, Any],
    file: str,
    checks: dict[str, Any],
) -> dict[str, Field]:
    """``fields`` with the declared answers filled in; a :class:`BadInput` listing every declared
    answer that contradicts a derived one (or a check on it), so nothing contradictory is published."""
    out = dict(fields)
    problems = []
    for path, value in answers.items():
        if path in HEADER:
            continue
        have = out.get(path)
        check = checks.get(path)
        problem = check(value) if check is not None else None
        if problem:
            problems.append(f"`{path}` is declared {_shown(value)}, but {problem}")
        elif have is not None and have.provenance == "derived":
            if _same(have.value, value):
                out[path] = derived(have.value, have.source)
            else:
                problems.append(
                    f"`{path}` is declared {_shown(value)}, but consentgate derives {_shown(have.value)} "
                    f"from {have.source}"
                )
        else:
            out[path] = declared(value, f"answers file {file}: {path}")
    if problems:
        lines = "\n".join(f"  {p}" for p in problems)
        raise BadInput(
            f"{file}: declared answers contradict what the training runs and the policy show; correct "
            f"the answers file (or the policy, if it is wrong) and build the summary again:\n{lines}"
        )
    return out


def _shown(value: Any) -> str:
    if value is None:
        return "not applicable"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return sorted(map(_canonical, a)) == sorted(map(_canonical, b))
    return _canonical(a) == _canonical(b)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)

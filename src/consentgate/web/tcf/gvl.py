"""The Global Vendor List the service hosts: read, checked, and kept only when it is newer.

The browser never fetches IAB's list itself (issue 17): the service serves the copy it holds, the one
the TC strings it writes are built against, so ``vendorListVersion`` in every string names a list the
service can show.
"""

from __future__ import annotations

import functools
import json
import os
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from consentgate.errors import BadInput, Conflict

SNAPSHOT_NAME = "gvl.json"  # the copy shipped in this package, and the name of an updated copy
# Every list the service has served, vendorListVersion → tcfPolicyVersion: the ledger refuses a TC string
# naming a list the service never had (docs/tcf.md), and a newer list replaces the file of the last one.
HISTORY_NAME = "gvl-history.json"
# The language of the GVL's own texts: IAB publishes the list in English, and its translations of the
# purposes, features and data categories as separate files (``purposes-de.json``), which
# ``consentgate tcf add-translation`` stores beside the list as TRANSLATION_NAME.
GVL_LANGUAGE = "en"
# A list ``store_gvl`` replaced, kept under its version: a TC string written against it just before the
# update is checked against what the banner disclosed under it (docs/tcf.md, "What the ledger checks").
KEPT_NAME = "gvl-{version}.json"
TRANSLATION_NAME = "purposes-{language}.json"
# The sections of a translation the layers show; every purpose, special feature and stack the list
# has must be named in it.
TRANSLATED = ("purposes", "specialPurposes", "features", "specialFeatures", "stacks", "dataCategories")


class GvlVendor(BaseModel):
    """One vendor; the camelCase names are IAB's own, so the JSON validates as it is."""

    # Open: IAB adds fields to vendors between specification versions; only these decide bits.
    model_config = ConfigDict(extra="allow", frozen=True)

    id: int = Field(ge=1, lt=1 << 16)
    name: str
    purposes: list[int] = Field(default_factory=list)
    legIntPurposes: list[int] = Field(default_factory=list)
    flexiblePurposes: list[int] = Field(default_factory=list)
    specialPurposes: list[int] = Field(default_factory=list)
    specialFeatures: list[int] = Field(default_factory=list)
    deletedDate: datetime | None = None


class GvlStack(BaseModel):
    """A stack: IAB's name and description for a set of purposes and special features, which a first
    layer may show instead of naming them one by one (TCF policy, Appendix A)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    id: int = Field(ge=1)
    name: str
    description: str = ""
    purposes: list[int] = Field(default_factory=list)
    specialFeatures: list[int] = Field(default_factory=list)


class Gvl(BaseModel):
    """The fields of a GVL (specification version 3) that TC strings and the banner use."""

    model_config = ConfigDict(extra="allow", frozen=True)

    gvlSpecificationVersion: int = Field(ge=3)
    vendorListVersion: int = Field(ge=1, lt=1 << 12)
    tcfPolicyVersion: int = Field(ge=4, lt=1 << 6)  # 4 = TCF 2.2; later lists say 5
    lastUpdated: datetime
    purposes: dict[str, dict[str, Any]]
    specialFeatures: dict[str, dict[str, Any]]
    stacks: dict[str, GvlStack] = Field(default_factory=dict)
    vendors: dict[str, GvlVendor]

    def vendor(self, vendor_id: int) -> GvlVendor | None:
        """The vendor under this id, unless IAB deleted it (a deleted vendor gets no signal)."""
        found = self.vendors.get(str(vendor_id))
        return None if found is None or found.deletedDate is not None else found

    def active_vendor_ids(self) -> list[int]:
        return sorted(v.id for v in self.vendors.values() if v.deletedDate is None)


def parse_gvl(text: str | bytes, source: str) -> Gvl:
    """A GVL from its JSON text; a clear :class:`BadInput` naming ``source`` when it is not one."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise BadInput(f"{source} is not JSON ({exc}); a Global Vendor List is vendor-list.json") from exc
    try:
        gvl = Gvl.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the top level"
        raise BadInput(
            f"{source} is not a Global Vendor List (specification version 3): {where}: {first['msg']}"
        ) from exc
    for section, entries in (("vendors", gvl.vendors), ("stacks", gvl.stacks)):
        for key, entry in entries.items():
            if key != str(entry.id):
                raise BadInput(f"{source}: {section}.{key} has id {entry.id}; the key and the id must agree")
    return gvl


@functools.cache
def shipped_gvl() -> Gvl:
    """The snapshot this package ships (see docs/tcf.md for what it is)."""
    text = resources.files("consentgate.web.tcf").joinpath(SNAPSHOT_NAME).read_bytes()
    return parse_gvl(text, "the shipped GVL snapshot")


def gvl_dir(configured: Path | None) -> Path:
    """Where updated lists live: the ``tcf_gvl_dir`` setting, else $XDG_DATA_HOME/consentgate/tcf."""
    if configured is not None:
        return configured
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "consentgate" / "tcf"


def served_gvl(directory: Path) -> tuple[bytes, Gvl]:
    """The JSON the service serves, as stored, and the list it holds: an updated copy in ``directory``
    if there is one, else the snapshot this package ships.

    IAB's list is about a megabyte of JSON, so it is parsed once per version of the file, not per
    request. The text and the parsed list always come from the same file: ``store_gvl`` replaces it
    by a rename, and the version key (inode, size, modification time) is taken from the open file.
    """
    path = directory / SNAPSHOT_NAME
    try:
        with path.open("rb") as fh:
            st = os.fstat(fh.fileno())
            text = fh.read()
    except FileNotFoundError:
        shipped = resources.files("consentgate.web.tcf").joinpath(SNAPSHOT_NAME).read_bytes()
        return shipped, shipped_gvl()
    key = (str(path), st.st_ino, st.st_size, st.st_mtime_ns)
    cached = _PARSED.get(key)
    if cached is None:
        cached = parse_gvl(text, str(path))
        _PARSED.clear()  # one list per service: the newest replaces the one before
        _PARSED[key] = cached
    return text, cached


_PARSED: dict[tuple[str, int, int, int], Gvl] = {}


def gvl_of(directory: Path, version: int) -> Gvl | None:
    """The list with this ``vendorListVersion`` if the service still has it: the one served now, the
    shipped snapshot, or one ``store_gvl`` replaced and kept; None for a list replaced before
    consentgate kept them. Asked per recorded TC string, so the list served now costs one ``stat``
    while its file is unchanged."""
    path = directory / SNAPSHOT_NAME
    stamp = _stamp(path)
    # no list stored: the shipped snapshot is served
    served = shipped_gvl() if stamp is None else _PARSED.get((str(path), *stamp)) or current_gvl(directory)
    if served.vendorListVersion == version:
        return served
    if shipped_gvl().vendorListVersion == version:
        return shipped_gvl()
    kept = directory / KEPT_NAME.format(version=version)
    stamp = _stamp(kept)
    if stamp is None:
        return None
    key = (str(kept), *stamp)
    if key not in _KEPT:
        found = parse_gvl(kept.read_bytes(), str(kept))
        _KEPT[key] = found if found.vendorListVersion == version else None
    return _KEPT[key]


_KEPT: dict[tuple[str, int, int, int], Gvl | None] = {}


def current_gvl(directory: Path) -> Gvl:
    """The GVL the service serves (:func:`served_gvl`)."""
    return served_gvl(directory)[1]


def store_gvl(text: str | bytes, source: str, directory: Path) -> Gvl:
    """Keep a new GVL in ``directory`` if it checks out and is newer than the one served now.

    An older or equal ``vendorListVersion`` is refused: TC strings already written name the newer
    version, and vendors read a string against the list version it names (TCF policy: a CMP moves
    forward only). Written to a temporary file and renamed, so the service never reads half a list.
    """
    new = parse_gvl(text, source)
    old = current_gvl(directory)
    if new.vendorListVersion <= old.vendorListVersion:
        raise Conflict(
            f"{source} is vendorListVersion {new.vendorListVersion}; the service already serves "
            f"{old.vendorListVersion}. Only a newer list replaces it."
        )
    if new.tcfPolicyVersion < old.tcfPolicyVersion:
        raise Conflict(
            f"{source} is for tcfPolicyVersion {new.tcfPolicyVersion}, older than the "
            f"{old.tcfPolicyVersion} served now; a list never moves back to an older policy."
        )
    directory.mkdir(parents=True, exist_ok=True)
    replaced = directory / SNAPSHOT_NAME
    if replaced.exists():  # the shipped snapshot needs no copy: it is always there
        _replace(directory / KEPT_NAME.format(version=old.vendorListVersion), replaced.read_bytes())
    # The history first: a string written against the new list must never meet a ledger that has not
    # heard of it (the reverse, a version in the history that was never served, refuses nothing real).
    history = served_lists(directory) | {new.vendorListVersion: new.tcfPolicyVersion}
    _replace(directory / HISTORY_NAME, json.dumps({str(k): v for k, v in sorted(history.items())}).encode())
    _replace(directory / SNAPSHOT_NAME, text if isinstance(text, bytes) else text.encode("utf-8"))
    return new


def _replace(path: Path, data: bytes) -> None:
    """Write to a temporary file and rename, so no reader ever sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def served_lists(directory: Path) -> dict[int, int]:
    """Every GVL this service has served (vendorListVersion → tcfPolicyVersion): the shipped snapshot,
    the lists ``store_gvl`` kept in ``directory``, and the one served now.

    A list stored before the history was kept is known only while it is the one served; docs/tcf.md
    says so. Every recorded event with a TC string asks, so the answer is kept until either file
    changes: two ``stat`` calls, not a read of IAB's megabyte of JSON, per submission.
    """
    key = (_stamp(directory / SNAPSHOT_NAME), _stamp(directory / HISTORY_NAME))
    kept = _LISTS.get(directory)
    if kept is not None and kept[0] == key:
        return dict(kept[1])
    lists = _read_lists(directory)
    _LISTS[directory] = (key, lists)
    return dict(lists)


_LISTS: dict[Path, tuple[tuple[tuple[int, int, int] | None, ...], dict[int, int]]] = {}


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def _read_lists(directory: Path) -> dict[int, int]:
    lists = {shipped_gvl().vendorListVersion: shipped_gvl().tcfPolicyVersion}
    served = current_gvl(directory)
    lists[served.vendorListVersion] = served.tcfPolicyVersion
    try:
        recorded = json.loads((directory / HISTORY_NAME).read_bytes())
    except FileNotFoundError:
        return lists
    except ValueError as exc:
        raise BadInput(f"{directory / HISTORY_NAME} is not JSON ({exc}); restore it from a backup") from exc
    return lists | {int(k): int(v) for k, v in recorded.items()}


def parse_translation(text: str | bytes, source: str, gvl: Gvl, *, stacks: bool = True) -> dict[str, Any]:
    """IAB's translation of the GVL's texts (``purposes-xx.json``), checked against the list served:
    every purpose, special feature and stack it has is translated, with a name, and the translation is for
    the same ``tcfPolicyVersion`` (a newer policy changes the texts a person must be shown).
    ``stacks=False``: the stacks are not needed (the layers show none), so a translation without them
    still serves, as one stored before consentgate kept stacks does."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise BadInput(f"{source} is not JSON ({exc}); expected IAB's purposes-xx.json") from exc
    if not isinstance(data, dict) or not isinstance(data.get("purposes"), dict):
        raise BadInput(f"{source} has no `purposes` object; expected IAB's purposes-xx.json")
    policy = data.get("tcfPolicyVersion")
    if policy is not None and policy != gvl.tcfPolicyVersion:
        raise BadInput(
            f"{source} is for tcfPolicyVersion {policy}; the list served is for {gvl.tcfPolicyVersion}. "
            "Use the translation published with that policy version."
        )
    wanted_sections: tuple[tuple[str, dict[str, Any]], ...] = (
        ("purposes", gvl.purposes),
        ("specialFeatures", gvl.specialFeatures),
        ("stacks", gvl.stacks if stacks else {}),  # a first layer may show any instead of its purposes
    )
    for section, wanted in wanted_sections:
        got = data.get(section) or {}
        if not isinstance(got, dict):
            raise BadInput(f"{source}: `{section}` must be an object of id → name and description")
        missing = sorted((k for k in wanted if not _named(got.get(k))), key=int)
        if missing:
            raise BadInput(
                f"{source}: {section} {', '.join(missing)} of the list served have no translated name; "
                "a person must see every one in the same language"
            )
    return {section: data[section] for section in TRANSLATED if isinstance(data.get(section), dict)}


def _named(entry: Any) -> bool:
    return isinstance(entry, dict) and isinstance(entry.get("name"), str) and bool(entry["name"].strip())


def store_translation(text: str | bytes, source: str, language: str, directory: Path) -> dict[str, Any]:
    """Keep a translation of the served list's texts for ``language`` (ISO 639-1, e.g. ``de``)."""
    if not (len(language) == 2 and language.isascii() and language.isalpha()):
        raise BadInput(f"{language!r} is not a two-letter ISO 639-1 language such as de or fr")
    translated = parse_translation(text, source, current_gvl(directory))
    directory.mkdir(parents=True, exist_ok=True)
    _replace(directory / TRANSLATION_NAME.format(language=language.lower()), json.dumps(translated).encode())
    return translated


def translation(directory: Path, language: str, *, stacks: bool = True) -> dict[str, Any] | None:
    """The stored translation for ``language``, if it still fits the list served (a newer list with
    another purpose, or another policy version, leaves it unused until a new one is added); ``stacks``:
    whether the layers show stacks, so the translation must name them too."""
    if not (len(language) == 2 and language.isascii() and language.isalpha()):
        return None  # TC strings carry two-letter languages; nothing else is stored
    path = directory / TRANSLATION_NAME.format(language=language.lower())
    try:
        text = path.read_bytes()
    except (FileNotFoundError, ValueError):
        return None
    try:
        return parse_translation(text, str(path), current_gvl(directory), stacks=stacks)
    except BadInput:
        return None


def shown_language(directory: Path, language: str, *, stacks: bool = True) -> str:
    """The language the layers show the GVL's texts in for a banner in ``language``: its own where a
    translation is stored, else the GVL's. A TC string's ConsentLanguage is this (the language of the
    texts the person agreed to), not the language of the banner's buttons."""
    return language.lower() if translation(directory, language, stacks=stacks) is not None else GVL_LANGUAGE

"""How big a training dataset is: records, and characters and UTF-8 bytes of its text.

Read with Arrow's dataset reader (Parquet, CSV, JSON Lines; a file or a directory of them), batch by
batch, so a dataset larger than memory is measured too. Text is every string value, also inside lists
and structs (a chat's ``messages: [{role, content}]``), except the columns that hold the person's
identifier and the do-not-train flag: those are bookkeeping, not training content.

Tokens are never counted here — there is no one tokenizer. :func:`text_band` turns characters into the
template's band only where a rule makes it true (docs/aiact.md, "Sizes").
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads

from consentgate.errors import BadInput

_FORMATS = {".parquet": "parquet", ".csv": "csv", ".jsonl": "json", ".ndjson": "json", ".json": "json"}
BILLION = 1_000_000_000
TEN_TRILLION = 10_000_000_000_000
CHARS_PER_TOKEN = 4  # the rule of thumb OpenAI and others publish for English text
BANDS = ("less than 1 billion tokens", "1 billion to 10 trillion tokens", "more than 10 trillion tokens")


@dataclass(frozen=True, slots=True)
class DatasetSize:
    records: int
    characters: int  # Unicode code points of text
    utf8_bytes: int
    text_columns: tuple[str, ...]  # top-level columns that held text


def measure(path: Path, skip: Collection[str] = ()) -> DatasetSize:
    """Count ``path``'s records and text; a :class:`BadInput` when it is no dataset we can read."""
    fmt = _format(path)
    try:
        data = pads.dataset(path, format=fmt)
        records = characters = size = 0
        text: set[str] = set()
        for batch in data.to_batches():
            records += batch.num_rows
            for name, column in zip(batch.schema.names, batch.columns, strict=True):
                if name in skip:
                    continue
                chars, nbytes = _text(column)
                if nbytes or _has_text(column.type):
                    text.add(name)
                characters += chars
                size += nbytes
    except (OSError, pa.ArrowInvalid) as exc:
        raise BadInput(f"cannot read dataset {path} as {fmt}: {exc}") from None
    return DatasetSize(records, characters, size, tuple(sorted(text)))


def _format(path: Path) -> str:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    found = {_FORMATS.get(f.suffix.lower()) for f in files if not f.name.startswith((".", "_"))}
    found.discard(None)
    if len(found) != 1:
        kinds = "no Parquet, CSV or JSON Lines files" if not found else "files of several formats"
        raise BadInput(f"cannot measure dataset {path}: it holds {kinds}")
    return str(found.pop())


def _has_text(kind: pa.DataType) -> bool:
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return True
    if pa.types.is_dictionary(kind):
        return _has_text(kind.value_type)
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        return _has_text(kind.value_type)
    if pa.types.is_struct(kind):
        return any(_has_text(kind.field(i).type) for i in range(kind.num_fields))
    return False


def _text(column: pa.Array) -> tuple[int, int]:
    """(code points, UTF-8 bytes) of every string value in ``column``, nested ones included."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        return _text(column.cast(kind.value_type))
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        chars = pc.sum(pc.utf8_length(column)).as_py() or 0
        nbytes = pc.sum(pc.binary_length(column)).as_py() or 0
        return int(chars), int(nbytes)
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        return _text(pc.list_flatten(column))
    if pa.types.is_struct(kind):
        chars = nbytes = 0
        for i in range(kind.num_fields):
            c, b = _text(pc.struct_field(column, [i]))
            chars, nbytes = chars + c, nbytes + b
        return chars, nbytes
    return 0, 0


@dataclass(frozen=True, slots=True)
class Band:
    band: str  # one of BANDS
    tokens: int  # the bound or estimate behind it
    kind: str  # "upper_bound" or "estimate"
    rule: str


def text_band(characters: int, utf8_bytes: int) -> Band:
    """The template's text band where it can be known, with the rule that makes it so.

    A byte-level tokenizer (GPT-2's, Llama 3's, most current models') never makes a token of less
    than one byte, so UTF-8 bytes bound the tokens from above: below one billion bytes the band is
    certainly the first. Above, only an estimate remains (characters / 4), labelled as one.
    """
    if utf8_bytes < BILLION:
        return Band(
            BANDS[0],
            utf8_bytes,
            "upper_bound",
            f"at most {utf8_bytes:,} tokens: a byte-level tokenizer makes no token shorter than one "
            "byte, and the text is that many UTF-8 bytes",
        )
    estimate = characters // CHARS_PER_TOKEN
    band = BANDS[0] if estimate < BILLION else BANDS[1] if estimate <= TEN_TRILLION else BANDS[2]
    return Band(
        band,
        estimate,
        "estimate",
        f"an estimate: {characters:,} characters / {CHARS_PER_TOKEN} characters per token "
        f"= {estimate:,} tokens; count with the model's tokenizer to be sure",
    )

"""Bit fields of the TCF v2 TC string and their base64url form (IAB TCF "Consent string and vendor
list formats v2.3", sections "Core string" and "Base64url encoding")."""

from __future__ import annotations

import base64
from collections.abc import Iterable

# IAB's reference library pads a segment to a multiple of 24 bits (whole bytes and whole base64
# characters at once) before encoding; decoders ignore the padding, and matching it keeps our strings
# byte-identical with the library's wherever both pick the same vendor encoding.
_PAD_TO = 24


class Bits:
    """An append-only string of bits, written field by field in the order the spec lists them."""

    def __init__(self) -> None:
        self._bits: list[str] = []

    def number(self, value: int, width: int) -> None:
        if value < 0 or value >= 1 << width:
            raise ValueError(f"{value} does not fit in {width} bits")
        self._bits.append(format(value, f"0{width}b"))

    def flag(self, value: bool) -> None:
        self._bits.append("1" if value else "0")

    def flags(self, ids: Iterable[int], count: int) -> None:
        """A fixed bitfield for ids 1..count (bit i-1 set when id i is in ``ids``)."""
        chosen = set(ids)
        self._bits.append("".join("1" if i in chosen else "0" for i in range(1, count + 1)))

    def letters(self, text: str) -> None:
        """Two letters A-Z as 6-bit numbers from A=0 (consent language, publisher country)."""
        for char in text:
            self.number(ord(char) - ord("A"), 6)

    def __len__(self) -> int:
        return sum(len(b) for b in self._bits)

    def base64url(self) -> str:
        text = "".join(self._bits)
        text += "0" * (-len(text) % _PAD_TO)
        raw = int(text, 2).to_bytes(len(text) // 8, "big") if text else b""
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def ranges(ids: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted ids folded into inclusive runs of consecutive ids: 1,2,3,7 -> (1, 3), (7, 7)."""
    out: list[tuple[int, int]] = []
    for vid in sorted(set(ids)):
        if out and out[-1][1] == vid - 1:
            out[-1] = (out[-1][0], vid)
        else:
            out.append((vid, vid))
    return out


def write_range_entries(bits: Bits, runs: list[tuple[int, int]]) -> None:
    """NumEntries (12 bits), then per run IsARange, StartOrOnlyVendorId and, for a range, EndVendorId."""
    bits.number(len(runs), 12)
    for start, end in runs:
        bits.flag(start != end)
        bits.number(start, 16)
        if start != end:
            bits.number(end, 16)


def _range_cost(runs: list[tuple[int, int]]) -> int:
    return 12 + sum(17 if start == end else 33 for start, end in runs)


def write_vendor_section(bits: Bits, ids: Iterable[int]) -> None:
    """MaxVendorId, IsRangeEncoding and the vendors as a bitfield or as ranges, whichever is shorter
    (the spec leaves the choice to the CMP; a tie keeps the bitfield, which is simpler to read)."""
    chosen = sorted(set(ids))
    max_id = chosen[-1] if chosen else 0
    bits.number(max_id, 16)
    runs = ranges(chosen)
    use_ranges = _range_cost(runs) < max_id
    bits.flag(use_ranges)
    if use_ranges:
        write_range_entries(bits, runs)
    else:
        bits.flags(chosen, max_id)

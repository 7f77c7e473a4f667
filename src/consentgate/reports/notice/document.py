"""The notice as data: blocks of inline pieces that keep apart what we translate and what we quote.

Frame text is ours and translated (:mod:`.catalogue`); a :class:`Value` (a name, an identifier, a
number) and a :class:`Wording` (the policy's own words: purpose titles, notice texts) are shown as the
policy has them and never translated. Both renderers, and the plain-language test, read this model, so
"frame text only" is a property of the data rather than a guess made on the rendered page.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Frame:
    """Our own sentence or part of one, in the notice's language."""

    text: str


@dataclass(frozen=True)
class Value:
    """A fact quoted from the policy or the ledger; ``code`` for identifiers shown as typed."""

    text: str
    code: bool = False


@dataclass(frozen=True)
class Wording:
    """The policy's own words in ``locale``; ``language`` names that language when it is not the
    notice's (the reader is told the text was not translated)."""

    text: str
    locale: str
    language: str | None = None


@dataclass(frozen=True)
class Link:
    text: str
    href: str


Inline = Frame | Value | Wording | Link
Line = tuple[Inline, ...]


@dataclass(frozen=True)
class Heading:
    level: int  # 2 or 3 (the title is the document's)
    line: Line
    anchor: str


@dataclass(frozen=True)
class Paragraph:
    line: Line


@dataclass(frozen=True)
class Quote:
    line: Line


@dataclass(frozen=True)
class Bullets:
    items: tuple[tuple[Line, ...], ...]  # each item: one or more lines, the first one lead


Block = Heading | Paragraph | Quote | Bullets


@dataclass(frozen=True)
class NoticeDocument:
    locale: str
    direction: str  # "ltr" or "rtl"
    title: str
    blocks: tuple[Block, ...]

    def frame_text(self) -> str:
        """Our own words only, one block per line: what the plain-language test measures."""
        lines = [self.title]
        for block in self.blocks:
            for line in _lines(block):
                text = "".join(piece.text for piece in line if isinstance(piece, Frame)).strip()
                if text:
                    lines.append(text)
        return "\n".join(lines)


def _lines(block: Block) -> list[Line]:
    if isinstance(block, Bullets):
        return [line for item in block.items for line in item]
    return [block.line]

"""Share cards: a 1200×675 PNG of one change, as a person would post it, drawn with Pillow (no browser).

The font is Pillow's own scalable default (Aileron Regular, CC0, bundled inside Pillow ≥ 10.1), so no font file
ships with newsdelta and no system font is assumed; the headline's weight comes from a one-pixel stroke.
Aileron covers Latin, Greek and Cyrillic; other scripts draw as boxes.
Versions never change, so a card is cached by its article and version numbers.
"""

from __future__ import annotations

import functools
import io
import itertools
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from PIL import Image, ImageDraw, ImageFont

from newsdelta.diff import Span
from newsdelta.notify.message import ChangeMessage
from newsdelta.vocabulary import Origin

WIDTH, HEIGHT = 1200, 675
MARGIN = 60
BAND = 84
FOOTER = 64
INK = "#1d1d1f"
MUTED = "#6b6b70"
RED, RED_BG = "#b3261e", "#fde4e2"
GREEN, GREEN_BG = "#146c2e", "#dcf3e2"
_WORDS = re.compile(r"\S+\s*|\s+")

Font = ImageFont.FreeTypeFont


@functools.cache
def font(size: int) -> Font:
    loaded = ImageFont.load_default(size=size)
    assert isinstance(loaded, ImageFont.FreeTypeFont), "Pillow without FreeType cannot draw share cards"
    return loaded


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    op: str


def _tokens(spans: Iterable[Span]) -> list[Token]:
    return [Token(word, span.op) for span in spans for word in _WORDS.findall(span.text.replace("\n", " "))]


def _wrap(tokens: Sequence[Token], face: Font, width: int, max_lines: int) -> list[list[Token]]:
    """Greedy word wrap; the last allowed line ends with an ellipsis when text is left over."""
    lines: list[list[Token]] = [[]]
    used = 0.0
    space = face.getlength(" ")
    ellipsis = face.getlength(" …")
    for token in tokens:
        word = token.text.rstrip()
        size = face.getlength(word) if word else 0.0
        room = width - ellipsis if len(lines) == max_lines else width  # the last line keeps room for "…"
        if lines[-1] and used + size > room:
            if len(lines) == max_lines:
                lines[-1].append(Token("…", "equal"))
                return lines
            lines.append([])
            used = 0.0
        if not lines[-1] and not token.text.strip():
            continue
        lines[-1].append(token)
        used += size + space * (len(token.text) - len(word))
    return lines


def _runs(line: list[Token]) -> Iterator[Token]:
    """Neighbouring tokens of one kind as one piece: one tint, one strike, one text call each."""
    for op, group in itertools.groupby(line, key=lambda token: token.op):
        yield Token("".join(token.text for token in group), op)


def _draw_lines(
    draw: ImageDraw.ImageDraw, lines: list[list[Token]], face: Font, top: int, *, bold: bool = False
) -> int:
    """Draw wrapped tokens: deletions red and struck through, insertions green on a tint; return the new top."""
    step = int(face.size * 1.32)
    for line in lines:
        x = float(MARGIN)
        for run in _runs(line):
            text = run.text.rstrip()
            width = face.getlength(text)
            colour = {"delete": RED, "insert": GREEN}.get(run.op, INK)
            if run.op != "equal" and text:
                tint = RED_BG if run.op == "delete" else GREEN_BG
                draw.rectangle((x - 3, top - 2, x + width + 3, top + face.size + 6), fill=tint)
            draw.text(
                (x, top), text, font=face, fill=colour, stroke_width=1 if bold else 0, stroke_fill=colour
            )
            if run.op == "delete" and text:
                middle = top + face.size * 0.58
                draw.line((x, middle, x + width, middle), fill=RED, width=max(2, int(face.size // 14)))
            x += face.getlength(run.text)
        top += step
    return top


def _when(message: ChangeMessage) -> str:
    return message.fetched_at.strftime("%-d %b %Y, %H:%M UTC")


def _address(url: str) -> str:
    parts = urlsplit(url)
    address = (parts.hostname or "").removeprefix("www.") + parts.path
    return address if len(address) <= 70 else address[:69] + "…"


def _headline_tokens(message: ChangeMessage) -> tuple[list[Token], list[Token]]:
    """Old and new headline as whole lines when it changed, else just the headline."""
    if message.origin == Origin.REMOVED or message.old_title == message.new_title:
        return _tokens([Span("equal", message.headline)]), []
    return _tokens([Span("delete", message.old_title)]), _tokens([Span("insert", message.new_title)])


def render_card(message: ChangeMessage) -> bytes:
    """The PNG bytes of the card: outlet and time, the headline change, the changed sentences, the address."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    width = WIDTH - 2 * MARGIN
    draw.rectangle((0, 0, WIDTH, BAND), fill=INK)
    draw.text(
        (MARGIN, BAND // 2),
        message.source,
        font=font(34),
        fill="white",
        anchor="lm",
        stroke_width=1,
        stroke_fill="white",
    )
    draw.text((WIDTH - MARGIN, BAND // 2), _when(message), font=font(26), fill="#d0d0d5", anchor="rm")

    top = BAND + 30
    first, second = _headline_tokens(message)
    headline = font(40)
    top = _draw_lines(draw, _wrap(first, headline, width, 2), headline, top, bold=True)
    if second:
        top = _draw_lines(draw, _wrap(second, headline, width, 2), headline, top + 4, bold=True)
    summary = font(26)
    draw.text(
        (MARGIN, top + 10),
        message.summary,
        font=summary,
        fill=RED if message.origin == Origin.REMOVED else MUTED,
    )
    top += 10 + int(summary.size * 1.32) + 18

    body = font(28)
    bottom = HEIGHT - FOOTER - 12
    for sentence in message.excerpt:
        room = (bottom - top) // int(body.size * 1.32)
        if room < 1:
            break
        top = _draw_lines(draw, _wrap(_tokens(sentence), body, width, min(room, 4)), body, top) + 12

    draw.line((MARGIN, HEIGHT - FOOTER, WIDTH - MARGIN, HEIGHT - FOOTER), fill="#e2e2e6", width=2)
    draw.text((MARGIN, HEIGHT - FOOTER // 2), _address(message.url), font=font(24), fill=MUTED, anchor="lm")
    draw.text((WIDTH - MARGIN, HEIGHT - FOOTER // 2), "newsdelta", font=font(24), fill=MUTED, anchor="rm")
    output = io.BytesIO()
    image.save(output, "PNG", compress_level=1)  # zlib time dominates otherwise
    return output.getvalue()


class CardCache:
    """A thread-safe LRU of rendered cards keyed by (article, old number, new number)."""

    def __init__(self, size: int = 128) -> None:
        self._size = size
        self._items: OrderedDict[tuple[int, int, int], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def render(self, message: ChangeMessage) -> bytes:
        key = (message.article_id, message.old_number, message.new_number)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        png = render_card(message)
        with self._lock:
            self._items[key] = png
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return png

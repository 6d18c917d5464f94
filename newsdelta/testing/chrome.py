"""Page chrome that changes on every request, and real edits, put into real article pages.

For bench/fidelity.py and the fidelity tests. A `VolatilePage` fixes, from a seed, which chrome a page carries
and where (before the headline, between paragraphs, after the last one, inside a body paragraph, outside the
article, with or without class names, in several languages); every `render` fills it with fresh values
(counters, clocks, tickers, "updated N minutes ago", rotating "read more" lines and most-read lists). `edit`
makes a real change to the article: a word, an added sentence, a removed paragraph, the headline, a correction.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import html as lxml_html
from lxml.html import HtmlElement

from newsdelta.testing.httpserver import Request, Response

_MONTHS = ("January", "March", "June", "September", "November")
EDITS = ("word", "sentence", "paragraph", "headline", "correction")
_WORDS = [
    "council",
    "budget",
    "river",
    "storm",
    "minister",
    "harbour",
    "vaccine",
    "festival",
    "striker",
    "election",
    "museum",
    "bridge",
    "tariff",
    "drought",
    "Regierung",
    "Stadt",
    "Wahl",
    "Brücke",
    "gobierno",
    "ciudad",
    "puente",
    "élection",
    "pont",
    "ville",
    "mercato",
    "governo",
]
_COUNTERS: tuple[Callable[[random.Random], str], ...] = (
    lambda r: f"{r.randrange(2, 9000)} comments",
    lambda r: f"Shared {r.randrange(2, 90000)} times",
    lambda r: f"{r.randrange(2, 900)} people are reading this now",
    lambda r: f"{r.randrange(2, 900)} Kommentare",
    lambda r: f"{r.randrange(2, 900)} commentaires",
    lambda r: f"Compartido {r.randrange(2, 900)} veces",
)
_CLOCKS: tuple[Callable[[random.Random], str], ...] = (
    lambda r: f"Last updated {r.randrange(24):02d}:{r.randrange(60):02d}:{r.randrange(60):02d}",
    lambda r: f"FTSE 100 {r.uniform(7000, 8000):.2f} {r.choice('▲▼')} {r.uniform(0, 2):.2f}%",
    lambda r: f"Updated {r.randrange(1, 59)} minutes ago",
    lambda r: f"Aktualisiert vor {r.randrange(1, 59)} Minuten",
    lambda r: f"Mis à jour il y a {r.randrange(1, 59)} minutes",
    lambda r: f"Actualizado hace {r.randrange(1, 59)} minutos",
    lambda r: f"{r.randrange(1, 28)}/{r.randrange(1, 12)}/2026 {r.randrange(24)}:{r.randrange(60):02d}",
)


def _headline(r: random.Random) -> str:
    return " ".join(r.choice(_WORDS) for _ in range(r.randrange(4, 9))).capitalize()


_ROTATING: tuple[Callable[[random.Random], str], ...] = (
    lambda r: f"Read more: {_headline(r)}",
    lambda r: f"Lesen Sie auch: {_headline(r)}",
    lambda r: f"À lire aussi : {_headline(r)}",
    lambda r: f"Most read: {_headline(r)}",
)
KINDS = {"counter": _COUNTERS, "clock": _CLOCKS, "rotating": _ROTATING}
PLACES = ("before_headline", "between", "after_last", "body_start", "body_end", "in_paragraph", "most_read")


@dataclass(frozen=True, slots=True)
class ChromeSlot:
    """One piece of chrome: where it goes, what kind (and which variant of it), in which tag and class."""

    place: str
    kind: str
    variant: int
    tag: str
    cls: str | None


@dataclass
class VolatilePage:
    """One real page served with fresh chrome on every request; `edited` switches on a real edit."""

    html: str
    seed: int
    truth: str = ""  # the article's true text, if known: edits then only touch its paragraphs
    edit_kind: str | None = None
    edited: bool = False
    edit_made: bool = False  # whether the page had what the edit needs (a headline, body paragraphs)
    slots: list[ChromeSlot] = field(default_factory=list)  # none given: a random layout from the seed
    _requests: int = 0

    def __post_init__(self) -> None:
        if self.slots:
            return
        layout = random.Random(self.seed)
        for _ in range(layout.randrange(3, 8)):
            kind = layout.choice(tuple(KINDS))
            self.slots.append(
                ChromeSlot(
                    layout.choice(PLACES),
                    kind,
                    layout.randrange(len(KINDS[kind])),
                    layout.choice(("p", "div", "span", "time", "li")),
                    layout.choice((None, None, "meta", "c-x9f2", "info")),
                )
            )

    def render(self) -> bytes:
        """The page as served now: the edit if on, and chrome with values never served before."""
        self._requests += 1
        values = random.Random(f"{self.seed}/{self._requests}")
        tree = lxml_html.fromstring(self.html)
        paragraphs = _body_paragraphs(tree, self.truth)
        if self.edited and self.edit_kind:
            self.edit_made = _edit(tree, paragraphs, self.edit_kind)
        for slot in self.slots:
            _place(tree, paragraphs, slot, values)
        page: bytes = lxml_html.tostring(tree, encoding="utf-8", doctype="<!DOCTYPE html>")
        return page


def _text(element: HtmlElement) -> str:
    return " ".join(element.text_content().split())


def _body_paragraphs(tree: HtmlElement, truth: str) -> list[HtmlElement]:
    """The article's paragraphs: in the true text when it is known, else the long <p>s of the element that
    holds most of them."""
    long = [p for p in tree.iter("p") if len(_text(p)) >= 80]
    flat = " ".join(truth.split())
    true = [p for p in long if _text(p) in flat] if flat else []
    if true or not long:
        return true
    parents = [p.getparent() for p in long]
    container = max(parents, key=parents.count)
    return [p for p in long if p.getparent() is container]


def _element(slot: ChromeSlot, text: str) -> HtmlElement:
    element = lxml_html.Element(slot.tag)
    element.text = text
    if slot.cls:
        element.set("class", slot.cls)
    return element


def _place(tree: HtmlElement, paragraphs: list[HtmlElement], slot: ChromeSlot, values: random.Random) -> None:
    text = KINDS[slot.kind][slot.variant](values)
    body = tree.find(".//body")
    body = tree if body is None else body
    headline = tree.find(".//h1")
    if slot.place == "most_read":
        listing = lxml_html.Element("ul")
        for _ in range(5):
            item = lxml_html.Element("li")
            link = lxml_html.Element("a", href=f"/story/{values.randrange(10**6)}")
            link.text = _headline(values)
            item.append(link)
            listing.append(item)
        (paragraphs[-1].getparent() if paragraphs else body).append(listing)
    elif slot.place == "before_headline" and headline is not None:
        headline.addprevious(_element(slot, text))
    elif slot.place == "between" and len(paragraphs) > 1:
        paragraphs[len(paragraphs) // 2].addnext(_element(slot, text))
    elif slot.place == "after_last" and paragraphs:
        paragraphs[-1].addnext(_element(slot, text))
    elif slot.place == "in_paragraph" and paragraphs and slot.kind == "counter":
        span = lxml_html.Element("span")
        span.text = f" ({text})"
        paragraphs[len(paragraphs) // 3].append(span)  # the paragraph edits change
    elif slot.place == "body_start":
        body.insert(0, _element(slot, text))
    else:
        body.append(_element(slot, text))


def _edit(tree: HtmlElement, paragraphs: list[HtmlElement], kind: str) -> bool:
    """One real edit of the article, made everywhere the page states the text (markup and JSON-LD);
    False when the page lacks what the edit needs. A removed paragraph leaves `paragraphs` too."""
    if kind == "headline":
        return _edit_headline(tree)
    if not paragraphs:
        return False
    if kind == "correction":
        note = lxml_html.Element("p")
        when = random.Random(_text(paragraphs[0]))
        note.text = (
            f"This article was amended on {when.randrange(1, 28)} {when.choice(_MONTHS)} 2026 to correct "
            "the date of the council meeting."
        )
        paragraphs[-1].addnext(note)
        return True
    target = paragraphs[len(paragraphs) // 3]
    before = _text(target)
    if kind == "paragraph":
        target.drop_tree()
        paragraphs.remove(target)
        after = ""
    elif kind == "sentence":
        tail = lxml_html.Element("span")
        tail.text = " Officials said further details would be released on Monday."
        target.append(tail)
        after = _text(target)
    else:
        _change_a_word(target)
        after = _text(target)
    _edit_scripts(tree, before, after)
    return True


def _change_a_word(paragraph: HtmlElement) -> None:
    """Replace the longest word of the paragraph's first run of text with another word."""
    for element in paragraph.iter():
        for attribute in ("text", "tail") if element is not paragraph else ("text",):
            words = (getattr(element, attribute) or "").split(" ")
            if sum(1 for w in words if w) < 3:
                continue
            longest = max(range(len(words)), key=lambda i: len(words[i]))
            words[longest] = "balloon" if words[longest] == "zeppelin" else "zeppelin"
            setattr(element, attribute, " ".join(words))
            return


def _edit_headline(tree: HtmlElement) -> bool:
    """The headline gets words added wherever the page states it: <h1>, <title>, social tags, JSON-LD."""
    headline = tree.find(".//h1")
    if headline is None:
        return False
    old = _text(headline)
    for child in list(headline):
        headline.remove(child)
    headline.text = f"{old} {_HEADLINE_ADDITION}"
    title = tree.find(".//title")
    if title is not None:
        title.text = f"{title.text or ''} {_HEADLINE_ADDITION}"
    for meta in tree.iterfind(".//meta"):
        if (meta.get("property") or meta.get("name") or "").lower() in ("og:title", "twitter:title", "title"):
            meta.set("content", f"{meta.get('content', '')} {_HEADLINE_ADDITION}")
    for script in tree.iterfind(".//script[@type='application/ld+json']"):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        script.text = json.dumps(_add_to_headlines(data), ensure_ascii=False)
    return True


_HEADLINE_ADDITION = "as talks collapse"


def _add_to_headlines(data: object) -> object:
    if isinstance(data, dict):
        return {
            k: f"{v} {_HEADLINE_ADDITION}" if k == "headline" and isinstance(v, str) else _add_to_headlines(v)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [_add_to_headlines(v) for v in data]
    return data


def _edit_scripts(tree: HtmlElement, before: str, after: str) -> None:
    """The same edit in JSON-LD (headline, articleBody), where outlets state the text a second time."""
    for script in tree.iterfind(".//script[@type='application/ld+json']"):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        script.text = json.dumps(_replace_in(data, before, after), ensure_ascii=False)


def _replace_in(data: object, before: str, after: str) -> object:
    if isinstance(data, dict):
        return {k: _replace_in(v, before, after) for k, v in data.items()}
    if isinstance(data, list):
        return [_replace_in(v, before, after) for v in data]
    if isinstance(data, str) and before and before in " ".join(data.split()):
        return " ".join(data.split()).replace(before, after)
    return data


class VolatileSite:
    """An HTTP handler serving /p/<n> as the n-th page, freshly rendered on every request; no robots.txt."""

    def __init__(self, pages: list[VolatilePage]) -> None:
        self.pages = pages
        self.requests = 0

    def handle(self, request: Request) -> Response:
        if not request.path.startswith("/p/"):
            return Response(404, b"not found\n", [("Content-Type", "text/plain")])
        self.requests += 1
        page = self.pages[int(request.path.removeprefix("/p/"))]
        return Response(200, page.render(), [("Content-Type", "text/html; charset=utf-8")])

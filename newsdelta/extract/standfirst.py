"""The standfirst (dek, summary line): the prose under the headline that outlets rewrite as quietly as the body.

It is found from the page's structure and its own metadata, in no particular language: the first run of text
after the h1 and before the body whose words mostly agree with the page's description of itself
(og:description, JSON-LD description). A run is one block's own text: its text and its inline markup's, up to
the next block inside it, so the lines, lists and counters a template puts next to the standfirst (or inside
its wrapper) are never part of it, whatever they say and however long they are. Captions, lists, asides and
forms between headline and body are never it, and the walk stops at the first block holding body text, so a
standfirst the body extraction already kept as its first paragraph is not read twice. A run the description
quotes and then goes on past into the page's following text is the start of that text (the description is
an excerpt of the article), not a summary of it. It is kept apart from the body: body extraction is scored
without it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from lxml.html import HtmlElement

from newsdelta.text import normalise

# Elements whose text a reader does not see.
_HIDDEN = frozenset({"script", "style", "noscript", "template"})
# Blocks between headline and body that hold other things than a standfirst (captions, teasers, menus).
_ELSEWHERE = frozenset(
    {
        "figure",
        "figcaption",
        "aside",
        "nav",
        "form",
        "button",
        "li",
        "label",
        "select",
        "footer",
        "blockquote",
    }
)
# Markup that runs inside a line of text; any other element (a paragraph, a div, a list, an unknown custom
# element) is a block of its own and ends the run of text before it.
_INLINE = frozenset(
    {
        "a",
        "abbr",
        "b",
        "bdi",
        "bdo",
        "br",
        "cite",
        "code",
        "data",
        "del",
        "dfn",
        "em",
        "font",
        "i",
        "img",
        "ins",
        "kbd",
        "mark",
        "q",
        "s",
        "samp",
        "small",
        "span",
        "strong",
        "sub",
        "sup",
        "time",
        "u",
        "var",
        "wbr",
    }
)
# A block agrees with the description when this share of the shorter one's words is in the other: a
# description is often the standfirst cut short ("…"), or the standfirst with the headline's words added.
MIN_AGREEMENT = 0.7
MIN_WORDS = 5
# A block this many times longer than the description (a cut-short one: this many characters) holds more
# than a standfirst.
MAX_LENGTH_FACTOR = 4
MAX_CHARS = 600
# Elements looked at after the headline: the standfirst sits right under it, before any long stretch of page.
MAX_ELEMENTS = 80
# Characters of a body paragraph's opening that mark the body's start.
_BODY_OPENING = 60
# A description that goes on this many words past a run it quotes, with words the page goes on with (this
# many text nodes after the run), is an excerpt of the page's text, not a summary.
_EXCERPT_WORDS = 8
_FOLLOWING_TEXTS = 200
_WORD = re.compile(r"\w+")


def find_standfirst(tree: HtmlElement, description: str, body: Sequence[str], title: str = "") -> str:
    """The standfirst's text, or "" when the page has none that its description confirms."""
    headline = tree.find(".//h1")
    summary = _words(description)
    if headline is None or len(summary) < MIN_WORDS:
        return ""
    openings = [normalise(p)[:_BODY_OPENING] for p in body if p]
    # A line the headline holds whole is the headline repeated, also once words are added to the headline (an
    # edit) or chrome to the h1 it is read from.
    headline_text = normalise(title).casefold()
    for element in headline.xpath(f"following::*[position() <= {MAX_ELEMENTS}]"):
        if not _may_hold_standfirst(element):
            continue
        whole = normalise(element.text_content())
        if any(opening in whole for opening in openings):
            return ""  # the body begins: no standfirst before it
        if len(whole) > max(MAX_LENGTH_FACTOR * len(description), MAX_CHARS):
            continue  # a container of more than a standfirst, read no further
        for text, inline in _runs(element):
            if any(len(part) * 2 > len(text) for part in inline):
                continue  # a wrapper: its inline child is the block, read as an element of its own
            if (
                text.casefold() not in headline_text
                and _agreement(_words(text), summary) >= MIN_AGREEMENT
                and not _opens_excerpt(element, text, description)
            ):
                return text
    return ""


def _may_hold_standfirst(element: HtmlElement) -> bool:
    if not isinstance(element.tag, str) or element.tag in _HIDDEN or element.tag in _ELSEWHERE:
        return False
    return not any(a.tag in _HIDDEN or a.tag in _ELSEWHERE for a in element.iterancestors())


def _runs(element: HtmlElement) -> Iterator[tuple[str, list[str]]]:
    """The element's own runs of text, each with the texts of its inline children: its text and its inline
    markup's, split where a block child sits (that child's text is its own, read when the walk reaches it)."""
    parts: list[str] = [element.text or ""]
    inline: list[str] = []
    for child in element:
        if isinstance(child.tag, str) and child.tag not in _INLINE and child.tag not in _HIDDEN:
            if text := normalise(" ".join(parts)):
                yield text, inline
            parts, inline = [], []
        elif isinstance(child.tag, str) and child.tag not in _HIDDEN:
            inline.append(visible_text(child))
            parts.append(inline[-1])
        parts.append(child.tail or "")
    if text := normalise(" ".join(parts)):
        yield text, inline


def _opens_excerpt(element: HtmlElement, text: str, description: str) -> bool:
    """Whether the description quotes the run and goes on with what the page says after it: the description
    is then the page's text cut short, and the run its first line (a subheading, a date line), not a summary.
    """
    quoted = normalise(description).casefold()
    start = quoted.find(text.casefold())
    if start < 0:
        return False
    rest = _WORD.findall(quoted[start + len(text) :])[:_EXCERPT_WORDS]
    if len(rest) < _EXCERPT_WORDS:
        return False
    following = element.xpath(f"following::text()[position() <= {_FOLLOWING_TEXTS}]")
    seen = _words(" ".join(t for t in following if t.getparent() is None or t.getparent().tag not in _HIDDEN))
    return sum(word in seen for word in rest) >= MIN_AGREEMENT * len(rest)


def visible_text(element: HtmlElement) -> str:
    """The element's text without its scripts' and styles' source."""
    parts: list[str] = []

    def walk(node: HtmlElement) -> None:
        if not (isinstance(node.tag, str) and node.tag in _HIDDEN):
            parts.append(node.text or "")
            for child in node:
                walk(child)
        if node is not element:
            parts.append(node.tail or "")

    walk(element)
    return normalise(" ".join(parts))


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.casefold()))


def _agreement(block: set[str], summary: set[str]) -> float:
    if min(len(block), len(summary)) < MIN_WORDS:
        return 0.0
    return len(block & summary) / min(len(block), len(summary))

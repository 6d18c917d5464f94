"""The standfirst (dek, summary line): the prose under the headline that outlets rewrite as quietly as the body.

It is found from the page's structure and its own metadata, in no particular language: the first block after
the h1 and before the body whose words mostly agree with the page's description of itself (og:description,
JSON-LD description). Captions, lists, asides and forms between headline and body are never it, and the
walk stops at the first block holding body text, so a standfirst the body extraction already kept as its
first paragraph is not read twice. It is kept apart from the body: body extraction is scored without it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

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
_WORD = re.compile(r"\w+")


def find_standfirst(tree: HtmlElement, description: str, body: Sequence[str], title: str = "") -> str:
    """The standfirst's text, or "" when the page has none that its description confirms."""
    headline = tree.find(".//h1")
    summary = _words(description)
    if headline is None or len(summary) < MIN_WORDS:
        return ""
    openings = [normalise(p)[:_BODY_OPENING] for p in body if p]
    for element in headline.xpath(f"following::*[position() <= {MAX_ELEMENTS}]"):
        if not _may_hold_standfirst(element):
            continue
        whole = normalise(element.text_content())
        if any(opening in whole for opening in openings):
            return ""  # the body begins: no standfirst before it
        if len(whole) > max(MAX_LENGTH_FACTOR * len(description), MAX_CHARS):
            continue  # a container of more than a standfirst, read no further
        text = visible_text(element)
        if not text:
            continue
        if any(len(visible_text(child)) * 2 > len(text) for child in element if isinstance(child.tag, str)):
            continue  # a wrapper: its child is the block
        if text != normalise(title) and _agreement(_words(text), summary) >= MIN_AGREEMENT:
            return text
    return ""


def _may_hold_standfirst(element: HtmlElement) -> bool:
    if not isinstance(element.tag, str) or element.tag in _HIDDEN or element.tag in _ELSEWHERE:
        return False
    return not any(a.tag in _HIDDEN or a.tag in _ELSEWHERE for a in element.iterancestors())


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

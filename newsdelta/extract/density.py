"""Where a page's prose is, from its structure alone: paragraphs that are mostly not links, and the block
that holds most of them. No words of any language are involved, so it reads every language alike.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from lxml.html import HtmlElement

from newsdelta.text import normalise

# Paragraph text counts as prose when no more than this share of it is link text, and when it is a sentence
# or longer than a byline or dateline can be (and longer than a label in any case).
MAX_PROSE_LINK_SHARE = 0.5
MAX_LINE_WORDS = 12
# A label ("Politik", "Tags", "Advertisement"): no more words than this.
MAX_LABEL_WORDS = 3
# A "label: link" paragraph ("Read more: <headline>", "Lesen Sie auch: <headline>") is no longer than this.
MAX_LINK_LINE_WORDS = 25
_WORD = re.compile(r"\w+")
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
# What may close a sentence after its full stop, and the full stops of several scripts.
_CLOSING_QUOTES = "\"'”’»」』"
_CLOSING_BRACKETS = (")", "]", "）")
_SENTENCE_END = (".", "!", "?", "…", "。", "！", "？", "؟", "।")


@dataclass(frozen=True, slots=True)
class PageText:
    """What one pass over the page's paragraphs learns: prose word counts (mostly-not-link paragraphs), which
    of them come before the first h1, the `comparable` texts of paragraphs that only point at another page
    (a short label, then a link), and those of the headings."""

    prose: dict[HtmlElement, int]
    link_lines: frozenset[str]
    headings: frozenset[str]
    before_headline: frozenset[HtmlElement] = frozenset()


def read_paragraphs(tree: HtmlElement) -> PageText:
    """One pass over the paragraphs and headings in page order (see PageText)."""
    prose: dict[HtmlElement, int] = {}
    link_lines: set[str] = set()
    headings: set[str] = set()
    before_headline: frozenset[HtmlElement] | None = None
    for paragraph in tree.iter("p", *_HEADINGS):
        text = paragraph.text_content()
        if paragraph.tag in _HEADINGS:
            headings.add(comparable(text))
            if paragraph.tag == "h1" and before_headline is None:
                before_headline = frozenset(prose)
            continue
        words = _WORD.findall(text)
        links = [a.text_content() for a in paragraph.iter("a")]
        linked = sum(len(_WORD.findall(link)) for link in links)
        if not words:
            continue
        if linked > MAX_PROSE_LINK_SHARE * len(words):
            if _is_link_line(text, words, links[0]):
                link_lines.add(comparable(text))
        elif len(words) > MAX_LABEL_WORDS and (len(words) > MAX_LINE_WORDS or ends_sentence(text)):
            prose[paragraph] = len(words)
    return PageText(prose, frozenset(link_lines), frozenset(headings), before_headline or frozenset())


def ends_sentence(text: str) -> bool:
    """The text ends as a sentence does, in any script, closing quotes aside, or with a closing bracket (a
    caption's credit, an aside): a finished unit either way."""
    text = text.rstrip()
    return text.endswith(_CLOSING_BRACKETS) or text.rstrip(_CLOSING_QUOTES).endswith(_SENTENCE_END)


def _is_link_line(text: str, words: list[str], first_link: str) -> bool:
    """Mostly link text, after a label of its own, and no sentence: a pointer to another story. (A bare
    link, such as a source's URL, or a sentence around a link is the article's.)"""
    label = text[: text.find(first_link)] if first_link in text else ""
    return len(words) <= MAX_LINK_LINE_WORDS and bool(_WORD.search(label)) and not ends_sentence(text)


def comparable(text: str) -> str:
    """The text's words, case-folded: for telling whether two renderings say the same thing."""
    return " ".join(_WORD.findall(normalise(text).casefold()))


def main_text(block: Sequence[HtmlElement]) -> list[str]:
    """The texts of a `main_block`'s paragraphs."""
    return [p.text_content() for p in block]


def main_container_text(block: Sequence[HtmlElement]) -> str:
    """The `comparable` text of the element that holds a `main_block`'s paragraphs, "" for none. Its pieces
    of text are joined with spaces: table cells and list items are not glued into one word."""
    parent = block[0].getparent() if block else None
    return comparable(" ".join(parent.itertext())) if parent is not None else ""


def main_block(page: PageText) -> list[HtmlElement]:
    """The prose paragraphs of the element that holds the most prose words among its own paragraphs, in
    page order: where a reader finds the article, whatever the page's class names or language. Blocks that
    end before the headline (a consent text, a promo at the top of the page) count only when no block has
    prose after it."""
    blocks: dict[HtmlElement, list[HtmlElement]] = {}
    for paragraph in page.prose:
        parent = paragraph.getparent()
        if parent is not None:
            blocks.setdefault(parent, []).append(paragraph)
    after = [ps for ps in blocks.values() if ps[-1] not in page.before_headline]
    candidates = after or list(blocks.values())
    if not candidates:
        return []
    return max(candidates, key=lambda paragraphs: sum(page.prose[p] for p in paragraphs))


def word_pairs(texts: Sequence[str]) -> set[tuple[str, str]]:
    """Adjacent word pairs, case-folded: a cheap, order-aware fingerprint for comparing two readings."""
    return set(pairwise(_WORD.findall(" ".join(texts).casefold())))


def coverage(found: Sequence[str], wanted: Sequence[str]) -> float:
    """Share of `wanted`'s word pairs that `found` has; 1 when nothing is wanted."""
    target = word_pairs(wanted)
    return len(target & word_pairs(found)) / len(target) if target else 1.0

"""Where a page's prose is, from its structure alone: paragraphs that are mostly not links, and the block
that holds most of them. No words of any language are involved, so it reads every language alike.
"""

from __future__ import annotations

import re
from itertools import pairwise

from lxml.html import HtmlElement

# Paragraph text counts as prose when no more than this share of it is link text.
MAX_PROSE_LINK_SHARE = 0.5
_WORD = re.compile(r"\w+")


def prose_words(tree: HtmlElement) -> dict[HtmlElement, int]:
    """Words of each paragraph that is mostly not link text."""
    counts = {}
    for paragraph in tree.iter("p"):
        words = len(_WORD.findall(paragraph.text_content()))
        linked = sum(len(_WORD.findall(a.text_content())) for a in paragraph.iter("a"))
        if words and linked <= MAX_PROSE_LINK_SHARE * words:
            counts[paragraph] = words
    return counts


def main_text(prose: dict[HtmlElement, int]) -> list[str]:
    """The prose paragraphs of the element that holds the most prose words among its own paragraphs, in
    page order: where a reader finds the article, whatever the page's class names or language."""
    blocks: dict[HtmlElement, list[HtmlElement]] = {}
    for paragraph in prose:
        parent = paragraph.getparent()
        if parent is not None:
            blocks.setdefault(parent, []).append(paragraph)
    if not blocks:
        return []
    best = max(blocks.values(), key=lambda paragraphs: sum(prose[p] for p in paragraphs))
    return [p.text_content() for p in best]


def word_pairs(texts: list[str] | tuple[str, ...]) -> set[tuple[str, str]]:
    """Adjacent word pairs, case-folded: a cheap, order-aware fingerprint for comparing two readings."""
    return set(pairwise(_WORD.findall(" ".join(texts).casefold())))


def coverage(found: list[str] | tuple[str, ...], wanted: list[str] | tuple[str, ...]) -> float:
    """Share of `wanted`'s word pairs that `found` has; 1 when nothing is wanted."""
    target = word_pairs(wanted)
    return len(target & word_pairs(found)) / len(target) if target else 1.0

"""Where a page's prose is, from its structure alone: paragraphs that are mostly not links, and the block
that holds most of them. No words of any language are involved, so it reads every language alike.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from lxml import etree
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
    link_lists: frozenset[str] = frozenset()


def read_paragraphs(tree: HtmlElement) -> PageText:
    """One pass over the paragraphs and headings in page order (see PageText)."""
    prose: dict[HtmlElement, int] = {}
    link_lines: set[str] = set()
    headings: set[str] = set()
    before_headline: frozenset[HtmlElement] | None = None
    labels: list[HtmlElement] = []
    for element in tree.iter("p", *_HEADINGS):
        text = element.text_content()
        heading = element.tag in _HEADINGS
        if heading:
            headings.add(comparable(text))
            if element.tag == "h1" and before_headline is None:
                before_headline = frozenset(prose)
        words = _WORD.findall(text)
        if not words:
            continue
        links = [a.text_content() for a in element.iter("a")]
        linked = sum(len(_WORD.findall(link)) for link in links)
        if links and _is_link_line(text, len(words), linked, links[0]):
            link_lines.add(comparable(text))
        elif linked > MAX_PROSE_LINK_SHARE * len(words):
            continue  # mostly links with other text around them: a credit, a list of sources; not prose
        elif (
            not heading
            and len(words) > MAX_LABEL_WORDS
            and (len(words) > MAX_LINE_WORDS or _ends_unbroken(text))
        ):
            prose[element] = len(words)
        elif len(words) <= MAX_LINE_WORDS and not _ends_unbroken(text):
            labels.append(element)
    link_lists = {line for label in labels for line in labelled_link_list(label, prose)}
    link_lists.update(link_run_lines(tree))
    return PageText(
        prose,
        frozenset(link_lines),
        frozenset(headings),
        before_headline or frozenset(),
        frozenset(link_lists),
    )


_STOP_TAGS = frozenset(("script", "style", "noscript", "template"))


def labelled_link_list(label: HtmlElement, prose: dict[HtmlElement, int]) -> list[str]:
    """The `comparable` texts of a label and of the link blocks right after it, when there are any: the
    heading of a list of other stories ("More:", "Lesen Sie auch", "A voir aussi") whatever its words, or
    of a widget whose items are links. [] for a label of anything else: a subheading followed by prose, a
    list of facts, a box with its own heading, a quote (a label inside a quote is the quote's)."""
    items: list[HtmlElement] = []
    for block in label.itersiblings():
        if block in prose:
            break
        if (
            not isinstance(block.tag, str)
            or block.tag in _STOP_TAGS
            or not _WORD.search(block.text_content())
        ):
            continue
        if not _mostly_links(block) or _has_own_label(block):
            break
        items.append(block)
    if not items or any(a.tag == "blockquote" for a in label.iterancestors()):
        return []
    inner = [e for block in items for e in block.iter("p", "li", *_HEADINGS) if _mostly_links(e)]
    return [comparable(e.text_content()) for e in (label, *items, *inner)]


# Elements with two or more links among their children: where a line of nothing but links can be.
_LINK_PARENTS = etree.XPath("//body//*[a[2]]")


def link_run_lines(tree: HtmlElement) -> set[str]:
    """The `comparable` texts of lines (a run of an element's inline content between line breaks) made of
    two or more links and nothing else but separators, and of the short label line right above one: tags,
    breadcrumbs, share and "more on" lists, in any language. A sentence around its links has other words."""
    found = set()
    for element in _LINK_PARENTS(tree):
        lines = _lines(element)
        for index, (text, links, linked) in enumerate(lines):
            words = len(_WORD.findall(text))
            if links < 2 or not words or linked < words:
                continue
            found.add(comparable(text))
            label = lines[index - 1][0] if index else ""
            if label and len(_WORD.findall(label)) <= MAX_LABEL_WORDS and not _ends_unbroken(label):
                found.add(comparable(label))
    return found


def _lines(element: HtmlElement) -> list[tuple[str, int, int]]:
    """The element's own lines, split at <br>: (text, links, link words) each."""
    lines: list[tuple[str, int, int]] = []
    text, links, linked = element.text or "", 0, 0
    for child in element:
        if child.tag == "br":
            lines.append((text, links, linked))
            text, links, linked = "", 0, 0
        elif isinstance(child.tag, str):
            text += child.text_content()
            if child.tag == "a":
                links, linked = links + 1, linked + _link_words(child)
        text += child.tail or ""
    lines.append((text, links, linked))
    return lines


def _has_own_label(block: HtmlElement) -> bool:
    """Words before the block's first link: a box with a heading of its own is not the label's list."""
    text, first = block.text_content(), next(block.iter("a")).text_content()
    return bool(_WORD.search(text[: text.find(first)]))


def _mostly_links(element: HtmlElement) -> bool:
    """Most of the element's words are link text, a link that shows its own address aside (a source)."""
    words = len(_WORD.findall(element.text_content()))
    linked = sum(_link_words(a) for a in element.iter("a"))
    return bool(words) and linked > MAX_PROSE_LINK_SHARE * words


def _link_words(link: HtmlElement) -> int:
    text = link.text_content().strip()
    return 0 if "://" in text or text.startswith("www.") else len(_WORD.findall(text))


def ends_sentence(text: str) -> bool:
    """The text ends as a sentence does, in any script, closing quotes aside, or with a closing bracket (a
    caption's credit, an aside): a finished unit either way."""
    text = text.rstrip()
    return text.endswith(_CLOSING_BRACKETS) or text.rstrip(_CLOSING_QUOTES).endswith(_SENTENCE_END)


def _ends_unbroken(text: str) -> bool:
    """A finished sentence, not one that trails off ("You may also like...")."""
    return ends_sentence(text) and not text.rstrip().endswith(("...", "…"))


def _is_link_line(text: str, words: int, linked: int, first_link: str) -> bool:
    """A label of its own, then the link, and no sentence: a pointer to another story ("Lesen Sie auch:
    <headline>"). The link is most of the text, or all of it after a label of a few words (a short headline
    under a longer label). (A bare link, such as a source's URL, or a sentence around a link is the
    article's.)"""
    label = text[: text.find(first_link)] if first_link in text else ""
    label_words = len(_WORD.findall(label))
    after_label = linked > MAX_PROSE_LINK_SHARE * words or (
        label_words <= MAX_LABEL_WORDS and linked == words - label_words
    )
    return bool(label_words) and after_label and words <= MAX_LINK_LINE_WORDS and not ends_sentence(text)


def comparable(text: str) -> str:
    """The text's words, case-folded: for telling whether two renderings say the same thing."""
    return " ".join(_WORD.findall(normalise(text).casefold()))


def running_text(tree: HtmlElement) -> str:
    """The page's text in document order as one run of case-folded words without spaces between them: two
    lines stand together in the page when their `running` texts, one after the other, are part of it."""
    return running(" ".join(tree.itertext()))


def running(text: str) -> str:
    """The text's `comparable` words run together (spacing aside: extractors glue or split words where the
    markup has no space)."""
    return "".join(_WORD.findall(normalise(text).casefold()))


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

"""The extractor for every site without an outlet parser: structured data, then trafilatura, then clean-up.

The page is parsed once: title, byline and dates come from its JSON-LD/OpenGraph, then `cleanup` repairs
the same tree (chrome blocks out, layouts that hide article text undone) while `density` finds where its
prose is, and trafilatura reads it, so doing more than trafilatura costs no second parse. trafilatura's fast
pass is checked against the page's densest block of prose: a pass that read another block gets trafilatura's
own fallbacks, and a container dumped whole is split back into the block's paragraphs. The body is
trafilatura's unless the page's own JSON-LD `articleBody` shows trafilatura missed much of the article.
Last, `cleanup` drops the chrome lines that would otherwise make every fetch look like an edit.
"""

from __future__ import annotations

import html as html_entities
import re
from collections.abc import Sequence
from functools import cache, partial

import lxml.html
import trafilatura
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.utils import load_html

from newsdelta.extract.base import Extracted, ExtractionError
from newsdelta.extract.cleanup import clean_paragraphs, prepare_tree
from newsdelta.extract.density import (
    comparable,
    coverage,
    main_block,
    main_container_text,
    main_text,
    running_text,
    word_pairs,
)
from newsdelta.extract.standfirst import find_standfirst
from newsdelta.extract.structured import read_structured
from newsdelta.text import normalise, normalise_paragraphs

# Real article pages, inline app state included, stay well under this; a bigger "page" is a dump or an
# attack, and refusing it keeps one fetch from costing seconds of CPU. Pages above it are refused, not cut:
# a truncated page would silently lose the end of the article and fake an edit when the page shrinks.
MAX_PAGE_CHARS = 10_000_000
# Trafilatura's cost grows with the element count (about 0.1 ms each): this bounds one page to seconds.
# Busy real article pages have a few thousand elements.
MAX_ELEMENTS = 60_000
# Share of control characters (or decoding replacement characters) in the page's start that means binary.
MAX_BINARY_SHARE = 0.05
BINARY_SNIFF_CHARS = 4096
# When trafilatura's text holds less than this share of articleBody's word pairs, and articleBody is longer,
# trafilatura read another block or only part of the article. Above it, trafilatura's text is kept: it has
# the page's paragraph breaks, where articleBody is often one run of text (and sometimes a teaser).
MIN_BODY_COVERAGE = 2 / 3
# trafilatura's fast pass is checked against the page's densest block of prose when that block has at least
# this many words, and given a second opinion when it holds less than this share of the block's word pairs.
MIN_MAIN_WORDS = 80
MIN_MAIN_COVERAGE = 0.5
# When both of trafilatura's passes miss the densest block, it replaces their reading only if that has less
# than a third of its words.
MAX_SHORT_READING = 3

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffd]")
_WORD = re.compile(r"\w+")


class GenericExtractor:
    name = "generic"
    version = 5  # 4: the standfirst; 5: blocks never fuse with the text around them

    def matches(self, url: str) -> bool:
        return True

    def is_article_url(self, url: str) -> bool:
        return True

    def parse(self, html: str, url: str) -> Extracted:
        tree = parse_page(html, url)
        structured = read_structured(tree, url)
        headlines = (structured.headline, structured.og_title, _first_h1(tree), structured.html_title)
        page = prepare_tree(tree)
        page_text = cache(partial(running_text, tree))  # which short lines stand together; rarely asked
        block = main_block(page)  # once: its paragraphs check trafilatura, its container guides the clean-up
        main = main_text(block)
        extracted = trafilatura_paragraphs(tree, url)
        if is_container_dump(extracted, headlines, main):
            extracted = _part_of_dump(tree, url, extracted, main)
        elif misses_main_text(extracted, main):
            extracted = _second_opinion(tree, url, extracted, main)
        body = choose_body(extracted, article_body_paragraphs(structured.body))
        paragraphs = clean_paragraphs(
            normalise_paragraphs(body),
            headlines,
            structured.authors,
            page.link_lines,
            page.headings,
            main_container_text(block),
            page.link_lists,
            page_text,
        )
        if not paragraphs:
            raise ExtractionError(f"no article text found in {url}")
        title = next((normalise(h) for h in headlines if normalise(h)), "")
        return Extracted(
            title=title,
            paragraphs=tuple(paragraphs),
            parser=self.name,
            parser_version=self.version,
            byline=", ".join(structured.authors) or None,
            published=structured.published,
            updated=structured.updated,
            canonical_url=structured.canonical_url,
            standfirst=find_standfirst(tree, structured.description, paragraphs, title),
        )


def parse_page(html: str, url: str) -> HtmlElement:
    """The page's lxml tree, or ExtractionError for input that is not a readable HTML page."""
    if not html.strip():
        raise ExtractionError(f"empty page: {url}")
    if len(html) > MAX_PAGE_CHARS:
        raise ExtractionError(f"page of {len(html):,} characters is over the {MAX_PAGE_CHARS:,} limit: {url}")
    start = html[:BINARY_SNIFF_CHARS]
    if len(_CONTROL.findall(start)) > MAX_BINARY_SHARE * len(start):
        raise ExtractionError(f"binary content, not HTML: {url}")
    try:
        tree = load_html(html)
    except (ValueError, TypeError, RecursionError) as error:
        raise ExtractionError(f"unparseable HTML ({error}): {url}") from error
    if tree is None:
        raise ExtractionError(f"not an HTML page: {url}")
    if tree.xpath("count(//*)") > MAX_ELEMENTS:
        raise ExtractionError(f"page has more than {MAX_ELEMENTS:,} elements: {url}")
    return tree


def trafilatura_paragraphs(
    tree: HtmlElement, url: str, precise: bool = False, fast: bool = True
) -> list[str]:
    """Trafilatura's body lines, [] for none. The settings are chosen by measured accuracy on both halves of
    extraction-dev (bench/extraction.py), whole pipeline, F1 half A / half B: fast + favor_recall
    0.979 / 0.981; fast alone 0.979 / 0.981; fast + favor_precision 0.970 / 0.981; with trafilatura's
    fallbacks (fast=False) and favor_recall the same as fast, without favor_recall 0.979 / 0.973, with
    favor_precision 0.978 / 0.981, each at about two thirds of the speed. fast's one risk, a first pass that
    picked the wrong block, is caught by `misses_main_text`, which then asks for fast=False. `precise` is for
    short articles, where recall mode's rescue dumps the whole container."""
    try:
        document = trafilatura.bare_extraction(
            tree,
            url=url,
            include_comments=False,
            favor_recall=not precise,
            favor_precision=precise,
            fast=fast,
            with_metadata=False,
        )
    except RecursionError as error:
        raise ExtractionError(f"markup nested too deeply to read: {url}") from error
    text = getattr(document, "text", None) or ""
    return text.split("\n") if text.strip() else []


def is_container_dump(paragraphs: Sequence[str], headlines: Sequence[str], main: Sequence[str] = ()) -> bool:
    """One run of text that starts with the headline, or that holds the densest block's paragraphs and more:
    trafilatura found too little article text (a brief story) and fell back to the whole article element,
    byline and timestamps glued in where clean-up cannot reach them. (A short one-paragraph result alone is
    no sign: most are real brief stories.)"""
    lines = [p for p in paragraphs if p.strip()]
    if len(lines) != 1:
        return False
    text, block = comparable(lines[0]), comparable(" ".join(main))
    if block and block in text and len(text) > len(block):
        return True
    return any(h and text.startswith(h) and len(text) > len(h) for h in map(comparable, headlines))


def _part_of_dump(tree: HtmlElement, url: str, dump: list[str], main: list[str]) -> list[str]:
    """The article inside a container dump, its paragraphs apart: trafilatura in precision mode (which makes
    no such fallback) if it finds a part of the dump that holds the densest block's prose, else that block's
    own paragraphs if the dump holds them."""
    whole = comparable(dump[0])
    for candidate in (trafilatura_paragraphs(tree, url, precise=True), main):
        found = comparable(" ".join(candidate))
        if found and found in whole and coverage(candidate, main) >= MIN_MAIN_COVERAGE:
            return candidate
    return dump


def misses_main_text(extracted: Sequence[str], main: Sequence[str]) -> bool:
    """trafilatura's fast pass read another block (a sign-up dialog, a menu, a promo strip) or only the
    standfirst: it holds under half of the prose of the page's densest block."""
    return _words(main) >= MIN_MAIN_WORDS and coverage(extracted, main) < MIN_MAIN_COVERAGE


def _second_opinion(tree: HtmlElement, url: str, extracted: list[str], main: list[str]) -> list[str]:
    """trafilatura with its own fallbacks (readability, justext) on. When that misses the densest block too,
    the block wins only over a far shorter reading (a standfirst, a promo strip): a long reading elsewhere
    may well be the article, and the dense block a comment thread."""
    thorough = trafilatura_paragraphs(tree, url, fast=False)
    if not misses_main_text(thorough, main):
        return thorough
    return main if _words(extracted) * MAX_SHORT_READING < _words(main) else extracted


def _words(paragraphs: Sequence[str]) -> int:
    return sum(len(_WORD.findall(p)) for p in paragraphs)


def choose_body(extracted: Sequence[str], article_body: Sequence[str]) -> Sequence[str]:
    """Trafilatura's paragraphs unless the page's own articleBody is longer and they miss much of it."""
    declared, found = word_pairs(article_body), word_pairs(extracted)
    if not declared:
        return extracted
    share = len(declared & found) / len(declared)  # `coverage`, with both pair sets needed here
    return article_body if share < MIN_BODY_COVERAGE and len(declared) > len(found) else extracted


def article_body_paragraphs(body: str) -> list[str]:
    """articleBody as paragraphs; some sites put HTML in it, whose tags and entities must not become text."""
    if "<" not in body:
        return html_entities.unescape(body).split("\n")
    try:
        fragment = lxml.html.fragment_fromstring(body, create_parent="div")
    except etree.ParserError:
        return []
    for block in fragment.iter("p", "br", "li", "h2", "h3", "h4", "div"):
        block.tail = "\n" + (block.tail or "")
    text: str = fragment.text_content()
    return text.split("\n")


def _first_h1(tree: HtmlElement) -> str:
    heading = tree.find(".//h1")
    return heading.text_content() if heading is not None else ""


GENERIC = GenericExtractor()

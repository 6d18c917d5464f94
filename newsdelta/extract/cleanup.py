"""Dropping page chrome that survives content extraction, so the body is the same on every fetch.

Extractors keep short lines that sit inside the article container but change between fetches or are not
the article: clocks and relative timestamps, bylines, live counters, "read more" pointers, labels. Every
rule here works in every language because it looks at structure and shape, never at words: pointers are
paragraphs of a label and a link, lines of nothing but links, and labels heading a run of links (all found
in the page's markup by `density`); stamps are short unfinished lines with a number; the body's edges lose
short unfinished lines, the headline and the author's name, while runs of such lines are lists and stay. A
trailing list of other stories is told by place: it and its heading lie outside the article's block.
House promos written as prose ("Sign up for our newsletter.") are not told apart from the article here:
they recur verbatim across a source's articles, which is what the crawl's per-source boilerplate memory
(`newsdelta.fidelity`) learns.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Sequence, Set

from lxml import etree
from lxml.html import HtmlElement

from newsdelta.extract.density import (
    MAX_LABEL_WORDS,
    MAX_LINE_WORDS,
    PageText,
    comparable,
    ends_sentence,
    read_paragraphs,
    running,
)

# Teasers under a "Related stories" heading: a headline, perhaps with a one-sentence summary.
MAX_TEASER_WORDS = 25
# A list of other stories holds at least this many of them.
MIN_LIST_ITEMS = 2
# A date, clock or counter line ("Aktualisiert vor 5 Minuten", "1 204 partages") is no longer than this.
MAX_STAMP_WORDS = 8
# Furniture at one edge of the body (clock, byline, "updated" line; or counters, tags) is at most this many
# lines; a longer run of short lines there is a list that belongs to the article.
MAX_EDGE_LINES = 3
_WORD = re.compile(r"\w+")


def drop_repeated_headline(paragraphs: Sequence[str], headlines: Iterable[str]) -> list[str]:
    """Drop leading paragraphs that repeat the headline: the title is stored on its own, not as body text."""
    known = {comparable(h) for h in headlines} - {""}
    start = 0
    while start < len(paragraphs) and comparable(paragraphs[start]) in known:
        start += 1
    return list(paragraphs[start:])


def drop_story_list_tail(paragraphs: Sequence[str], article: str = "") -> list[str]:
    """Cut a trailing list of other stories and its heading. In any language: a heading-like line (short,
    no sentence) that, like every teaser after it, is not in the element holding the article's densest
    block (`article`, its `comparable` text; a list inside that element is the article's). Only a tail of
    short lines counts as such a list: a box in mid-article is followed by prose again, and that prose
    must stay."""
    cut = len(paragraphs)
    outside = bool(article)
    for index in range(len(paragraphs) - 1, -1, -1):
        line = paragraphs[index]
        words = len(_WORD.findall(line))
        if words > MAX_TEASER_WORDS:
            break
        outside = outside and comparable(line) not in article
        heading_like = words <= MAX_LINE_WORDS and not ends_sentence(line)
        if outside and heading_like:
            cut = index
    items = paragraphs[cut + 1 :]
    if len(items) < MIN_LIST_ITEMS and any(ends_sentence(line) for line in items):
        return list(paragraphs)  # one sentence after a short line is no list: a note the article ends with
    return list(paragraphs[:cut])


def is_meta_line(line: str, names: Iterable[str] = ()) -> bool:
    """A line shaped like page furniture rather than prose, in any language: not a finished sentence, and
    either a few words, or a short line with a number in it (a date, a clock, a counter), or one naming the
    article's author (a byline). Only lines at the edges of the body are judged this way: in the middle a
    short unfinished line is as likely a subheading."""
    line = line.strip()
    if ends_sentence(line) or line.startswith("|"):  # "|": a table row
        return False
    words = _WORD.findall(line)
    if len(words) <= MAX_LABEL_WORDS:
        return True
    if len(words) > MAX_LINE_WORDS:
        return False
    folded = line.casefold()
    return any(w[0].isdigit() for w in words) or any(n and n in folded for n in map(str.casefold, names))


def is_stamp_line(line: str) -> bool:
    """A short unfinished line with a digit in it, in any language and script: a date, a clock, a counter,
    an "updated N minutes ago" line."""
    line = line.strip()
    if ends_sentence(line) or line.startswith(("|", "- ")):
        return False  # a sentence, a table row or a list item
    words = _WORD.findall(line)
    return len(words) <= MAX_STAMP_WORDS and any(w[0].isdigit() for w in words)


def drop_stamp_runs(paragraphs: Sequence[str], headings: Set[str] = frozenset()) -> list[str]:
    """Drop stamp lines that stand between prose paragraphs (or between prose and the body's edge or a
    bulleted list), at most MAX_EDGE_LINES together: a date line under the standfirst, a counter between two
    paragraphs. Stamp-like lines next to other short lines are a list or a table (fixtures, results, tour
    dates) and stay, as do the page's own headings however they look."""
    stamp = [is_stamp_line(p) and comparable(p) not in headings for p in paragraphs]
    kept: list[str] = []
    index = 0
    for is_stamp, run in itertools.groupby(stamp):
        length = len(list(run))
        lines = paragraphs[index : index + length]
        before, after = (
            paragraphs[index - 1] if index else None,
            paragraphs[index + length : index + length + 1],
        )
        index += length
        between_prose = _is_prose(before) and _is_prose(after[0] if after else None)
        if not (is_stamp and length <= MAX_EDGE_LINES and between_prose):
            kept.extend(lines)
    return kept


def _is_prose(line: str | None) -> bool:
    """A finished sentence of some length, a bulleted item (a stamp is not one of its items: those start
    with the bullet too), or None for the body's edge."""
    if line is None or line.startswith("- "):
        return True
    return ends_sentence(line) and len(_WORD.findall(line)) > MAX_LINE_WORDS


def trim_edges(
    paragraphs: Sequence[str],
    headlines: Iterable[str] = (),
    names: Iterable[str] = (),
    page_text: Callable[[], str] | None = None,
) -> list[str]:
    """Drop furniture lines and headline copies from both ends of the body: clocks and tickers above the
    headline, byline and "updated" lines under it, counters and tags after the last paragraph. A longer run
    of such lines that stand together in the page is a list the article ends or opens with (fixtures, tour
    dates, an info box) and stays; lines of the run apart from it go. With `page_text` (giving
    `density.running_text`, asked only for such a run) lines stand together when nothing lies between them
    in the page; without it, all do. So a strip of a
    varying number of lines somewhere else on the page does not decide whether the byline next to the body is
    kept. A copy of the headline is where the article starts: the lines above it go however many there are."""
    known = {comparable(h) for h in headlines} - {""}
    names = tuple(names)
    lines = list(paragraphs)

    def edge_run(ordered: Sequence[str], allow_headline: bool) -> tuple[int, list[str]]:
        """How many lines the run at this edge has, and those of them that stay (a list), edge first."""
        run = 0
        furniture: list[str] = []
        for line in ordered:
            if allow_headline and comparable(line) in known:
                run, furniture = run + 1, []  # the article starts here: lines above it are not its list
            elif is_meta_line(line, names):
                run = run + 1
                furniture.append(line)
            else:
                break
        return run, listed_lines(furniture if allow_headline else furniture[::-1], page_text)

    start, top = edge_run(lines, allow_headline=True)
    length, bottom = edge_run(lines[start:][::-1], allow_headline=False)
    return [*top, *lines[start : len(lines) - length], *bottom]


def listed_lines(lines: Sequence[str], page_text: Callable[[], str] | None = None) -> list[str]:
    """The lines (in page order) that belong to a list: a stretch of more than MAX_EDGE_LINES of them, each
    standing right after the one before in `page_text()` (without it, every line stands with its
    neighbours)."""
    if len(lines) <= MAX_EDGE_LINES:
        return []  # no stretch is long enough: the page's text is not needed
    stretches: list[list[str]] = []
    for line in lines:
        if stretches and (page_text is None or running(stretches[-1][-1]) + running(line) in page_text()):
            stretches[-1].append(line)
        else:
            stretches.append([line])
    return [line for stretch in stretches if len(stretch) > MAX_EDGE_LINES for line in stretch]


def clean_paragraphs(
    paragraphs: Iterable[str],
    headlines: Iterable[str] = (),
    names: Iterable[str] = (),
    link_lines: Set[str] = frozenset(),
    headings: Set[str] = frozenset(),
    article: str = "",
    link_lists: Set[str] = frozenset(),
    page_text: Callable[[], str] | None = None,
) -> list[str]:
    """The article paragraphs without chrome lines, pointers to other stories (`link_lines`, see `density`),
    story lists (`article`: see `drop_story_list_tail`), edge furniture (`page_text`: see `trim_edges`) and a
    leading headline copy."""
    pointers = link_lines | link_lists
    kept = [
        p
        for p in drop_story_list_tail(list(paragraphs), article)
        if _WORD.search(p) and comparable(p) not in pointers
    ]
    kept = drop_stamp_runs(kept, headings)
    return trim_edges(drop_repeated_headline(kept, headlines), headlines, names, page_text)


# --- repairs to the page tree before extraction ------------------------------------------------------------

# Embedded social posts are quotes the journalist chose, so they are article text; their wrappers carry
# "social"/"embed" classes that extractors prune as share widgets.
EMBEDDED_POST_CLASSES = (
    "twitter-tweet",
    "instagram-media",
    "tiktok-embed",
    "bluesky-embed",
    "mastodon-embed",
)
# Class names of a block that holds article text (in common CMS spellings), and of blocks around it.
_BODY_CLASS = re.compile(
    r"(?:article|story|entry|post)[-_]*(?:body|content|text)|body[-_]*(?:text|container|copy)", re.IGNORECASE
)
_NOT_BODY_CLASS = re.compile(
    r"comment|related|promo|recirc|sidebar|aside|rail|footer|header|nav|teaser|card|share|social|ad\b|ad[-_]",
    re.IGNORECASE,
)
# Words of class/id names that mark page chrome: adverts, consent banners, recommendation widgets. Matched
# against whole parts of a name ("ad-slot", "dfp_top", "sidebarAds"; not "header", "load" or "adobe").
CHROME_CLASS_WORDS = frozenset(
    {
        "ad", "ads", "advert", "adverts", "advertisement", "advertising", "adslot", "adunit", "dfp", "gpt",
        "cookie", "cookies", "consent", "gdpr",
        "outbrain", "taboola", "recirc", "recirculation", "related",
    }
)  # fmt: skip
# The parts of a class or id: split at anything not a letter or digit and where a lower-case letter meets an
# upper-case one ("sidebarAds" -> sidebar, Ads).
_NAME_PART = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
# Any chrome word anywhere in a lower-cased name: a cheap test before the name is split into its parts (the
# words that contain no other chrome word are enough: "ad" finds "ads" and "adslot" too).
_CHROME_HINT = re.compile(
    "|".join(sorted(w for w in CHROME_CLASS_WORDS if not any(o != w and o in w for o in CHROME_CLASS_WORDS)))
)
_NAMED_ELEMENTS = etree.XPath("//body//*[@class or @id]")
# Chrome found by class names may remove at most this share of the page's prose, all blocks of one chrome
# word together: a "related" or "ads" class on the blocks that hold the article is an unlucky name.
MAX_CHROME_PROSE_SHARE = 0.2
_NEVER_DROPPED = frozenset({"html", "body", "main", "article"})
# Parts of a split body are joined only when no more than this much text lies between them.
MAX_WORDS_BETWEEN_PARTS = 10
_INVISIBLE_TAGS = frozenset({"script", "noscript", "style", "template"})
_TABLE_PARTS = "./tr|./tbody/tr|./thead/tr|./tfoot/tr"


def prepare_tree(tree: HtmlElement) -> PageText:
    """Drop scripts and chrome blocks, then undo three layouts that make extractors lose article text (in
    place). trafilatura drops the invisible elements too; done first, no measure of text counts their code.
    Returns what `density` read of the paragraphs, less those dropped."""
    etree.strip_elements(tree, *_INVISIBLE_TAGS, with_tail=False)
    page = read_paragraphs(tree)
    drop_chrome_blocks(tree, page.prose)
    lift_embedded_posts(tree)
    unwrap_layout_tables(tree)
    merge_split_bodies(tree)
    separate_blocks(tree)
    return page


def drop_chrome_blocks(tree: HtmlElement, prose: dict[HtmlElement, int]) -> None:
    """Remove adverts, consent banners and story-recommendation widgets, keeping the text that follows them.
    Extractors mostly drop these too, but one that appears, moves or changes size can tip their choice of
    block or of paragraph boundaries; removed first, they cannot. Each chrome word is checked against what
    it would remove: when its blocks hold a real share of the page's prose, they are the article. The
    removed paragraphs leave `prose` too. A page without prose paragraphs gives nothing to check against,
    so nothing is removed from it."""
    total = sum(prose.values())
    if not total:
        return
    by_word: dict[str, list[HtmlElement]] = {}
    for element in _NAMED_ELEMENTS(tree):
        name = f"{element.get('class', '')} {element.get('id', '')}"
        if element.tag in _NEVER_DROPPED or not _CHROME_HINT.search(name.lower()):
            continue
        if word := chrome_word(name):
            by_word.setdefault(word, []).append(element)
    doomed = [
        element
        for blocks in by_word.values()
        if sum(prose_in(block, prose) for block in _outermost(blocks)) <= MAX_CHROME_PROSE_SHARE * total
        for element in blocks
    ]
    for element in _outermost(doomed):
        for paragraph in element.iter("p"):
            prose.pop(paragraph, None)
        element.drop_tree()


def chrome_word(name: str) -> str | None:
    """The chrome word that is a whole part of a class/id attribute, if any."""
    return next((w for w in map(str.lower, _NAME_PART.findall(name)) if w in CHROME_CLASS_WORDS), None)


def prose_in(block: HtmlElement, prose: dict[HtmlElement, int]) -> int:
    return sum(prose.get(paragraph, 0) for paragraph in block.iter("p"))


def _outermost(elements: list[HtmlElement]) -> list[HtmlElement]:
    """The elements not inside another of them (removing those removes the rest)."""
    ids = {id(element) for element in elements}
    return [e for e in elements if not any(id(a) in ids for a in e.iterancestors())]


def lift_embedded_posts(tree: HtmlElement) -> None:
    """Replace each embedded post's wrapper chain by the bare quote, so it reads as a blockquote."""
    for quote in list(tree.iter("blockquote")):
        classes = (quote.get("class") or "").split()
        if not any(c in EMBEDDED_POST_CLASSES for c in classes):
            continue
        wrapper = quote
        while (parent := wrapper.getparent()) is not None and _only_wraps(parent, wrapper):
            wrapper = parent
        quote.attrib.pop("class")
        if wrapper is not quote:
            quote.tail = wrapper.tail
            wrapper.getparent().replace(wrapper, quote)


def _only_wraps(parent: HtmlElement, child: HtmlElement) -> bool:
    if parent.tag in ("body", "article", "main", "section") or (parent.text or "").strip():
        return False
    return all(c is child or c.tag in _INVISIBLE_TAGS or not isinstance(c.tag, str) for c in parent)


def unwrap_layout_tables(tree: HtmlElement) -> None:
    """Turn tables used for page layout into divs; a layout cell holding the whole article would otherwise
    come out as one table cell with the navigation glued to it. Data tables are left alone."""
    for table in reversed(list(tree.iter("table"))):  # innermost first, so nested layouts unwrap too
        if not _is_layout_table(table):
            continue
        for row in table.xpath(_TABLE_PARTS):
            for cell in row.xpath("./td|./th"):
                cell.tag = "div"
            row.tag = "div"
        for section in table.xpath("./tbody|./thead|./tfoot"):
            section.tag = "div"
        table.tag = "div"


def _is_layout_table(table: HtmlElement) -> bool:
    """Readability's test, simplified: presentation role, block content or a single row/column = layout."""
    if table.get("role") == "presentation":
        return True
    if table.find("caption") is not None or table.xpath(".//th|./thead|./colgroup"):
        return False
    if table.xpath(".//table|.//p|.//div|.//h1|.//h2|.//h3|.//ul|.//ol|.//article"):
        return True
    rows = table.xpath(_TABLE_PARTS)
    return len(rows) <= 1 or max(len(row.xpath("./td")) for row in rows) <= 1


def merge_split_bodies(tree: HtmlElement) -> None:
    """Join an article body that the page splits into several blocks of the same body class (full-width
    adverts between them): extractors pick one block and lose the rest. Only blocks with nothing but chrome
    between them are joined, so no text of the page changes its order."""
    groups: dict[str, list[HtmlElement]] = {}
    for block in tree.xpath("//div[@class]|//section[@class]"):
        classes = block.get("class")
        if (
            _BODY_CLASS.search(classes)
            and not _NOT_BODY_CLASS.search(classes)
            and block.find("p") is not None
        ):
            groups.setdefault(classes, []).append(block)
    split = [blocks for blocks in groups.values() if len(blocks) > 1]
    if not split:
        return
    position = {element: index for index, element in enumerate(tree.iter())}
    joins = [
        (before, after)
        for blocks in split
        for before, after in itertools.pairwise(blocks)
        if not _is_inside(after, before)
        and _words_between(before, after, position) <= MAX_WORDS_BETWEEN_PARTS
    ]
    for before, after in reversed(joins):  # last pair first, so chains of parts end up in the first part
        before.append(after)  # moves the part with its text and tail; nothing between them is text


def _words_between(before: HtmlElement, after: HtmlElement, position: dict[HtmlElement, int]) -> int:
    """Words of text in document order after the end of `before` and before the start of `after`."""
    end = max(position[e] for e in before.iter())
    start = position[after]
    enclosing = set(after.iterancestors())
    texts = [before.tail]
    for element, index in position.items():
        if end < index < start and isinstance(element.tag, str) and element.tag not in _INVISIBLE_TAGS:
            texts.append(element.text)
            if element not in enclosing:
                texts.append(element.tail)
    return sum(len(_WORD.findall(t)) for t in texts if t)


def _is_inside(node: HtmlElement, container: HtmlElement) -> bool:
    return any(ancestor is container for ancestor in node.iterancestors())


# Elements that start a block of their own in a browser: text before and after one is another paragraph.
BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "center", "details", "dd", "dialog", "div", "dl", "dt",
        "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
        "hgroup", "hr", "li", "main", "menu", "nav", "ol", "p", "pre", "section", "summary", "table", "ul",
    }
)  # fmt: skip
_LISTS = frozenset({"ul", "ol", "menu"})
# Blocks that trafilatura keeps in its output but writes out inline, with no line end of their own: when it
# takes a whole container at once (its recovery of a page with no recognised article block), a line of
# text in one of these runs on into the paragraph after it. (A <div> it unwraps, and its text ends where
# the next block starts; paragraphs, headings, lists, quotes and tables have line ends.)
_WRITTEN_INLINE = frozenset(
    {
        "address", "article", "aside", "center", "dialog", "fieldset", "figcaption", "figure", "footer", "form",
        "header", "hgroup", "main", "nav", "section",
    }
)  # fmt: skip
# Elements whose loose text is left as it is: table parts (a cell is one unit of a row), preformatted text
# and the document's head.
_KEPT_TOGETHER = frozenset(
    {
        "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "pre", "dl", "select", "html", "head",
    }
)  # fmt: skip


def separate_blocks(tree: HtmlElement) -> None:
    """Keep loose text (with its inline elements) that sits next to a block element out of that block's
    paragraph. trafilatura otherwise reads such text as part of a neighbouring block (a tweet's credit
    line glued to a counter after it, a caption to the next paragraph), so one block's words fuse with
    another's, sometimes without a space, and a changing counter changes an article paragraph. A line break
    goes between such text and the block: trafilatura still decides whether the text is article, and its
    line ends where the block starts. Inside a quote trafilatura ignores line breaks and breaks lines only at
    paragraphs and lists, so there the text becomes a <p> (an <li> in a list), and an <li> outside a list
    a <div>: trafilatura reads such an item there as inline text of whatever is around it (elsewhere it
    drops it, and it stays as it is). A <p> that holds blocks (invalid, but parsers keep some) is a <div>
    too. A list item holding several blocks is split into one item per block, as trafilatura reads an item
    as one line. A block that trafilatura writes out inline (a <section>, <header>, …) and that ends in text
    ends in a line break too."""
    for quote in tree.iter("blockquote"):
        for element in list(quote.iter("li")):
            if (parent := element.getparent()) is not None and parent.tag not in _LISTS:
                element.tag = "div"
    for element in list(tree.iter("li")):
        _wrap_orphan_items(element)
    for item in list(tree.iter("li")):
        _split_item(item)
    for parent in list(tree.iter()):
        if not isinstance(parent.tag, str) or parent.tag in _KEPT_TOGETHER:
            continue
        if not any(_is_block(child) for child in parent):
            continue
        if parent.tag == "blockquote" or next(parent.iterancestors("blockquote"), None) is not None:
            _wrap_loose_runs(parent, "li" if parent.tag in _LISTS else "p")
        else:
            _break_loose_runs(parent)
        if parent.tag == "p":
            parent.tag = "div"
    for block in list(tree.iter(*_WRITTEN_INLINE)):
        _end_line(block)


def _end_line(block: HtmlElement) -> None:
    """End a block that trafilatura writes out inline with a line break when text with words closes it (its
    loose text after its last block child, or all it holds), so its last line stays out of the paragraph
    that follows it. Inside a quote, where trafilatura ignores line breaks, such a block's text becomes a
    paragraph of its own instead."""
    last = next((c for c in reversed(block) if _is_block(c)), None)
    if last is None:
        words = _has_text(block.text_content())
    else:
        words = _has_text(last.tail) or any(_has_words(e) or _has_text(e.tail) for e in last.itersiblings())
    if not words:
        return
    if last is None and next(block.iterancestors("blockquote"), None) is not None:
        # A quote's line breaks are ignored; loose runs beside blocks are <p>s already.
        _wrap_loose_runs(block, "p")
    else:
        block.append(block.makeelement("br", {}))


def _wrap_orphan_items(item: HtmlElement) -> None:
    """Put an <li> outside any list, with the items right after it, into a list of its own, as a browser
    shows it: trafilatura otherwise reads it inline with the blocks around it (a weather line glued to the
    correction note after it)."""
    parent = item.getparent()
    if parent is None or parent.tag in _LISTS:
        return
    items = [item]
    while (
        (following := items[-1].getnext()) is not None
        and following.tag == "li"
        and not _has_text(items[-1].tail)
    ):
        items.append(following)
    listing = item.makeelement("ul", {})
    item.addprevious(listing)
    listing.tail, items[-1].tail = items[-1].tail, None
    for element in items:
        listing.append(element)


def _split_item(item: HtmlElement) -> None:
    """Split a list item holding several blocks with words (nested lists aside) into one item per block
    and per run of loose text between them: trafilatura reads an item as one line whatever it holds."""
    blocks = [c for c in item if _is_block(c) and c.tag not in _LISTS]
    parent = item.getparent()
    if not blocks or parent is None:
        return
    groups: list[tuple[str | None, list[HtmlElement]]] = []
    text, run = item.text, list[HtmlElement]()
    for child in item:
        if child in blocks:
            groups += [(text, run), (None, [child])]
            text, run = child.tail, []
        else:
            run.append(child)
    groups.append((text, run))
    worded = [_has_text(t) or any(_has_words(e) for e in r) for t, r in groups]
    if sum(worded) < 2:
        return
    items: list[HtmlElement] = []
    for (text, elements), words in zip(groups, worded, strict=True):
        if words or not items:
            items.append(item.makeelement("li", dict(item.attrib)))
            items[-1].text = text
        elif len(items[-1]):
            items[-1][-1].tail = (items[-1][-1].tail or "") + (text or "")
        else:
            items[-1].text = (items[-1].text or "") + (text or "")
        for element in elements:
            if element in blocks:
                element.tail = None
            items[-1].append(element)
    tail = item.tail
    index = parent.index(item)
    parent[index : index + 1] = items
    items[-1].tail = tail


def _has_words(element: HtmlElement) -> bool:
    return isinstance(element.tag, str) and _has_text(element.text_content())


def _is_block(element: HtmlElement) -> bool:
    """A block element, or an inline one around a block (a link around a teaser's heading and text)."""
    return isinstance(element.tag, str) and next(element.iter(*BLOCK_TAGS), None) is not None


def _wrap_loose_runs(parent: HtmlElement, wrapper: str) -> None:
    """Put each run of the parent's text and inline children between its block children into a new
    `wrapper` element, when the run has words; a run of whitespace, images or comments stays as it is."""
    content: list[HtmlElement] = []
    text, run = parent.text, list[HtmlElement]()

    def close_run() -> None:
        if _has_text(text) or any(_has_words(e) for e in run):
            block = parent.makeelement(wrapper, {})
            block.text = text
            block.extend(run)
            content.append(block)
            return
        if content:
            content[-1].tail = (content[-1].tail or "") + (text or "")
        else:
            parent.text = text
        content.extend(run)

    parent.text = None
    for child in list(parent):
        if _is_block(child):
            close_run()
            text, run = child.tail, []
            child.tail = None
            content.append(child)
        else:
            run.append(child)
    close_run()
    parent[:] = content


def _break_loose_runs(parent: HtmlElement) -> None:
    """Put a line break between each block child and a run of loose text with words next to it."""
    words_before = _has_text(parent.text)
    for child in list(parent):
        if _is_block(child):
            if words_before:
                child.addprevious(parent.makeelement("br", {}))
            if _has_text(child.tail):
                br = parent.makeelement("br", {})
                br.tail, child.tail = child.tail, None
                child.addnext(br)
            words_before = False
        else:
            words_before = words_before or _has_words(child) or _has_text(child.tail)


def _has_text(text: str | None) -> bool:
    return bool(text and _WORD.search(text))

"""A parser defined by data: hosts, URL rules and one `PageFormat` per page template the outlet ever used.

Outlets change their HTML over the years while old articles keep the old template, so a parser holds several
formats and picks the first whose `detect` selector matches. A new template gets a NEW format; existing formats
are never edited in ways that change what old pages yield (their text is already stored as versions).

Selectors are CSS (compiled once by cssselect to XPath); `"css@attr"` reads an attribute instead of the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree
from lxml.cssselect import CSSSelector

from newsdelta.extract.base import Extracted, ExtractionError, UnknownFormat
from newsdelta.extract.bylines import clean_byline, markup_byline
from newsdelta.extract.dates import guess_published, parse_date
from newsdelta.extract.structured import read_structured
from newsdelta.text import normalise, normalise_paragraphs

# Never text a reader sees; removed before any text is read.
_INVISIBLE_TAGS = ("script", "style", "noscript", "template", "svg", "iframe", "object", "form", "button")
# Asides are, by HTML's own definition, beside the article (related links, promos), never its text.
_ALWAYS_CHROME = ("aside",)
# Selectors for these never need the (much larger) body searched.
_HEAD_ONLY = ("meta", "link", "title")
# lxml refuses a str that starts with an encoding declaration; XHTML pages do, and the text is decoded already.
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_ATTRIBUTE = re.compile(r"^(?P<css>.+)@(?P<attr>[\w:-]+)$")


@dataclass(frozen=True, slots=True)
class PageFormat:
    """One page template of one outlet.

    `paragraphs` selects, in document order, the elements that are one paragraph each (an element inside an
    already selected one is not selected again). Pages older than CSS-friendly markup delimit the body with
    comments instead: `markers` names the opening and closing comment, and each <p> inside starts a paragraph.
    `drop` removes chrome (captions, share widgets, "read more", asides) before the paragraphs are read.
    `skip` drops whole paragraphs whose normalised text matches (e.g. "Read more: ...").
    `title_strip` removes a site suffix from a title read from <title> ("... - The Intercept").
    """

    name: str
    detect: str
    paragraphs: str = ""
    markers: tuple[str, str] | None = None
    title: tuple[str, ...] = ("h1",)
    title_strip: str | None = None
    drop: tuple[str, ...] = ()
    skip: str | None = None
    byline: tuple[str, ...] = ()
    published: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()


@lru_cache(maxsize=512)
def _selector(css: str) -> CSSSelector:
    return CSSSelector(css, translator="html")


def select(root: Any, css: str) -> list[Any]:
    """Elements matching the CSS selector under root, in document order."""
    matches: list[Any] = _selector(css)(root)
    return matches


def children(container: str, *selectors: str) -> str:
    """A selector for elements that are direct children of the container: old templates nest chrome deeper."""
    return ", ".join(f"{container} > {selector}" for selector in selectors)


def element_text(element: Any) -> str:
    """What a reader sees of the element, normalised; inline markup joins without spaces, as on screen."""
    return normalise("".join(element.itertext()))


def parse_document(html: str) -> Any:
    """The lxml tree of the page; ExtractionError for input that is not HTML at all."""
    if not html or not html.strip():
        raise ExtractionError("empty page")
    if "\x00" in html:
        raise ExtractionError("binary data, not HTML (NUL characters)")
    try:
        return lxml.html.document_fromstring(_XML_DECLARATION.sub("", html, count=1))
    except (etree.ParserError, ValueError) as error:
        raise ExtractionError(f"unparseable HTML: {error}") from error


def read_value(root: Any, spec: str) -> str | None:
    """First non-empty value for a `css` or `css@attr` selector spec."""
    match = _ATTRIBUTE.match(spec)
    css, attr = (match["css"], match["attr"]) if match else (spec, None)
    head = root.find("head") if css.startswith(_HEAD_ONLY) else None
    for element in select(root if head is None else head, css):
        value = normalise(element.get(attr, "")) if attr else element_text(element)
        if value:
            return value
    return None


def first_value(root: Any, specs: Iterable[str]) -> str | None:
    return next((value for spec in specs if (value := read_value(root, spec))), None)


def absolute_path(url: str) -> tuple[str, str]:
    """(host, path+query) of a URL, accepting the scheme-less URLs feeds and people write."""
    parts = urlsplit(url if "//" in url else f"http://{url}")
    return (parts.hostname or "").lower(), parts.path + (f"?{parts.query}" if parts.query else "")


class DeclarativeParser:
    """An outlet parser made of data. Subclasses set the class attributes; hooks are the methods below."""

    name: ClassVar[str]
    version: ClassVar[int]
    hosts: ClassVar[tuple[str, ...]]
    article_path: ClassVar[re.Pattern[str]]
    reject_path: ClassVar[re.Pattern[str] | None] = None
    formats: ClassVar[tuple[PageFormat, ...]]
    timezone: ClassVar[tzinfo] = UTC

    def matches(self, url: str) -> bool:
        host, _ = absolute_path(url)
        return any(host == h or host.endswith(f".{h}") for h in self.hosts)

    def is_article_url(self, url: str) -> bool:
        if not self.matches(url):
            return False
        _, path = absolute_path(url.split("#", 1)[0])
        rejected = self.reject_path is not None and self.reject_path.search(path)
        return bool(self.article_path.search(path)) and not rejected

    def parse(self, html: str, url: str) -> Extracted:
        root = parse_document(html)
        page_format = self.page_format(root)
        if page_format is None:
            raise UnknownFormat(f"{self.name}: no known page format matches {url}")
        # The format's own byline and dates first (read in the outlet's zone), then what any page states.
        data = read_structured(root, guess=False)
        byline = clean_byline(first_value(root, page_format.byline)) or data.authors
        published = self.date(root, page_format.published) or data.published
        updated = self.date(root, page_format.updated) or data.updated
        if not byline:
            byline = markup_byline(root)
        published = published or guess_published(root, data.canonical_url or url)
        _strip_invisible(root)
        title = first_value(root, page_format.title) or normalise(data.headline)
        if page_format.title_strip:
            title = normalise(re.sub(page_format.title_strip, "", title))
        paragraphs = self.paragraphs(root, page_format)
        if not title or not paragraphs:
            missing = "title" if not title else "body paragraphs"
            # The template's hook is still there but the article moved: a changed format all the same.
            raise UnknownFormat(f"{self.name}: page in format {page_format.name!r} has no {missing}: {url}")
        return Extracted(
            title=title,
            paragraphs=paragraphs,
            parser=self.name,
            parser_version=self.version,
            byline=", ".join(byline) or None,
            published=published,
            updated=updated,
            canonical_url=self.canonical_url(root, url),
        )

    # -- hooks ------------------------------------------------------------------------------------------

    def page_format(self, root: Any) -> PageFormat | None:
        """The first format whose detect selector matches the page."""
        return next((f for f in self.formats if select(root, f.detect)), None)

    def paragraph_texts(self, element: Any) -> list[str]:
        """The paragraphs one selected element holds (one, unless an outlet splits an element further)."""
        return [element_text(element)]

    def paragraphs(self, root: Any, page_format: PageFormat) -> tuple[str, ...]:
        for element in select(root, ",".join(_ALWAYS_CHROME + page_format.drop)):
            element.drop_tree()
        if page_format.markers:
            texts = text_between_comments(root, *page_format.markers)
        else:
            chosen = _outermost(select(root, page_format.paragraphs))
            texts = [text for element in chosen for text in self.paragraph_texts(element)]
        skip = re.compile(page_format.skip) if page_format.skip else None
        return normalise_paragraphs([t for t in texts if not (skip and skip.search(normalise(t)))])

    def date(self, root: Any, specs: tuple[str, ...]) -> datetime | None:
        """The first date the format's selectors find, read in the outlet's zone."""
        for spec in specs:
            if parsed := parse_date(read_value(root, spec), self.timezone):
                return parsed
        return None

    def canonical_url(self, root: Any, url: str) -> str | None:
        href = read_value(root, "link[rel=canonical]@href")
        return urljoin(url, href) if href else None


def text_between_comments(root: Any, start: str, end: str) -> list[str]:
    """The text between two marker comments, split into paragraphs at every <p> boundary."""
    paragraphs: list[str] = []
    current: list[str] = []
    inside = False
    for event, node in etree.iterwalk(root, events=("start", "end", "comment")):
        if event == "comment":
            marker = (node.text or "").strip()
            if inside and marker == end:
                break
            inside = inside or marker == start
            if inside:
                current.append(node.tail or "")
            continue
        if not inside:
            continue
        if node.tag == "p":
            paragraphs.append("".join(current))
            current = []
        current.append((node.text or "") if event == "start" else (node.tail or ""))
    paragraphs.append("".join(current))
    return paragraphs


def _strip_invisible(root: Any) -> None:
    """Remove what a reader never sees, and make every <br> a word break (never glue two words)."""
    for element in list(root.iter(*_INVISIBLE_TAGS)):
        element.drop_tree()
    for br in root.iter("br"):
        br.tail = f" {br.tail or ''}"


def _outermost(elements: Iterable[Any]) -> list[Any]:
    """The elements that are not inside another of them, in document order, each once."""
    chosen: list[Any] = []
    seen: set[Any] = set()
    for element in elements:
        if element in seen or any(ancestor in seen for ancestor in element.iterancestors()):
            continue
        seen.add(element)
        chosen.append(element)
    return chosen

"""What a page says about itself in machine-readable form: JSON-LD articles, OpenGraph and <meta> tags.

Publishers fill these for search engines and social cards, so they are usually cleaner than anything read
off the visible layout: the headline without the site name, authors as names, dates as ISO strings.
"""

from __future__ import annotations

import html
import json
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lxml.html import HtmlElement

from newsdelta.extract.bylines import markup_byline, meta_byline, strip_lead_in
from newsdelta.extract.dates import guess_published, parse_date, plausible
from newsdelta.text import normalise

ARTICLE_TYPES = frozenset(
    {"Article", "NewsArticle", "ReportageNewsArticle", "AnalysisNewsArticle", "BlogPosting", "Report"}
)
# JSON-LD blocks beyond this size are app state, not article metadata; skipping them bounds the work.
MAX_JSON_LD_CHARS = 2_000_000
# Nesting deeper than this is hostile or broken; the JSON parser recurses per level, so such blocks are skipped
# before parsing rather than left to exhaust the stack of whatever called the extractor.
MAX_JSON_LD_DEPTH = 64
_JSON_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")


@dataclass(frozen=True, slots=True)
class StructuredData:
    headline: str = ""
    body: str = ""
    authors: tuple[str, ...] = ()
    published: datetime | None = None
    updated: datetime | None = None
    og_title: str = ""
    html_title: str = ""
    canonical_url: str | None = None
    description: str = ""  # the page's summary of itself: often its standfirst, word for word


def read_structured(tree: HtmlElement, url: str | None = None, *, guess: bool = True) -> StructuredData:
    """JSON-LD article fields first, then OpenGraph/<meta>; read before the tree is handed to trafilatura.

    With `guess`, a page that states no author or publication date gets them from its markup (bylines) and
    htmldate (dates, from the page's canonical URL or else `url`, then its markup and text); an outlet parser
    that reads its own template's byline and date first passes False.
    """
    nodes = _json_ld_nodes(tree)
    article = next((node for node in nodes if _is_article(node)), {})
    meta = _meta_tags(tree)
    authors = _authors(_field(article, nodes, "author"), nodes) or meta_byline(meta)
    published = _date(_field(article, nodes, "datePublished")) or _first_date(tree, meta, PUBLISHED_MARKUP)
    canonical_url = _canonical(tree) or meta.get("og:url") or None
    if guess:
        authors = authors or markup_byline(tree)
        published = published or guess_published(tree, canonical_url or url)
    return StructuredData(
        headline=_text(article.get("headline")),
        body=_text(article.get("articleBody")),
        authors=authors,
        published=published,
        updated=_date(_field(article, nodes, "dateModified")) or _first_date(tree, meta, UPDATED_MARKUP),
        og_title=normalise(meta.get("og:title", "")),
        html_title=normalise(tree.findtext(".//title") or ""),
        canonical_url=canonical_url,
        description=_text(article.get("description"))
        or normalise(next((meta[k] for k in _DESCRIPTIONS if meta.get(k)), "")),
    )


_DESCRIPTIONS = ("og:description", "description", "twitter:description")


# Where pages state dates outside JSON-LD: <meta> keys, then microdata (itemprop on <meta> or <time>).
PUBLISHED_MARKUP = (("article:published_time", "og:published_time", "datepublished"), "datePublished")
UPDATED_MARKUP = (("article:modified_time", "og:updated_time", "datemodified"), "dateModified")


def _first_date(
    tree: HtmlElement, meta: dict[str, str], where: tuple[tuple[str, ...], str]
) -> datetime | None:
    keys, itemprop = where
    for key in keys:
        if found := _date(meta.get(key)):
            return found
    for element in tree.iterfind(f".//*[@itemprop='{itemprop}']"):
        if found := _date(element.get("content") or element.get("datetime")):
            return found
    return None


def _field(article: dict[str, Any], nodes: list[dict[str, Any]], key: str) -> Any:
    """The article's own value, else the first other node's (a WebPage in a Yoast @graph carries the dates)."""
    if article.get(key):
        return article[key]
    return next((node[key] for node in nodes if node.get(key)), None)


def _date(value: Any) -> datetime | None:
    """Structured dates should be ISO 8601; many CMSs write "19 Nov 2019 07:09 GMT" instead, so those are
    parsed too. A value without a zone is taken as UTC, the only reading independent of the server's zone."""
    text = _text(value)
    try:
        parsed: datetime | None = datetime.fromisoformat(text)
    except ValueError:
        parsed = parse_date(text)
    if parsed is None:
        return None
    return plausible((parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC))


def _json_ld_nodes(tree: HtmlElement) -> list[dict[str, Any]]:
    """Every object of every JSON-LD block, block by block, each breadth first."""
    found: list[dict[str, Any]] = []
    for script in tree.iter("script"):
        if not (script.get("type") or "").strip().lower().startswith("application/ld+json"):
            continue
        raw = script.text or ""
        if len(raw) > MAX_JSON_LD_CHARS or _too_deep(raw):
            continue
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):  # hostile pages nest JSON deeper than the parser's stack
            continue
        found.extend(_nodes(data))
    return found


def _too_deep(raw: str) -> bool:
    """Whether brackets outside strings nest deeper than MAX_JSON_LD_DEPTH (a linear scan, no recursion)."""
    depth = 0
    for bracket in _NOT_BRACKETS.sub("", _JSON_STRINGS.sub("", raw)):
        depth += 1 if bracket in "[{" else -1
        if depth > MAX_JSON_LD_DEPTH:
            return True
    return False


def _nodes(data: Any) -> Iterator[dict[str, Any]]:
    """Every object in a JSON-LD document, breadth first, so a top-level article wins over a nested one."""
    queue = deque([data])
    while queue:
        item = queue.popleft()
        if isinstance(item, list):
            queue.extend(item)
        elif isinstance(item, dict):
            yield item
            queue.extend(v for v in item.values() if isinstance(v, list | dict))


def _is_article(node: dict[str, Any]) -> bool:
    kind = node.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return any(isinstance(k, str) and k in ARTICLE_TYPES for k in kinds)


def _text(value: Any) -> str:
    """A JSON-LD string field; CMS plugins often leave HTML entities in it ("Biden&#8217;s")."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str)), "")
    return html.unescape(value).strip() if isinstance(value, str) else ""


def _authors(value: Any, nodes: list[dict[str, Any]]) -> tuple[str, ...]:
    """Names as the JSON-LD writes them (a string, a Person, a reference to a Person elsewhere in the @graph,
    or a list of those), a lead-in ("By ", "Von "…) dropped."""
    items = [_resolve(item, nodes) for item in (value if isinstance(value, list) else [value])]
    names = (_text(item.get("name")) if isinstance(item, dict) else _text(item) for item in items)
    return tuple(dict.fromkeys(normalise(strip_lead_in(n)) for n in names if n and "://" not in n))


def _resolve(item: Any, nodes: list[dict[str, Any]]) -> Any:
    """A bare {"@id": …} reference stands for the node with that @id (Yoast's @graph writes authors so)."""
    if not isinstance(item, dict) or "name" in item or not isinstance(ref := item.get("@id"), str):
        return item
    return next((node for node in nodes if node.get("@id") == ref and "name" in node), item)


def _meta_tags(tree: HtmlElement) -> dict[str, str]:
    """property/name → content, first occurrence wins (pages repeat tags in their templates)."""
    found: dict[str, str] = {}
    for tag in tree.iterfind(".//meta"):
        key = (tag.get("property") or tag.get("name") or "").strip().lower()
        content = tag.get("content")
        if key and content is not None:
            found.setdefault(key, content.strip())
    return found


def _canonical(tree: HtmlElement) -> str | None:
    for link in tree.iterfind(".//link[@rel='canonical']"):
        if href := (link.get("href") or "").strip():
            return href
    return None

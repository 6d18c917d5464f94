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


def read_structured(tree: HtmlElement) -> StructuredData:
    """JSON-LD article fields first, then OpenGraph/<meta>; read before the tree is handed to trafilatura."""
    article = next(_json_ld_articles(tree), {})
    meta = _meta_tags(tree)
    return StructuredData(
        headline=_text(article.get("headline")),
        body=_text(article.get("articleBody")),
        authors=_authors(article.get("author")) or _authors(meta.get("author")),
        published=_iso_datetime(_text(article.get("datePublished")) or meta.get("article:published_time")),
        updated=_iso_datetime(_text(article.get("dateModified")) or meta.get("article:modified_time")),
        og_title=normalise(meta.get("og:title", "")),
        html_title=normalise(tree.findtext(".//title") or ""),
        canonical_url=_canonical(tree) or meta.get("og:url") or None,
    )


def _iso_datetime(value: str | None) -> datetime | None:
    """Structured data dates are ISO 8601 by specification; anything else is not guessed at. A value without
    a zone is taken as UTC, the only reading that does not depend on the server's own zone."""
    try:
        parsed = datetime.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def _json_ld_articles(tree: HtmlElement) -> Iterator[dict[str, Any]]:
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
        yield from (node for node in _nodes(data) if _is_article(node))


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


def _authors(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    names = (_text(item.get("name")) if isinstance(item, dict) else _text(item) for item in items)
    return tuple(dict.fromkeys(normalise(n) for n in names if n))


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

"""RSS 0.9x/1.0/2.0 and Atom (via feedparser) and JSON Feed, to article links."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from newsdelta.discovery.model import DiscoveryError, Link, parse_iso_datetime
from newsdelta.discovery.sitemaps import Sitemap
from newsdelta.discovery.urls import canonicalize_url, is_web_url
from newsdelta.discovery.websub import HubLinks, links_with_rels

log = logging.getLogger(__name__)


def parse_feed(body: bytes, base_url: str) -> list[Link]:
    """Article links of a feed, canonical and each once, in feed order.

    A feed with errors (feedparser's "bozo") still yields what parsed, with a warning logged; a body
    that is no feed at all raises DiscoveryError.
    """
    return read_feed(body, base_url).links


def read_feed(body: bytes, base_url: str) -> Sitemap:
    """A feed's article links (as `parse_feed`) and the WebSub hub and self links it declares."""
    if body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return read_json_feed(body, base_url)
    parsed = feedparser.parse(
        io.BytesIO(body),
        response_headers={"content-location": base_url, "content-type": "application/xml"},
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    problem = parsed.get("bozo_exception")
    if not parsed.get("version") and not parsed.entries:
        raise DiscoveryError(f"not an RSS or Atom feed ({base_url}): {problem or 'no feed elements found'}")
    if parsed.bozo:
        count = len(parsed.entries)
        log.warning("feed %s is malformed (%s); keeping the %d entries that parsed", base_url, problem, count)
    declared = ((link.get("rel", ""), link.get("href") or "") for link in parsed.feed.get("links", []))
    return Sitemap(
        _unique(_entry_link(entry, base_url) for entry in parsed.entries),
        hubs=links_with_rels(declared, base_url),
    )


def parse_json_feed(body: bytes, base_url: str) -> list[Link]:
    """JSON Feed 1.x (https://jsonfeed.org/version/1.1)."""
    return read_json_feed(body, base_url).links


def read_json_feed(body: bytes, base_url: str) -> Sitemap:
    """A JSON Feed's links, with its WebSub `hubs` and its `feed_url` as the self link."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DiscoveryError(f"not valid JSON ({base_url}): {exc}") from exc
    items = document.get("items") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise DiscoveryError(f"JSON without a JSON Feed 'items' list ({base_url})")
    links = _unique(_json_item_link(item, base_url) for item in items if isinstance(item, dict))
    return Sitemap(links, hubs=_json_feed_hubs(document, base_url))


def _json_feed_hubs(document: Mapping[str, Any], base_url: str) -> HubLinks:
    hubs = document.get("hubs")
    declared = [
        ("hub", hub["url"])
        for hub in (hubs if isinstance(hubs, list) else [])
        if isinstance(hub, dict)
        and str(hub.get("type", "")).lower() == "websub"
        and isinstance(hub.get("url"), str)
    ]
    feed_url = document.get("feed_url")
    if isinstance(feed_url, str):
        declared.append(("self", feed_url))
    return links_with_rels(declared, base_url)


def _entry_link(entry: Mapping[str, Any], base_url: str) -> Link | None:
    guid = _text(entry.get("id"))
    url = _article_url(entry, base_url, guid)
    if url is None:
        log.info("feed %s: entry %r has no web link; skipped", base_url, guid or entry.get("title"))
        return None
    # dict.get: feedparser's own lookup of a missing `updated_parsed` falls back to `published_parsed` with
    # a DeprecationWarning, and would make every item look modified when it was only published.
    updated = dict.get(entry, "updated_parsed") if isinstance(entry, dict) else entry.get("updated_parsed")
    published = _from_struct(entry.get("published_parsed") or updated)
    modified = _from_struct(updated) or published
    return Link(url, guid=guid, title=_text(entry.get("title")), published=published, modified=modified)


def _article_url(entry: Mapping[str, Any], base_url: str, guid: str | None) -> str | None:
    """The entry's article URL: FeedBurner's original link, else the alternate link.

    A guid URL on the same host wins when the link's path ends with the guid's path: the link is then a
    click-tracking wrapper around it (BBC's http://news.bbc.co.uk/go/rss/-/1/hi/uk/123.stm).
    """
    link = _web_url(entry.get("feedburner_origlink"), base_url) or _alternate_link(entry, base_url)
    guid_url = _web_url(guid, base_url)
    if link is None or (guid_url is not None and _wraps(link, guid_url)):
        return canonicalize_url(guid_url) if guid_url else None
    return canonicalize_url(link)


def _alternate_link(entry: Mapping[str, Any], base_url: str) -> str | None:
    """rel=alternate (or untyped) links only: an Atom rel=self link is the entry's XML, not the article."""
    for link in entry.get("links", []):
        if link.get("rel", "alternate") == "alternate" and (url := _web_url(link.get("href"), base_url)):
            return url
    return None


def _wraps(link: str, guid_url: str) -> bool:
    link_parts, guid_parts = urlsplit(link), urlsplit(guid_url)
    return (
        link_parts.hostname == guid_parts.hostname
        and len(guid_parts.path) > 1
        and link_parts.path != guid_parts.path
        and link_parts.path.endswith(guid_parts.path)
    )


def _json_item_link(item: Mapping[str, Any], base_url: str) -> Link | None:
    guid = _text(item.get("id"))
    url = _web_url(item.get("url"), base_url) or _web_url(item.get("external_url"), base_url)
    if url is None:
        log.info("JSON feed %s: item %r has no web link; skipped", base_url, guid)
        return None
    published = parse_iso_datetime(item.get("date_published") or item.get("date_modified"))
    modified = parse_iso_datetime(item.get("date_modified")) or published
    return Link(
        canonicalize_url(url),
        guid=guid,
        title=_text(item.get("title")),
        published=published,
        modified=modified,
    )


def _web_url(value: object, base_url: str) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    url = urljoin(base_url, value.strip())
    return url if is_web_url(url) else None


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def _from_struct(value: time.struct_time | None) -> datetime | None:
    """feedparser's parsed dates are UTC struct_times."""
    if value is None:
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def _unique(links: Iterable[Link | None]) -> list[Link]:
    """Each canonical URL once, first occurrence kept (feeds repeat items across categories)."""
    seen: dict[str, Link] = {}
    for link in links:
        if link is not None and link.url not in seen:
            seen[link.url] = link
    return list(seen.values())

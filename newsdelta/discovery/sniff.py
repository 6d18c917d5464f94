"""Telling a feed, a sitemap and a front page apart by their bytes, since Content-Types lie."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial

from newsdelta.discovery.feeds import read_feed, read_json_feed
from newsdelta.discovery.model import DiscoveryError
from newsdelta.discovery.pages import looks_like_article, parse_front_page
from newsdelta.discovery.sitemaps import Sitemap, gunzip, parse_sitemap
from newsdelta.fetch.charset import decode_text

SNIFF_BYTES = 4096
_COMMENT = re.compile(rb"<!--.*?(?:-->|$)", re.S)
_FIRST_TAG = re.compile(rb"<([a-zA-Z][\w:.-]*)")
_FEED_ROOTS = frozenset({b"rss", b"feed", b"rdf:rdf", b"rdf", b"channel"})
_HTML_ROOTS = frozenset({b"html", b"head", b"body", b"meta", b"title", b"div", b"a", b"link", b"script"})


def discover_all(
    body: bytes,
    content_type: str | None,
    base_url: str,
    is_article: Callable[[str], bool] | None = None,
) -> Sitemap:
    """Article links from whatever the URL served (RSS/Atom/JSON Feed, sitemap, also gzip, or HTML page), and
    the child sitemaps a sitemap index (or urlset) points to.

    `is_article` filters front-page links; without it a same-site, article-shaped-path rule is used.
    """
    data = gunzip(body)
    head = data[:SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n")
    root = _first_element(head)
    if head.startswith((b"{", b"[")):
        return read_json_feed(data, base_url)
    if root in (b"urlset", b"sitemapindex"):
        return parse_sitemap(data, base_url)
    if root in _FEED_ROOTS:
        return read_feed(data, base_url)
    if root in _HTML_ROOTS or "html" in (content_type or "").lower():
        rule = is_article or partial(looks_like_article, site_url=base_url)
        return Sitemap(parse_front_page(decode_text(data, content_type), base_url, rule))
    if root is not None:
        return read_feed(data, base_url)
    raise DiscoveryError(f"{base_url} served neither a feed, a sitemap nor an HTML page ({content_type})")


def _first_element(head: bytes) -> bytes | None:
    """The lower-cased name of the first tag, past the XML declaration, comments and doctype."""
    match = _FIRST_TAG.search(_COMMENT.sub(b"", head))
    return match.group(1).lower() if match else None

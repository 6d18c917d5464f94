"""XML sitemaps (urlset, sitemapindex, Google News extensions), plain or gzip-compressed.

Parsed with a locked-down lxml parser: no entity expansion, no DTD or network access, no huge trees,
because sitemaps are untrusted input from the network.
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass, field
from urllib.parse import urljoin

from lxml import etree

from newsdelta.discovery.model import DiscoveryError, Link, parse_iso_datetime
from newsdelta.discovery.urls import canonicalize_url, is_web_url
from newsdelta.discovery.websub import HubLinks

log = logging.getLogger(__name__)

GZIP_MAGIC = b"\x1f\x8b"
# The sitemap protocol's own limit for an uncompressed sitemap; more is a decompression bomb.
MAX_UNCOMPRESSED = 50 * 1024 * 1024


@dataclass(frozen=True)
class Sitemap:
    """Article links, and the sitemaps a sitemap index points to (to be fetched in turn).

    `discover_all` returns this for every format; only sitemaps have children, only feeds declare `hubs`
    (WebSub) in their own link elements.
    """

    links: list[Link] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    hubs: HubLinks | None = None


def parse_sitemap(body: bytes, base_url: str) -> Sitemap:
    """Links and child sitemaps, each once in document order.

    hreflang alternates (xhtml:link) are ignored: each language version has its own <url> entry, and
    following alternates would add other editions the outlet did not list in this sitemap.
    """
    root = _parse_xml(gunzip(body), base_url)
    if _local(root) not in ("urlset", "sitemapindex"):
        raise DiscoveryError(f"not a sitemap ({base_url}): root element is <{_local(root)}>")
    links: dict[str, Link] = {}
    children: dict[str, None] = {}
    for entry in root:
        kind = _local(entry)
        loc = _resolve(_child_text(entry, "loc"), base_url)
        if loc is None:
            continue
        if kind == "url":
            url = canonicalize_url(loc)
            links.setdefault(url, _news_link(entry, url))
        elif kind == "sitemap":
            children.setdefault(loc, None)
    return Sitemap(list(links.values()), list(children))


def gunzip(body: bytes) -> bytes:
    """The body, decompressed when it starts with the gzip magic bytes (servers often omit the header)."""
    if not body.startswith(GZIP_MAGIC):
        return body
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = decompressor.decompress(body, MAX_UNCOMPRESSED)
    except zlib.error as exc:
        raise DiscoveryError(f"corrupt gzip data: {exc}") from exc
    if decompressor.unconsumed_tail:
        raise DiscoveryError(f"gzip body expands beyond {MAX_UNCOMPRESSED} bytes; refused")
    return data


def _parse_xml(body: bytes, base_url: str) -> etree._Element:
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        remove_comments=True,
        remove_pis=True,
        recover=True,
    )
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise DiscoveryError(f"not XML ({base_url}): {exc}") from exc
    if root is None:
        raise DiscoveryError(f"not XML ({base_url}): nothing parsed")
    if parser.error_log:
        log.warning("sitemap %s is malformed (%s); keeping what parsed", base_url, parser.error_log[0])
    return root


def _news_link(entry: etree._Element, url: str) -> Link:
    """Google News sitemaps carry <news:news> with the publication date and title; any <url> may carry
    <lastmod>, the outlet's word on when the page last changed."""
    modified = parse_iso_datetime(_child_text(entry, "lastmod"))
    news = next((child for child in entry if _local(child) == "news"), None)
    if news is None:
        return Link(url, modified=modified)
    title = " ".join((_child_text(news, "title") or "").split()) or None
    published = parse_iso_datetime(_child_text(news, "publication_date"))
    return Link(url, title=title, published=published, modified=modified)


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _child_text(element: etree._Element, name: str) -> str | None:
    child = next((c for c in element if _local(c) == name), None)
    return child.text.strip() if child is not None and child.text else None


def _resolve(loc: str | None, base_url: str) -> str | None:
    url = urljoin(base_url, loc) if loc else None
    return url if url and is_web_url(url) else None

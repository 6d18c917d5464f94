"""Front pages: the links on a section or home page that the outlet's rules call articles."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser

from newsdelta.discovery.model import Link
from newsdelta.discovery.urls import base_href, canonicalize_url, is_web_url, same_site

# Without outlet rules: an article path has a long number (id or date) or a slug of 3+ words.
_ARTICLE_PATH = re.compile(r"\d{4,}|/[^/]*[a-z0-9]+-[a-z0-9]+-[a-z0-9]+[^/]*/?$", re.I)
_NOT_PAGES = re.compile(r"\.(?:jpe?g|png|gif|webp|svg|pdf|mp[34]|zip|css|js|xml|rss|json)$", re.I)


def parse_front_page(html: str, base_url: str, is_article: Callable[[str], bool]) -> list[Link]:
    """Canonical article links in page order, each once, titled with their anchor text."""
    tree = LexborHTMLParser(html)
    base = base_href(tree, base_url)
    links: dict[str, Link] = {}
    for anchor in tree.css("a[href]"):
        href = (anchor.attributes.get("href") or "").strip()
        resolved = urljoin(base, href) if href else ""
        if not is_web_url(resolved):
            continue
        url = canonicalize_url(resolved)
        if url in links or not is_article(url):
            continue
        title = " ".join(anchor.text(separator=" ").split()) or None
        links[url] = Link(url, title=title)
    return list(links.values())


def looks_like_article(url: str, site_url: str) -> bool:
    """A fallback rule for outlets without parser rules: same site, not a file, article-shaped path."""
    path = urlsplit(url).path
    return same_site(url, site_url) and not _NOT_PAGES.search(path) and bool(_ARTICLE_PATH.search(path))

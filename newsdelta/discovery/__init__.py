"""Discovery: from a feed, sitemap or front page to canonical article URLs. Pure functions, no I/O.

`discover_all(body, content_type, base_url)` sniffs the format; `canonicalize_url` makes one article one URL.
"""

from newsdelta.discovery.feeds import parse_feed, parse_json_feed
from newsdelta.discovery.model import DiscoveryError, Link
from newsdelta.discovery.pages import looks_like_article, parse_front_page
from newsdelta.discovery.sitemaps import Sitemap, parse_sitemap
from newsdelta.discovery.sniff import discover_all
from newsdelta.discovery.urls import (
    TRACKING_PARAMS,
    TRACKING_PREFIXES,
    UrlFilter,
    canonicalize_url,
    filed_url,
    is_tracking_param,
    same_site,
)

__all__ = [
    "TRACKING_PARAMS",
    "TRACKING_PREFIXES",
    "DiscoveryError",
    "Link",
    "Sitemap",
    "UrlFilter",
    "canonicalize_url",
    "discover_all",
    "filed_url",
    "is_tracking_param",
    "looks_like_article",
    "parse_feed",
    "parse_front_page",
    "parse_json_feed",
    "parse_sitemap",
    "same_site",
]

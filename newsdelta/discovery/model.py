"""What discovery hands to the crawl loop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


class DiscoveryError(ValueError):
    """The body is not a feed, sitemap or page we can read (garbage, HTML error page, truncated XML)."""


@dataclass(frozen=True)
class Link:
    """One article a feed, sitemap or front page names; `url` is already canonical."""

    url: str
    guid: str | None = None
    title: str | None = None
    published: datetime | None = None

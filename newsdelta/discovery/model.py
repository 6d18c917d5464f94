"""What discovery hands to the crawl loop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from dateutil import parser as dateparser


class DiscoveryError(ValueError):
    """The body is not a feed, sitemap or page we can read (garbage, HTML error page, truncated XML)."""


@dataclass(frozen=True)
class Link:
    """One article a feed, sitemap or front page names; `url` is already canonical.

    `modified` is when the outlet says it last changed the article (a sitemap's <lastmod>, a feed item's
    updated date): a newer one for a tracked article is a reason to check it now (newsdelta.crawl.signals).
    """

    url: str
    guid: str | None = None
    title: str | None = None
    published: datetime | None = None
    modified: datetime | None = None


def parse_iso_datetime(value: object) -> datetime | None:
    """An ISO 8601 / W3C date as UTC (naive means UTC, as sitemaps and JSON Feeds intend); None if bad."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed: datetime = dateparser.isoparse(value.strip())
    except (ValueError, OverflowError):
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)

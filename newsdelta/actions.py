"""What an operator can do, shared by the command line and the web admin so both check input the same way.

Each action takes an open session and leaves committing to the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import delete
from sqlalchemy.orm import Session

from newsdelta.crawl.websub import release_feed
from newsdelta.discovery import UrlFilter, canonicalize_url
from newsdelta.extract import parser_for
from newsdelta.fetch.addresses import AddressPolicy
from newsdelta.fetch.urls import check_url
from newsdelta.schedule import Policy
from newsdelta.store.db import rows_changed
from newsdelta.store.models import Article, Feed
from newsdelta.store.repository import NotFound, add_feed, get_or_create_source, track_article


def checked_url(url: str, addresses: AddressPolicy) -> str:
    """The canonical form of a URL a person typed; FetchError (a clear message) for hostile or malformed ones.

    A host spelling a refused IP address is refused here; a name is checked when the crawl resolves it.
    """
    return canonicalize_url(str(check_url(url.strip(), addresses)))


def default_source(url: str) -> str:
    """The outlet parser's name for its own URLs, else the host."""
    parser = parser_for(url)
    return parser.name if parser is not None else (urlsplit(url).hostname or "web")


def add_checked_feed(
    session: Session,
    url: str,
    source: str,
    period: timedelta,
    exclude: Sequence[str],
    now: datetime,
    *,
    addresses: AddressPolicy,
) -> Feed:
    """Add or update a feed; ValueError for an invalid exclusion regex, FetchError for a bad URL."""
    UrlFilter(exclude)
    return add_feed(session, str(check_url(url.strip(), addresses)), source, period, exclude, now)


def track_url(
    session: Session,
    url: str,
    source: str | None,
    policy: Policy,
    now: datetime,
    *,
    addresses: AddressPolicy,
) -> tuple[Article, bool]:
    """Track one article without a feed; it is due at once. The flag says whether it is new."""
    canonical = checked_url(url, addresses)
    name = source or default_source(canonical)
    return track_article(
        session, canonical, get_or_create_source(session, name, now), now, initial_period=policy.initial
    )


def remove_feed(session: Session, feed_id: int, now: datetime) -> None:
    """The feed stops being polled; the articles it found stay tracked, with all their versions. Its WebSub
    subscription, if any, is unsubscribed by the next crawl pass."""
    release_feed(session, feed_id, now)
    if rows_changed(session.execute(delete(Feed).where(Feed.id == feed_id))) == 0:
        raise NotFound(f"no feed {feed_id}")


def set_hidden(session: Session, article_id: int, hidden: bool, reason: str | None) -> Article:
    """Hide an article (a legal request): every page and feed of it then answers 410. Nothing is deleted."""
    article = session.get(Article, article_id)
    if article is None:
        raise NotFound(f"no article {article_id}")
    article.hidden = hidden
    article.hidden_reason = reason if hidden else None
    return article

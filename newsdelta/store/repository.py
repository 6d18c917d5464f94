"""Write-side operations on the store. Each function is one short transaction's worth of work.

Claiming work (leases) is newsdelta.store.leases.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from newsdelta.store.models import Article, ArticleAlias, Feed, Source, Version
from newsdelta.vocabulary import ArticleState


class NotFound(LookupError):
    """No article, feed or source matches what was asked for."""


def get_or_create_source(session: Session, name: str, now: datetime) -> Source:
    source = session.scalar(select(Source).where(Source.name == name))
    if source is not None:
        return source
    try:
        with session.begin_nested():
            source = Source(name=name, created_at=now)
            session.add(source)
    except IntegrityError:
        return session.scalars(select(Source).where(Source.name == name)).one()
    return source


def add_feed(
    session: Session, url: str, source_name: str, period: timedelta, exclude: Sequence[str], now: datetime
) -> Feed:
    """Add the feed, or update its source, period and exclusions if it is already known."""
    source = get_or_create_source(session, source_name, now)
    feed = session.scalar(select(Feed).where(Feed.url == url))
    if feed is None:
        feed = Feed(url=url, next_check_at=now, error_streak=0)
        session.add(feed)
    feed.source = source
    feed.period_seconds = period.total_seconds()
    feed.exclude_patterns = list(exclude)
    session.flush()
    return feed


def track_article(
    session: Session,
    url: str,
    source: Source,
    now: datetime,
    *,
    guid: str | None = None,
    published: datetime | None = None,
    initial_period: timedelta,
) -> tuple[Article, bool]:
    """The article for a canonical URL (or one of its aliases), created due now if new.

    The flag says whether it was created.
    """
    existing = article_by_url(session, url)
    if existing is not None:
        return existing, False
    article = Article(
        url=url,
        guid=guid,
        source=source,
        first_seen_at=now,
        published_at=published,
        state=ArticleState.LIVE,
        check_period_seconds=initial_period.total_seconds(),
        next_check_at=now,
        error_streak=0,
        version_count=0,
        hidden=False,
    )
    try:
        with session.begin_nested():
            session.add(article)
    except IntegrityError:  # discovered by another process at the same moment
        return session.scalars(select(Article).where(Article.url == url)).one(), False
    return article, True


def article_by_url(session: Session, url: str) -> Article | None:
    """The article at this URL or known under it as an alias."""
    article = session.scalar(select(Article).where(Article.url == url))
    if article is not None:
        return article
    alias = session.get(ArticleAlias, url)
    return None if alias is None else session.get(Article, alias.article_id)


def known_urls(session: Session, urls: Sequence[str]) -> set[str]:
    """Which of `urls` are tracked, as an article's URL or an alias: one query each for a whole batch."""
    articles = session.scalars(select(Article.url).where(Article.url.in_(urls)))
    aliases = session.scalars(select(ArticleAlias.url).where(ArticleAlias.url.in_(urls)))
    return {*articles, *aliases}


def find_article(session: Session, ref: str | int) -> Article:
    """By id (a number) or by URL."""
    text = str(ref)
    article = session.get(Article, int(text)) if text.isdigit() else article_by_url(session, text)
    if article is None:
        raise NotFound(f"no tracked article {ref!r}")
    return article


def latest_version(session: Session, article_id: int) -> Version | None:
    return session.scalar(
        select(Version).where(Version.article_id == article_id).order_by(Version.number.desc()).limit(1)
    )


def latest_raw_sha256(session: Session, article_id: int) -> str | None:
    """The newest body kept for an article: the base its next body is delta-compressed against."""
    return session.scalar(
        select(Version.raw_sha256)
        .where(Version.article_id == article_id, Version.raw_sha256.is_not(None))
        .order_by(Version.number.desc())
        .limit(1)
    )


def version_numbers_by_hash(session: Session, article_id: int) -> dict[str, int]:
    rows = session.execute(select(Version.text_hash, Version.number).where(Version.article_id == article_id))
    return {text_hash: number for text_hash, number in rows}

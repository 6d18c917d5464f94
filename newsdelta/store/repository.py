"""Write-side operations on the store. Each function is one short transaction's worth of work.

Claiming uses leases (`lease_until`), so a crashed process's work comes back once the lease expires; on
PostgreSQL the claim also uses FOR UPDATE SKIP LOCKED so concurrent schedulers never block on each other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, any_, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from newsdelta.store.db import rows_changed
from newsdelta.store.models import Article, ArticleAlias, Feed, HubSubscription, Source, Version
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


Claimable = type[Article] | type[Feed] | type[HubSubscription]


def lease_free(model: Claimable, now: datetime) -> ColumnElement[bool]:
    """Rows nobody holds: never leased, or the lease has expired."""
    return or_(model.lease_until.is_(None), model.lease_until < now)


def release_article_leases(session: Session, article_ids: Sequence[int], owner: str, now: datetime) -> None:
    """Give back leases `owner` still holds, the articles due at once, so the next claim hands them out."""
    held = Article.id.in_(article_ids) & (Article.lease_owner == owner)
    session.execute(update(Article).where(held).values(lease_until=None, lease_owner=None, next_check_at=now))


def extend_feed_lease(session: Session, feed_id: int, token: datetime, until: datetime) -> bool:
    """Move a feed's lease, and its due time with it, to `until` if the lease is still the claim `token` (feeds
    have no owner column: a claim's expiry is unique to it); False when it expired and was claimed again."""
    held = (Feed.id == feed_id) & (Feed.lease_until == token)
    result = session.execute(update(Feed).where(held).values(lease_until=until, next_check_at=until))
    session.commit()
    return bool(rows_changed(result))


def _due(model: Claimable, now: datetime, forced_since: datetime | None) -> Select[int]:
    if forced_since is None:
        due = model.next_check_at <= now
    else:  # everything not yet looked at since the forced pass began, retired or not
        due = or_(model.last_checked_at.is_(None), model.last_checked_at < forced_since)
    return select(model.id).where(and_(due, lease_free(model, now))).order_by(model.next_check_at)


def claim_due(
    session: Session,
    model: Claimable,
    now: datetime,
    *,
    limit: int,
    lease: timedelta,
    owner: str,
    forced_since: datetime | None = None,
) -> list[int]:
    """Lease up to `limit` due rows to `owner` and return their ids, oldest due first.

    With `forced_since`, every row not checked since then is due, whatever its schedule (`crawl --force`).
    """
    candidates = _due(model, now, forced_since).limit(limit)
    chosen: ColumnElement[bool] = model.id.in_(candidates.scalar_subquery())
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        # As an ARRAY the chosen ids are one value, so the UPDATE finds them by primary key; with IN the
        # planner hash-joins them against a scan of the whole table (bench/scale.py, 1M articles).
        chosen = model.id == any_(func.array(candidates.with_for_update(skip_locked=True).scalar_subquery()))
        # A claim lost in a database crash only means the work is claimed again: no need to wait for the disk.
        session.execute(text("SET LOCAL synchronous_commit = off"))
    # The lease's expiry is also the row's next due time: claimed rows leave the front of the due index (so the
    # next claim does not scan past them) and a crashed holder's work falls due again by itself.
    values: dict[str, object] = {"lease_until": now + lease, "next_check_at": now + lease}
    if model is Article:
        values["lease_owner"] = owner
    ids = list(session.scalars(update(model).where(chosen).values(**values).returning(model.id)))
    session.commit()
    return sorted(ids)


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


def release_leases_of_dead_processes(
    session: Session, hostname: str, alive: Callable[[int], bool], now: datetime
) -> int:
    """Make the work that crashed processes on this host had leased due now, instead of when the lease expires."""
    released = 0
    owners = session.scalars(
        select(Article.lease_owner).where(Article.lease_owner.like(f"{hostname}:%")).distinct()
    ).all()
    for owner in filter(None, owners):  # (the LIKE already keeps NULL out)
        pid = owner.rsplit(":", 1)[1]
        if pid.isdigit() and not alive(int(pid)):
            result = session.execute(
                update(Article)
                .where(Article.lease_owner == owner)
                .values(lease_until=None, lease_owner=None, next_check_at=now)
            )
            released += rows_changed(result)
    session.commit()
    return released

"""Read-side queries for the web pages, feeds and API: small result rows, hidden articles kept out of lists.

Lists fetch one row more than a page holds to know whether a next page exists, so no page ever pays for a
COUNT over the whole version table. Version bodies (`paragraphs`) are loaded only where a page shows them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar, TypeVarTuple

from sqlalchemy import ColumnElement, Select, func, select, tuple_
from sqlalchemy.orm import Session, defer

from newsdelta.changes.align import ALGORITHM
from newsdelta.discovery.urls import canonicalize_url
from newsdelta.extract.base import FALLBACK_PREFIX
from newsdelta.store import checklog
from newsdelta.store.checklog import NO_CHECKS
from newsdelta.store.models import (
    Article,
    Feed,
    HubSubscription,
    Source,
    UTCDateTime,
    Version,
    VersionChange,
    VersionKind,
)
from newsdelta.store.repository import NotFound, article_by_url
from newsdelta.vocabulary import ArticleState, ChangeKind, Origin

T = TypeVar("T")
V = TypeVar("V")
_Row = TypeVarTuple("_Row")


class HiddenArticle(LookupError):
    """The article was hidden by an admin (e.g. a legal request): every page and feed of it answers 410."""

    def __init__(self, article_id: int, reason: str | None) -> None:
        super().__init__(f"article {article_id} is hidden")
        self.article_id = article_id
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ResultsPage(Generic[T]):
    items: list[T]
    page: int
    per_page: int
    has_next: bool

    @property
    def has_prev(self) -> bool:
        return self.page > 1


@dataclass(frozen=True, slots=True)
class Change:
    """One new version of an article, as the home page and the feeds list it."""

    article_id: int
    number: int
    title: str
    source: str
    fetched_at: datetime
    origin: Origin
    url: str
    kinds: list[str] | None = None  # None until the version is compared (newsdelta.changes)
    size_words: int | None = None

    @property
    def key(self) -> tuple[int, int]:
        """(article id, number): how pages and feeds look up what this version changed."""
        return (self.article_id, self.number)


@dataclass(frozen=True, slots=True)
class ArticleChanges:
    """One article on the home page: its latest change and its changes since the start of the period."""

    latest: Change
    in_period: list[Change]


@dataclass(frozen=True, slots=True)
class VersionRow:
    """A version in a list, without its text: an article's version table, `/api/articles/{id}` and
    `newsdelta history --json` (which adds the text). docs/rows.md describes every field; the columns are
    those of the index `ix_version_listing`, so a long history is read from the index alone."""

    number: int
    origin: Origin
    title: str
    fetched_at: datetime
    http_status: int
    has_raw: bool
    kinds: list[str] | None = None  # None until the version is compared (newsdelta.changes)
    size_words: int | None = None


@dataclass(frozen=True, slots=True)
class ArticleRow:
    """One tracked article in a list: `/api/articles` and `newsdelta articles --json`. docs/rows.md describes
    every field."""

    id: int
    url: str
    source: str
    state: ArticleState
    version_count: int
    first_seen_at: datetime
    last_changed_at: datetime | None
    next_check_at: datetime | None
    title: str | None  # the latest version's
    retired: bool  # no longer checked: unchanged for longer than the schedule checks
    kinds: list[ChangeKind]  # every kind of change its versions made, in ChangeKind order


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """What a source did in the last 24 hours; `stale` when a source older than a day produced nothing."""

    name: str
    created_at: datetime
    articles: int
    checks: int
    errors: int
    new_versions: int
    last_success_at: datetime | None
    stale: bool
    error_rate: float | None
    # Pages checked in the last 24 hours that the outlet parser did not recognise: the outlet's HTML changed.
    fallback_pages: int = 0


def page_of(rows: Sequence[T], page: int, per_page: int) -> ResultsPage[T]:
    """A page of rows fetched one beyond it (`_window`), so whether a next page exists comes free."""
    return ResultsPage(list(rows[:per_page]), page, per_page, has_next=len(rows) > per_page)


def _window(query: Select[*_Row], page: int, per_page: int) -> Select[*_Row]:
    return query.limit(per_page + 1).offset((page - 1) * per_page)


def visible_article(session: Session, article_id: int) -> Article:
    """The article, or NotFound / HiddenArticle: the one gate every page and feed of an article goes through."""
    article = session.get(Article, article_id)
    if article is None:
        raise NotFound(f"no article {article_id}")
    if article.hidden:
        raise HiddenArticle(article.id, article.hidden_reason)
    return article


def source_by_name(session: Session, name: str) -> Source:
    source = session.scalar(select(Source).where(Source.name == name))
    if source is None:
        raise NotFound(f"no source {name!r}")
    return source


def source_names(session: Session) -> list[str]:
    return list(session.scalars(select(Source.name).order_by(Source.name)))


def all_feeds(session: Session) -> list[Feed]:
    return list(session.scalars(select(Feed).order_by(Feed.id)))


def tracked_articles(session: Session, *, source: str | None = None) -> list[Article]:
    """Every article (of one source), hidden ones included: for exports and operators, not for readers."""
    query = select(Article).join(Source).order_by(Article.id)
    return list(session.scalars(query if source is None else query.where(Source.name == source)))


def hidden_articles(session: Session) -> list[Article]:
    return list(session.scalars(select(Article).where(Article.hidden.is_(True)).order_by(Article.id)))


def versions_fetched_since(
    session: Session, since: datetime
) -> Sequence[tuple[datetime, int, Origin, str, int]]:
    """(fetched at, number, origin, title, article id) of every version stored since then, oldest first."""
    query = (
        select(Version.fetched_at, Version.number, Version.origin, Version.title, Article.id)
        .join(Article)
        .where(Version.fetched_at >= since)
        .order_by(Version.fetched_at, Article.id)
    )
    return session.execute(query).all()


ChangeColumns = Select[int, int, str, str, datetime, Origin, str, list[str] | None, int | None]


# `Change`'s columns; kinds and size are None (outer join) until the comparison of the version has run.
def change_rows() -> ChangeColumns:
    """Change columns of every visible version (first versions included), in no order."""
    return (
        select(
            Version.article_id,
            Version.number,
            Version.title,
            Source.name,
            Version.fetched_at,
            Version.origin,
            Article.url,
            VersionChange.kinds,
            VersionChange.size_words,
        )
        .join(Article, Article.id == Version.article_id)
        .join(Source, Source.id == Article.source_id)
        .outerjoin(VersionChange, VersionChange.version_id == Version.id)
        .where(Article.hidden.is_(False))
    )


def _changes_query() -> ChangeColumns:
    return change_rows().where(Version.number >= 1).order_by(Version.fetched_at.desc(), Version.id.desc())


def changed_articles(
    session: Session,
    *,
    since: datetime,
    page: int = 1,
    per_page: int = 25,
    source: str | None = None,
    kind: str | None = None,
) -> ResultsPage[ArticleChanges]:
    """Changed articles, the most recently changed first, each once with its changes since `since`: a live
    blog's fifty versions make one row, not two pages. `kind` keeps articles with a change of that kind."""
    # An article with two versions or more last changed when its newest version was stored.
    latest = (
        select(Article.id)
        .join(Source, Source.id == Article.source_id)
        .where(Article.version_count >= 2, Article.last_changed_at.is_not(None), Article.hidden.is_(False))
        .order_by(Article.last_changed_at.desc(), Article.id.desc())
    )
    if source is not None:
        latest = latest.where(Source.name == source)
    if kind:
        latest = latest.where(
            select(VersionKind.version_id)
            .join(Version, Version.id == VersionKind.version_id)
            .where(VersionKind.kind == kind, Version.article_id == Article.id)
            .exists()
        )
    window = session.scalars(_window(latest, page, per_page)).all()
    ids = list(window[:per_page])
    if not ids:
        return ResultsPage([], page, per_page, has_next=False)
    of_these = _changes_query().where(Version.article_id.in_(ids))
    newest = session.execute(of_these.where(Version.number == Article.version_count - 1))
    latest_by_article = {row[0]: Change(*row) for row in newest}
    in_period: dict[int, list[Change]] = {article_id: [] for article_id in ids}
    for row in session.execute(of_these.where(Version.fetched_at >= since)):
        in_period[row[0]].append(Change(*row))
    items = [ArticleChanges(latest_by_article[article_id], in_period[article_id]) for article_id in ids]
    return ResultsPage(items, page, per_page, has_next=len(window) > per_page)


def recent_changes(
    session: Session,
    *,
    page: int = 1,
    per_page: int = 25,
    source: str | None = None,
    article_id: int | None = None,
    kind: str | None = None,
    min_size: int | None = None,
) -> ResultsPage[Change]:
    """New versions (number ≥ 1: each has a predecessor to diff against), newest first; `kind` and
    `min_size` keep those whose comparison found that kind of change / at least that many words changed."""
    query = _changes_query()
    if source is not None:
        query = query.where(Source.name == source)
    if article_id is not None:
        query = query.where(Version.article_id == article_id)
    if kind:
        with_kind = select(VersionKind.version_id).where(
            VersionKind.kind == kind, VersionKind.version_id == Version.id
        )
        query = query.where(with_kind.exists())
    if min_size is not None:
        query = query.where(VersionChange.size_words >= min_size)
    rows = session.execute(_window(query, page, per_page)).all()
    return page_of([Change(*row) for row in rows], page, per_page)


def version_rows(session: Session, article_id: int) -> list[VersionRow]:
    query = (
        select(
            Version.number,
            Version.origin,
            Version.title,
            Version.fetched_at,
            Version.http_status,
            Version.raw_sha256.is_not(None),
            VersionChange.kinds,
            VersionChange.size_words,
        )
        .outerjoin(VersionChange, VersionChange.version_id == Version.id)
        .where(Version.article_id == article_id)
        .order_by(Version.number)
    )
    return [VersionRow(*row) for row in session.execute(query)]


def version_kinds(session: Session, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], list[str]]:
    """The kinds of change of versions given by (article id, number), for those already compared."""
    if not keys:
        return {}
    query = (
        select(Version.article_id, Version.number, VersionChange.kinds)
        .join(VersionChange, VersionChange.version_id == Version.id)
        .where(tuple_(Version.article_id, Version.number).in_(sorted(set(keys))))
    )
    return {(article_id, number): kinds for article_id, number, kinds in session.execute(query)}


def get_version(session: Session, article_id: int, number: int) -> Version:
    version = session.scalar(
        select(Version).where(Version.article_id == article_id, Version.number == number)
    )
    if version is None:
        raise NotFound(f"article {article_id} has no version {number}")
    return version


ARTICLE_ORDERS: dict[str, tuple[ColumnElement[Any], ...]] = {
    "id": (),
    "changed": (Article.last_changed_at.desc().nulls_last(),),
    "versions": (Article.version_count.desc(),),
}


def list_articles(
    session: Session,
    *,
    page: int = 1,
    per_page: int = 50,
    source: str | None = None,
    state: ArticleState | None = None,
    changed_since: datetime | None = None,
    order: str = "id",
    article_id: int | None = None,
) -> ResultsPage[ArticleRow]:
    """Tracked articles, hidden ones left out; `order` is "id" (newest tracked first), "changed" (most
    recently changed first) or "versions" (most versions first)."""
    query = (
        article_row_query()
        .where(Article.hidden.is_(False))
        .order_by(*ARTICLE_ORDERS[order], Article.id.desc())
    )
    if source is not None:
        query = query.where(Source.name == source)
    if state is not None:
        query = query.where(Article.state == state)
    if changed_since is not None:
        query = query.where(Article.last_changed_at >= changed_since)
    if article_id is not None:
        query = query.where(Article.id == article_id)
    return page_of(article_rows(session, _window(query, page, per_page)), page, per_page)


def article_row_query() -> Select[
    int, str, str, ArticleState, int, datetime, datetime | None, datetime | None, str | None
]:
    """The stored columns of `ArticleRow`, for a caller to filter and order; `article_rows` runs it."""
    latest_title = (
        select(Version.title)
        .where(Version.article_id == Article.id)
        .order_by(Version.number.desc())
        .limit(1)
        .scalar_subquery()
    )
    return select(
        Article.id,
        Article.url,
        Source.name,
        Article.state,
        Article.version_count,
        Article.first_seen_at,
        Article.last_changed_at,
        Article.next_check_at,
        latest_title,
    ).join(Source, Source.id == Article.source_id)


def article_rows(
    session: Session,
    query: Select[int, str, str, ArticleState, int, datetime, datetime | None, datetime | None, str | None],
) -> list[ArticleRow]:
    rows = session.execute(query).all()
    kinds = kinds_by_article(session, [row[0] for row in rows])
    return [ArticleRow(*row, retired=row.next_check_at is None, kinds=kinds.get(row.id, [])) for row in rows]


def kinds_by_article(session: Session, article_ids: Sequence[int]) -> dict[int, list[ChangeKind]]:
    """Every kind of change each article has had, in ChangeKind order."""
    query = (
        select(Version.article_id, VersionKind.kind)
        .join(VersionKind, VersionKind.version_id == Version.id)
        .where(Version.article_id.in_(article_ids))
        .distinct()
    )
    found: dict[int, set[ChangeKind]] = {}
    for article_id, kind in session.execute(query):
        found.setdefault(article_id, set()).add(kind)
    return {article_id: [k for k in ChangeKind if k in kinds] for article_id, kinds in found.items()}


def checks_per_source(session: Session, since: datetime) -> dict[int, int]:
    """Article checks made since `since`, by source id, what a source's request budget counts: from the start
    of the hour `since` falls in (the check log's counters are hourly), so a budget errs on the side of less."""
    return {source_id: counts.checks for source_id, counts in checklog.counts_since(session, since).items()}


def source_health(session: Session, now: datetime, *, name: str | None = None) -> list[SourceHealth]:
    """Per source over the last 24 hours: checks, errors (counted by the hour: store/checklog.py), new versions
    (first versions count), last success."""
    since = now - timedelta(days=1)
    query = select(Source).order_by(Source.name)
    if name is not None:
        query = query.where(Source.name == name)
    sources = session.scalars(query).all()

    def per_source(query: Select[int, V]) -> dict[int, V]:
        return {key: value for key, value in session.execute(query.group_by(Article.source_id))}

    articles = per_source(select(Article.source_id, func.count()))
    checked_still = per_source(
        select(Article.source_id, func.count()).where(Article.next_check_at.is_not(None))
    )
    counts = checklog.counts_since(session, since)
    versions = per_source(
        select(Article.source_id, func.count())
        .join(Version, Version.article_id == Article.id)
        .where(Version.fetched_at >= since)
    )
    fallback = fallback_pages(session, since)
    last_success = checklog.last_success_by_source(session)
    return [
        SourceHealth(
            name=source.name,
            created_at=source.created_at,
            articles=articles.get(source.id, 0),
            checks=counts.get(source.id, NO_CHECKS).checks,
            errors=counts.get(source.id, NO_CHECKS).errors,
            new_versions=versions.get(source.id, 0),
            last_success_at=last_success.get(source.id),
            # A source whose articles are all retired or gone has nothing left to find: quiet, not broken.
            stale=source.created_at <= since
            and not versions.get(source.id)
            and (checked_still.get(source.id, 0) > 0 or not articles.get(source.id)),
            error_rate=counts[source.id].error_rate if source.id in counts else None,
            fallback_pages=fallback.get(source.name, 0),
        )
        for source in sources
    ]


def fallback_pages(session: Session, since: datetime) -> dict[str, int]:
    """Per source name: articles checked since then whose page the generic extractor read in place of the
    outlet parser (which did not know its format)."""
    rows = session.execute(
        select(Source.name, func.count())
        .join(Article, Article.source_id == Source.id)
        .where(Article.parser.startswith(FALLBACK_PREFIX, autoescape=True), Article.last_checked_at >= since)
        .group_by(Source.name)
    )
    return {name: count for name, count in rows}


def _as_utc(value: datetime | str | None) -> datetime | None:
    """Aggregates bypass the column type, so SQLite hands back naive datetimes (or strings) here."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return UTCDateTime().process_result_value(value, None)


def versions_by_number(session: Session, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], Version]:
    """Versions by (article id, number) in one query, bodies deferred: the diff cache loads them only on a miss."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    query = (
        select(Version)
        .options(defer(Version.paragraphs))
        .where(tuple_(Version.article_id, Version.number).in_(wanted))
    )
    return {(version.article_id, version.number): version for version in session.scalars(query)}


def version_pair(session: Session, article_id: int, old: int, new: int) -> tuple[Version, Version]:
    found = versions_by_number(session, [(article_id, old), (article_id, new)])
    if (article_id, old) not in found or (article_id, new) not in found:
        raise NotFound(f"article {article_id} has no versions {old} and {new}")
    return found[(article_id, old)], found[(article_id, new)]


@dataclass(frozen=True, slots=True)
class StoredComparison:
    """The columns of a version's stored comparison (version_change) that a list's line is made of."""

    previous_number: int | None
    size_words: int
    additions: int
    deletions: int
    edits: int
    refactors: int
    kinds: list[str]


def stored_comparisons(db: Session, version_ids: list[int]) -> dict[int, StoredComparison]:
    """Stored comparisons by version id; the sentence rows, the bulk of each, are not read."""
    if not version_ids:
        return {}
    query = select(
        VersionChange.version_id,
        VersionChange.previous_number,
        VersionChange.size_words,
        VersionChange.additions,
        VersionChange.deletions,
        VersionChange.edits,
        VersionChange.refactors,
        VersionChange.kinds,
    ).where(VersionChange.version_id.in_(version_ids), VersionChange.algorithm == ALGORITHM)
    return {row[0]: StoredComparison(*row[1:]) for row in db.execute(query)}


def article_id_for_url(session: Session, url: str) -> int | None:
    """The article tracked at `url` (as given or canonical: tracking parameters and fragment dropped), or
    known under it as an alias; None when no article is."""
    for candidate in dict.fromkeys((canonicalize_url(url), url.strip())):
        article = article_by_url(session, candidate)
        if article is not None:
            return article.id
    return None


@dataclass(frozen=True, slots=True)
class HubState:
    """A feed's WebSub subscription as operators see it (status, the source page)."""

    feed_url: str | None  # None once the feed was removed and the hub is being let go
    source: str | None
    hub_url: str
    topic_url: str
    state: str  # new | pending | active | denied, or unsubscribing
    lease_expires_at: datetime | None
    last_notification_at: datetime | None
    notifications: int
    last_error: str | None

    def as_json(self) -> dict[str, Any]:
        expires, notified = self.lease_expires_at, self.last_notification_at
        return {
            "feed": self.feed_url,
            "source": self.source,
            "hub": self.hub_url,
            "topic": self.topic_url,
            "state": self.state,
            "lease_expires_at": expires.isoformat() if expires else None,
            "last_notification_at": notified.isoformat() if notified else None,
            "notifications": self.notifications,
            "last_error": self.last_error,
        }


def hub_states(session: Session, *, source: str | None = None) -> list[HubState]:
    """Every WebSub subscription (of one source's feeds), by feed."""
    query = (
        select(HubSubscription, Feed.url, Source.name)
        .outerjoin(Feed, Feed.id == HubSubscription.feed_id)
        .outerjoin(Source, Source.id == Feed.source_id)
        .order_by(Feed.url, HubSubscription.id)
    )
    if source is not None:
        query = query.where(Source.name == source)
    return [
        HubState(
            feed_url=feed_url,
            source=source_name,
            hub_url=row.hub_url,
            topic_url=row.topic_url,
            state="unsubscribing" if row.mode == "unsubscribe" else row.state,
            lease_expires_at=row.lease_expires_at,
            last_notification_at=row.last_notification_at,
            notifications=row.notifications,
            last_error=row.last_error,
        )
        for row, feed_url, source_name in session.execute(query)
    ]

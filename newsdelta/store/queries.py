"""Read-side queries for the web pages, feeds and API: small result rows, hidden articles kept out of lists.

Lists fetch one row more than a page holds to know whether a next page exists, so no page ever pays for a
COUNT over the whole version table. Version bodies (`paragraphs`) are loaded only where a page shows them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select, text, tuple_
from sqlalchemy.orm import Session, load_only

from newsdelta.discovery.urls import canonicalize_url
from newsdelta.extract.base import FALLBACK_PREFIX
from newsdelta.store import checklog
from newsdelta.store.checklog import NO_CHECKS
from newsdelta.store.models import Article, Source, Version, VersionChange, VersionKind
from newsdelta.store.repository import NotFound, article_by_url

# Must match the index expression of migration 0002 character for character, or PostgreSQL will not use it.
PG_SEARCH_DOCUMENT = "(setweight(to_tsvector('english'::regconfig, title), 'A') || to_tsvector('english'::regconfig, paragraphs))"

# Outcomes of a check that reached the outlet and got a usable answer.
T = TypeVar("T")


class HiddenArticle(LookupError):
    """The article was hidden by an admin (e.g. a legal request): every page and feed of it answers 410."""

    def __init__(self, article_id: int, reason: str | None) -> None:
        super().__init__(f"article {article_id} is hidden")
        self.article_id = article_id
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
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
    origin: str
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
    """A version without its body: enough for an article's version table."""

    number: int
    title: str
    fetched_at: datetime
    origin: str
    http_status: int
    has_raw: bool
    kinds: list[str] | None = None
    size_words: int | None = None


@dataclass(frozen=True, slots=True)
class ArticleRow:
    id: int
    url: str
    source: str
    state: str
    version_count: int
    first_seen_at: datetime
    last_changed_at: datetime | None
    next_check_at: datetime | None
    title: str | None


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


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One article matching a search, collapsed over all its matching versions."""

    article_id: int
    source: str
    url: str
    number: int  # the newest matching version
    title: str
    fetched_at: datetime
    origin: str
    matching_versions: int
    snippet: str


def _paged(rows: Sequence[T], page: int, per_page: int) -> Page[T]:
    return Page(list(rows[:per_page]), page, per_page, has_next=len(rows) > per_page)


def _window(query: Select, page: int, per_page: int) -> Select:
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


def _changes_query() -> Select:
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
        .where(Version.number >= 1, Article.hidden.is_(False))
        .order_by(Version.fetched_at.desc(), Version.id.desc())
    )


def changed_articles(
    session: Session,
    *,
    since: datetime,
    page: int = 1,
    per_page: int = 25,
    source: str | None = None,
    kind: str | None = None,
) -> Page[ArticleChanges]:
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
        return Page([], page, per_page, has_next=False)
    of_these = _changes_query().where(Version.article_id.in_(ids))
    newest = session.execute(of_these.where(Version.number == Article.version_count - 1))
    latest_by_article = {row[0]: Change(*row) for row in newest}
    in_period: dict[int, list[Change]] = {article_id: [] for article_id in ids}
    for row in session.execute(of_these.where(Version.fetched_at >= since)):
        in_period[row[0]].append(Change(*row))
    items = [ArticleChanges(latest_by_article[article_id], in_period[article_id]) for article_id in ids]
    return Page(items, page, per_page, has_next=len(window) > per_page)


def recent_changes(
    session: Session,
    *,
    page: int = 1,
    per_page: int = 25,
    source: str | None = None,
    article_id: int | None = None,
    kind: str | None = None,
    min_size: int | None = None,
) -> Page[Change]:
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
    return _paged([Change(*row) for row in rows], page, per_page)


def version_rows(session: Session, article_id: int) -> list[VersionRow]:
    query = (
        select(
            Version.number,
            Version.title,
            Version.fetched_at,
            Version.origin,
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


ARTICLE_ORDERS = {
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
    state: str | None = None,
    changed_since: datetime | None = None,
    order: str = "id",
    article_id: int | None = None,
) -> Page[ArticleRow]:
    """Tracked articles, hidden ones left out; `order` is "id" (newest tracked first), "changed" (most
    recently changed first) or "versions" (most versions first)."""
    latest_title = (
        select(Version.title)
        .where(Version.article_id == Article.id)
        .order_by(Version.number.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = (
        select(
            Article.id,
            Article.url,
            Source.name,
            Article.state,
            Article.version_count,
            Article.first_seen_at,
            Article.last_changed_at,
            Article.next_check_at,
            latest_title,
        )
        .join(Source, Source.id == Article.source_id)
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
    rows = session.execute(_window(query, page, per_page)).all()
    return _paged([ArticleRow(*row) for row in rows], page, per_page)


def source_health(session: Session, now: datetime, *, name: str | None = None) -> list[SourceHealth]:
    """Per source over the last 24 hours: checks, errors (counted by the hour: store/checklog.py), new versions
    (first versions count), last success."""
    since = now - timedelta(days=1)
    sources = session.scalars(
        select(Source).order_by(Source.name).where(Source.name == name if name is not None else True)
    ).all()

    def per_source(query: Select) -> dict[int, Any]:
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


# --- search ---------------------------------------------------------------------------------------------

_WORD = re.compile(r"\w+", re.UNICODE)


def search_terms(query: str) -> list[str]:
    return _WORD.findall(query)[:16]


def _fts5_query(terms: list[str]) -> str:
    """Every word quoted, so user input can never be FTS5 syntax (AND of all words)."""
    return " ".join('"' + term.replace('"', '""') + '"' for term in terms)


_SQLITE_SEARCH = text("""
    WITH hits AS MATERIALIZED (
        SELECT rowid AS version_id, bm25(version_fts, 4.0, 1.0) AS score
        FROM version_fts WHERE version_fts MATCH :match
    )
    SELECT v.article_id, max(v.number) AS number, min(hits.score) AS score, count(*) AS n
    FROM hits JOIN version v ON v.id = hits.version_id JOIN article a ON a.id = v.article_id
    WHERE a.hidden = 0
    GROUP BY v.article_id
    ORDER BY score, number DESC, v.article_id DESC
    LIMIT :limit OFFSET :offset
""")

_PG_SEARCH = text(f"""
    WITH q AS (SELECT websearch_to_tsquery('english', :match) AS query)
    SELECT v.article_id, max(v.number) AS number, -max(ts_rank({PG_SEARCH_DOCUMENT}, q.query)) AS score,
           count(*) AS n
    FROM version v CROSS JOIN q JOIN article a ON a.id = v.article_id
    WHERE {PG_SEARCH_DOCUMENT} @@ q.query AND NOT a.hidden
    GROUP BY v.article_id
    ORDER BY score, number DESC, v.article_id DESC
    LIMIT :limit OFFSET :offset
""")


def search(session: Session, query: str, *, page: int = 1, per_page: int = 20) -> Page[SearchHit]:
    """Titles and text of every version; one hit per article, best match first."""
    terms = search_terms(query)
    if not terms:
        return Page([], page, per_page, has_next=False)
    postgres = session.get_bind().dialect.name == "postgresql"
    statement = _PG_SEARCH if postgres else _SQLITE_SEARCH
    match = " ".join(terms) if postgres else _fts5_query(terms)
    rows = session.execute(
        statement, {"match": match, "limit": per_page + 1, "offset": (page - 1) * per_page}
    ).all()
    hits = [_hit(session, article_id, number, n, terms) for article_id, number, _score, n in rows]
    return _paged(hits, page, per_page)


def _hit(session: Session, article_id: int, number: int, matching: int, terms: list[str]) -> SearchHit:
    version = session.scalars(
        select(Version)
        .options(
            load_only(
                Version.title, Version.paragraphs, Version.fetched_at, Version.origin, Version.article_id
            )
        )
        .where(Version.article_id == article_id, Version.number == number)
    ).one()
    article = version.article
    return SearchHit(
        article_id=article_id,
        source=article.source.name,
        url=article.url,
        number=number,
        title=version.title,
        fetched_at=version.fetched_at,
        origin=version.origin,
        matching_versions=matching,
        snippet=snippet(version.paragraphs, terms),
    )


def snippet(paragraphs: Sequence[str], terms: Sequence[str], width: int = 220) -> str:
    """The stretch of the first paragraph that mentions a search word (plain text: templates escape it)."""
    lowered = [term.lower() for term in terms]
    for paragraph in paragraphs:
        text_lower = paragraph.lower()
        positions = [pos for pos in (text_lower.find(term) for term in lowered) if pos >= 0]
        if positions:
            start = max(min(positions) - width // 3, 0)
            if start:  # begin at a word, not inside one
                start = paragraph.find(" ", start, min(positions)) + 1 or min(positions)
            piece = paragraph[start : start + width]
            return ("…" if start else "") + piece + ("…" if start + width < len(paragraph) else "")
    first = paragraphs[0] if paragraphs else ""
    return first[:width] + ("…" if len(first) > width else "")


def article_id_for_url(session: Session, url: str) -> int | None:
    """The article tracked at `url` (as given or canonical: tracking parameters and fragment dropped), or
    known under it as an alias; None when no article is."""
    for candidate in dict.fromkeys((canonicalize_url(url), url.strip())):
        article = article_by_url(session, candidate)
        if article is not None:
            return article.id
    return None

"""The JSON API under /api/: the same read-side queries as the pages, typed so the OpenAPI description is exact."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict

from newsdelta.diff.model import VersionDiffOut
from newsdelta.notify import delivery_report
from newsdelta.store import queries
from newsdelta.store import search as fulltext
from newsdelta.vocabulary import ArticleState, Origin
from newsdelta.web.deps import DiffsDep, NowDep, SessionDep
from newsdelta.web.kinds import KindQuery
from newsdelta.web.params import PRINTABLE, ArticleId, SearchText, SourceQuery, UtcTime, VersionNumber

router = APIRouter(prefix="/api", tags=["read"])

T = TypeVar("T")
PageNumber = Annotated[int, Query(ge=1, le=100_000, description="1-based page number")]
PerPage = Annotated[int, Query(ge=1, le=200, description="Items per page")]


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Paged(Out, Generic[T]):
    items: list[T]
    page: int
    per_page: int
    next_page: int | None


def paged(page: queries.ResultsPage[Any]) -> dict[str, Any]:
    return {
        "items": page.items,
        "page": page.page,
        "per_page": page.per_page,
        "next_page": page.page + 1 if page.has_next else None,
    }


class ArticleDetailOut(Out):
    id: int
    url: str
    source: str
    state: ArticleState
    first_seen_at: datetime
    published_at: datetime | None
    next_check_at: datetime | None
    gone_at: datetime | None
    versions: list[queries.VersionRow]


class RequestOut(BaseModel):
    method: str
    url: str
    headers: list[tuple[str, str]]


class ResponseOut(BaseModel):
    http_version: str
    status: int
    reason: str
    headers: list[tuple[str, str]]


class ExchangeOut(BaseModel):
    """The HTTP request and response behind a version, headers in the order and spelling they went."""

    request: RequestOut
    response: ResponseOut
    received_at: datetime


class VersionOut(Out):
    article_id: int
    number: int
    origin: Origin
    title: str
    standfirst: str | None = None
    byline: str | None
    published: datetime | None
    updated: datetime | None
    paragraphs: list[str]
    text_hash: str
    fetched_at: datetime
    http_status: int
    final_url: str | None
    parser: str | None
    parser_version: int | None
    raw_sha256: str | None
    exchange: ExchangeOut | None = None
    remote_ip: str | None = None
    archive_url: str | None = None  # the Internet Archive's capture (Save Page Now), when configured


class _DiffHead(TypedDict):
    article_id: int
    old: int
    new: int


class DiffOut(_DiffHead, VersionDiffOut):
    """Paragraph rows aligned between the versions (0-based indexes), each with its word-level spans."""


class HealthOut(BaseModel):
    ok: bool
    stale: list[str]
    sources: list[queries.SourceHealth]
    notifications: list[dict[str, Any]] = Field(
        description="Subscriptions: pending messages, failure streak, last error"
    )


@router.get("/sources", response_model=list[queries.SourceHealth])
def sources(db: SessionDep, now: NowDep) -> list[queries.SourceHealth]:
    """Every source with its last 24 hours: checks, errors, new versions, last successful fetch."""
    return queries.source_health(db, now)


@router.get("/changes", response_model=Paged[queries.Change])
def changes(
    db: SessionDep,
    page: PageNumber = 1,
    per_page: PerPage = 50,
    source: SourceQuery = None,
    kind: KindQuery = None,
    min_size: Annotated[int | None, Query(ge=0, description="At least this many words changed")] = None,
) -> dict[str, Any]:
    """New versions (each with a predecessor), newest first, with their kinds of change and size in words."""
    found = queries.recent_changes(
        db, page=page, per_page=per_page, source=source, kind=kind, min_size=min_size
    )
    return paged(found)


@router.get("/articles", response_model=Paged[queries.ArticleRow])
def articles(
    db: SessionDep,
    page: PageNumber = 1,
    per_page: PerPage = 50,
    source: SourceQuery = None,
    state: ArticleState | None = None,
    changed_since: Annotated[
        UtcTime | None,
        Query(description="Only articles that changed at or after this time (UTC unless it has an offset)"),
    ] = None,
    url: Annotated[
        str | None,
        Query(
            max_length=2048,
            pattern=PRINTABLE,
            description="Only the article at this URL: any of its aliases, tracking parameters or not",
        ),
    ] = None,
    order: Annotated[
        Literal["id", "changed", "versions"],
        Query(description="Newest tracked, most recently changed or most versions first"),
    ] = "id",
) -> dict[str, Any]:
    """Tracked articles, newest first unless `order` says otherwise; hidden articles are left out."""
    article_id = None
    if url is not None:
        article_id = queries.article_id_for_url(db, url)
        if article_id is None:
            return paged(queries.ResultsPage([], page, per_page, has_next=False))
    found = queries.list_articles(
        db,
        page=page,
        per_page=per_page,
        source=source,
        state=state,
        changed_since=changed_since,
        order=order,
        article_id=article_id,
    )
    return paged(found)


@router.get("/articles/{article_id}", response_model=ArticleDetailOut)
def article(article_id: ArticleId, db: SessionDep) -> dict[str, Any]:
    """One article and the list of its versions (410 if hidden)."""
    found = queries.visible_article(db, article_id)
    return {
        "id": found.id,
        "url": found.url,
        "source": found.source.name,
        "state": found.state,
        "first_seen_at": found.first_seen_at,
        "published_at": found.published_at,
        "next_check_at": found.next_check_at,
        "gone_at": found.gone_at,
        "versions": queries.version_rows(db, article_id),
    }


@router.get("/articles/{article_id}/versions/{number}", response_model=VersionOut)
def version(article_id: ArticleId, number: VersionNumber, db: SessionDep) -> Any:
    """One version's full text, as paragraphs."""
    queries.visible_article(db, article_id)
    return queries.get_version(db, article_id, number)


@router.get("/articles/{article_id}/diff/{old}/{new}", response_model=DiffOut)
def diff(
    article_id: ArticleId, old: VersionNumber, new: VersionNumber, db: SessionDep, diffs: DiffsDep
) -> DiffOut:
    """What changed from version `old` to version `new`: headline, byline, dates and aligned paragraphs."""
    queries.visible_article(db, article_id)
    old_version, new_version = queries.version_pair(db, article_id, old, new)
    return {
        "article_id": article_id,
        "old": old,
        "new": new,
        **diffs.diff(old_version, new_version).to_dict(),
    }


@router.get("/search", response_model=Paged[fulltext.SearchHit])
def search(db: SessionDep, q: SearchText, page: PageNumber = 1, per_page: PerPage = 20) -> dict[str, Any]:
    """Articles whose versions' titles or text contain all the words; one hit per article."""
    return paged(fulltext.search(db, q, page=page, per_page=per_page))


@router.get("/health", response_model=HealthOut, responses={503: {"model": HealthOut}})
def health(db: SessionDep, now: NowDep) -> JSONResponse:
    """503 when a source older than a day stored nothing in the last 24 hours."""
    stats = queries.source_health(db, now)
    stale = [row.name for row in stats if row.stale]
    body = HealthOut(ok=not stale, stale=stale, sources=stats, notifications=delivery_report(db))
    return JSONResponse(body.model_dump(mode="json"), status_code=503 if stale else 200)

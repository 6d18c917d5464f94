"""HTML pages: latest changes, article histories, diffs, versions, sources, health and search."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from newsdelta.notify import delivery_report
from newsdelta.schedule import next_check_reason
from newsdelta.store import queries
from newsdelta.store.evidence import load_raw_page
from newsdelta.store.repository import NotFound
from newsdelta.web.deps import DiffsDep, NowDep, SessionDep, SettingsDep
from newsdelta.web.diffing import changes_only, side_by_side, version_pair
from newsdelta.web.params import MAX_ID, ArticleId, SearchText, SourcePath, SourceQuery, VersionNumber
from newsdelta.web.render import templates

router = APIRouter(include_in_schema=False)

PageNumber = Annotated[int, Query(ge=1, le=10_000)]

# The raw page is the outlet's own markup: shown as text, in a sandbox, so none of it can run here.
RAW_HEADERS = {
    "content-security-policy": "sandbox; default-src 'none'",
    "x-content-type-options": "nosniff",
}


def _page(request: Request, name: str, **context: object) -> Response:
    return templates.TemplateResponse(request, name, context)


@router.get("/")
def home(
    request: Request, db: SessionDep, now: NowDep, page: PageNumber = 1, source: SourceQuery = None
) -> Response:
    source = source or None
    changes = queries.recent_changes(db, page=page, source=source)
    return _page(
        request, "home.html", changes=changes, sources=queries.source_names(db), source=source, now=now
    )


@router.get("/articles/{article_id}")
def article(
    request: Request,
    article_id: ArticleId,
    db: SessionDep,
    now: NowDep,
    settings: SettingsDep,
) -> Response:
    found = queries.visible_article(db, article_id)
    versions = queries.version_rows(db, article_id)
    return _page(
        request,
        "article.html",
        article=found,
        versions=versions,
        title=versions[-1].title if versions else found.url,
        retire_days=settings.policy.retire_after.days,
        schedule_reason=next_check_reason(found, settings.policy).detail,
        now=now,
    )


@router.get("/articles/{article_id}/diff")
def pick_diff(
    article_id: ArticleId,
    old: Annotated[int, Query(alias="from", ge=0, le=MAX_ID)],
    new: Annotated[int, Query(alias="to", ge=0, le=MAX_ID)],
) -> Response:
    """The "compare any two versions" form lands here and is sent on to the canonical diff address."""
    return RedirectResponse(f"/articles/{article_id}/diff/{old}/{new}", status_code=303)


@router.get("/articles/{article_id}/diff/{old}/{new}")
def diff(
    request: Request,
    article_id: ArticleId,
    old: VersionNumber,
    new: VersionNumber,
    db: SessionDep,
    diffs: DiffsDep,
    view: Literal["side", "inline"] = "side",
    changes: Literal["all", "only"] = "all",
) -> Response:
    found = queries.visible_article(db, article_id)
    if old == new:
        return RedirectResponse(f"/articles/{article_id}/versions/{new}", status_code=303)
    if old > new:
        return RedirectResponse(f"/articles/{article_id}/diff/{new}/{old}?view={view}&changes={changes}", 303)
    old_version, new_version = version_pair(db, article_id, old, new)
    result = diffs.diff(old_version, new_version)
    rows = list(changes_only(result.rows)) if changes == "only" else list(result.rows)
    span = new - old
    return _page(
        request,
        "diff.html",
        article=found,
        old=old_version,
        new=new_version,
        diff=result,
        rows=rows,
        side_rows=list(side_by_side(rows)) if view == "side" else [],
        view=view,
        changes=changes,
        prev=(old - 1, new - 1) if old >= 1 else None,
        next=(old + 1, new + 1) if new + 1 < found.version_count else None,
        span=span,
    )


@router.get("/articles/{article_id}/versions/{number}")
def version(request: Request, article_id: ArticleId, number: VersionNumber, db: SessionDep) -> Response:
    found = queries.visible_article(db, article_id)
    shown = queries.get_version(db, article_id, number)
    return _page(request, "version.html", article=found, version=shown)


@router.get("/articles/{article_id}/versions/{number}/raw")
def raw(article_id: ArticleId, number: VersionNumber, db: SessionDep, download: bool = False) -> Response:
    """The archived bytes of the fetch behind a version, exactly as received: evidence to cite or re-parse."""
    queries.visible_article(db, article_id)
    shown = queries.get_version(db, article_id, number)
    body = load_raw_page(db, shown.raw_sha256) if shown.raw_sha256 else None
    if body is None:
        raise NotFound(f"no archived page is kept for version {number} of article {article_id}")
    name = f"article-{article_id}-v{number}-{shown.raw_sha256[:12]}.html"  # type: ignore[index]
    disposition = "attachment" if download else "inline"
    headers = {**RAW_HEADERS, "content-disposition": f'{disposition}; filename="{name}"'}
    media = "application/octet-stream" if download else "text/plain; charset=utf-8"
    return Response(body, media_type=media, headers=headers)


@router.get("/sources")
def sources(request: Request, db: SessionDep, now: NowDep) -> Response:
    return _page(request, "sources.html", health=queries.source_health(db, now), now=now)


@router.get("/sources/{name}")
def source(request: Request, name: SourcePath, db: SessionDep, now: NowDep, page: PageNumber = 1) -> Response:
    queries.source_by_name(db, name)
    (stats,) = queries.source_health(db, now, name=name)
    changes = queries.recent_changes(db, page=page, source=name)
    return _page(request, "source.html", stats=stats, changes=changes, now=now)


@router.get("/health")
def health(request: Request, db: SessionDep, now: NowDep) -> Response:
    """503 when any source older than a day stored nothing in the last 24 hours: something upstream broke."""
    stats = queries.source_health(db, now)
    stale = [row.name for row in stats if row.stale]
    notifications = delivery_report(db)
    response = _page(request, "health.html", health=stats, stale=stale, notifications=notifications, now=now)
    response.status_code = 503 if stale else 200
    return response


@router.get("/search")
def search(
    request: Request,
    db: SessionDep,
    now: NowDep,
    q: SearchText = "",
    page: PageNumber = 1,
) -> Response:
    results = queries.search(db, q, page=page) if q.strip() else None
    return _page(request, "search.html", q=q, results=results, terms=queries.search_terms(q), now=now)

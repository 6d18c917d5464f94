"""HTML pages: latest changes, article histories, diffs, versions, sources, health and search."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response

from newsdelta.crawl.learning import explain
from newsdelta.notify import delivery_report
from newsdelta.store import checklog, queries
from newsdelta.store import search as fulltext
from newsdelta.store.evidence import load_raw_page
from newsdelta.store.repository import NotFound
from newsdelta.store.warc import write_warc
from newsdelta.vocabulary import ChangeKind
from newsdelta.web.cite import Citation, wayback_url
from newsdelta.web.deps import DiffsDep, EvidenceDep, NowDep, SessionDep, SettingsDep, site_url
from newsdelta.web.diffing import (
    changes_only,
    default_changes,
    describe,
    key_changes,
)
from newsdelta.web.kinds import KindQuery
from newsdelta.web.params import (
    MAX_ID,
    PRINTABLE,
    ArticleId,
    SearchText,
    SourcePath,
    SourceQuery,
    VersionNumber,
)
from newsdelta.web.render import ZONE_COOKIE, ZONES, templates
from newsdelta.web.views import DEFAULT_VIEW, DIFF_VIEWS, diff_view

router = APIRouter(include_in_schema=False)

PageNumber = Annotated[int, Query(ge=1, le=10_000)]
NextPath = Annotated[str, Query(max_length=2048, pattern=PRINTABLE)]
# The home page counts each article's changes over this period (and lists them when expanded).
PERIOD = timedelta(days=7)

# The raw page is the outlet's own markup: shown as text, in a sandbox, so none of it can run here.
RAW_HEADERS = {
    "content-security-policy": "sandbox; default-src 'none'",
    "x-content-type-options": "nosniff",
}


def looks_like_url(text: str) -> bool:
    return text.strip().lower().startswith(("http://", "https://"))


def _page(request: Request, name: str, **context: object) -> Response:
    return templates.TemplateResponse(request, name, context)


@router.get("/")
def home(
    request: Request,
    db: SessionDep,
    now: NowDep,
    diffs: DiffsDep,
    page: PageNumber = 1,
    source: SourceQuery = None,
    kind: KindQuery = None,
) -> Response:
    source, kind = source or None, kind or None
    articles = queries.changed_articles(db, since=now - PERIOD, page=page, source=source, kind=kind)
    notes = describe(db, diffs, [c.key for row in articles.items for c in (row.latest, *row.in_period)])
    return _page(
        request,
        "home.html",
        articles=articles,
        notes=notes,
        flipflopping=checklog.flipflopping(db, [row.latest.article_id for row in articles.items]),
        sources=queries.source_names(db),
        source=source,
        kinds=ChangeKind,
        kind=kind,
        period_days=PERIOD.days,
        now=now,
    )


@router.get("/articles/{article_id}")
def article(
    request: Request,
    article_id: ArticleId,
    db: SessionDep,
    now: NowDep,
    settings: SettingsDep,
    diffs: DiffsDep,
) -> Response:
    found = queries.visible_article(db, article_id)
    versions = queries.version_rows(db, article_id)
    return _page(
        request,
        "article.html",
        article=found,
        versions=versions,
        notes=describe(db, diffs, [(article_id, v.number) for v in versions if v.number]),
        flipflops=checklog.flipflops(db, article_id),
        title=versions[-1].title if versions else found.url,
        retire_days=settings.policy.retire_after.days,
        schedule_reason=explain(db, found, settings.policy, now).detail,
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
    view: str = DEFAULT_VIEW,
    changes: Literal["all", "only"] | None = None,
) -> Response:
    """`changes` left out opens a long article on "changes only" (see LONG_ARTICLE_PARAGRAPHS)."""
    shown_as = diff_view(view)
    if shown_as is None:
        raise HTTPException(422, f"unknown view {view!r}: one of {', '.join(DIFF_VIEWS)}")
    found = queries.visible_article(db, article_id)
    if old == new:
        return RedirectResponse(f"/articles/{article_id}/versions/{new}", status_code=303)
    if old > new:
        query = f"?view={view}" + (f"&changes={changes}" if changes else "")
        return RedirectResponse(f"/articles/{article_id}/diff/{new}/{old}{query}", 303)
    old_version, new_version = queries.version_pair(db, article_id, old, new)
    result = diffs.diff(old_version, new_version)
    changes = changes or default_changes(result.rows)
    rows = list(changes_only(result.rows)) if changes == "only" else list(result.rows)
    return _page(
        request,
        "diff.html",
        article=found,
        old=old_version,
        new=new_version,
        diff=result,
        rows=rows,
        view_rows=shown_as.arrange(rows),
        key_changes=key_changes(result.rows),
        view=shown_as,
        views=DIFF_VIEWS.values(),
        changes=changes,
        prev=(old - 1, new - 1) if old >= 1 else None,
        next=(old + 1, new + 1) if new + 1 < found.version_count else None,
        # The stored kinds describe a version against its predecessor: shown for consecutive versions only.
        kinds=queries.version_kinds(db, [(article_id, new)]).get((article_id, new))
        if new == old + 1
        else None,
        seen_before=checklog.last_seen_before(db, article_id, new_version.fetched_at),
        cite=Citation(
            found.source.name,
            found.url,
            site_url(request, f"/articles/{article_id}/diff/{old}/{new}"),
            old_version,
            new_version,
        ),
        wayback=wayback_url(found.url, new_version.fetched_at),
    )


@router.get("/articles/{article_id}/versions/{number}")
def version(request: Request, article_id: ArticleId, number: VersionNumber, db: SessionDep) -> Response:
    found = queries.visible_article(db, article_id)
    shown = queries.get_version(db, article_id, number)
    permalink = site_url(request, f"/articles/{article_id}/versions/{number}")
    return _page(
        request,
        "version.html",
        article=found,
        version=shown,
        seen_before=checklog.last_seen_before(db, article_id, shown.fetched_at) if number else None,
        cite=Citation(found.source.name, found.url, permalink, None, shown),
        wayback=wayback_url(found.url, shown.fetched_at),
    )


@router.get("/articles/{article_id}/versions/{number}/raw")
def raw(
    article_id: ArticleId,
    number: VersionNumber,
    db: SessionDep,
    evidence: EvidenceDep,
    download: bool = False,
) -> Response:
    """The archived bytes of the fetch behind a version, exactly as received: evidence to cite or re-parse."""
    queries.visible_article(db, article_id)
    shown = queries.get_version(db, article_id, number)
    sha = shown.raw_sha256
    body = load_raw_page(evidence, sha) if sha else None
    if sha is None or body is None:
        raise NotFound(f"no archived page is kept for version {number} of article {article_id}")
    name = f"article-{article_id}-v{number}-{sha[:12]}.html"
    disposition = "attachment" if download else "inline"
    headers = {**RAW_HEADERS, "content-disposition": f'{disposition}; filename="{name}"'}
    media = "application/octet-stream" if download else "text/plain; charset=utf-8"
    return Response(body, media_type=media, headers=headers)


@router.get("/articles/{article_id}/evidence.warc.gz")
def evidence_warc(article_id: ArticleId, db: SessionDep, evidence: EvidenceDep) -> Response:
    """Every version's evidence of one article as WARC/1.1, for web-archive tools."""
    found = queries.visible_article(db, article_id)
    buffer = io.BytesIO()
    write_warc(evidence, [found], buffer)
    name = f"article-{article_id}.warc.gz"
    headers = {**RAW_HEADERS, "content-disposition": f'attachment; filename="{name}"'}
    return Response(buffer.getvalue(), media_type="application/warc", headers=headers)


@router.get("/sources")
def sources(request: Request, db: SessionDep, now: NowDep) -> Response:
    return _page(request, "sources.html", health=queries.source_health(db, now), now=now)


@router.get("/sources/{name}")
def source(
    request: Request, name: SourcePath, db: SessionDep, now: NowDep, diffs: DiffsDep, page: PageNumber = 1
) -> Response:
    queries.source_by_name(db, name)
    (stats,) = queries.source_health(db, now, name=name)
    changes = queries.recent_changes(db, page=page, source=name)
    return _page(
        request,
        "source.html",
        stats=stats,
        changes=changes,
        notes=describe(db, diffs, [c.key for c in changes.items]),
        flipflopping=checklog.flipflopping(db, [change.article_id for change in changes.items]),
        hubs=queries.hub_states(db, source=name),
        now=now,
    )


@router.get("/sources/{name}/articles")
def source_articles(
    request: Request,
    name: SourcePath,
    db: SessionDep,
    now: NowDep,
    page: PageNumber = 1,
    order: Literal["changed", "versions"] = "changed",
) -> Response:
    """Every tracked article of a source, paged: by last change, or by number of versions."""
    queries.source_by_name(db, name)
    articles = queries.list_articles(db, page=page, per_page=50, source=name, order=order)
    return _page(request, "source_articles.html", source=name, articles=articles, order=order, now=now)


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
    """Words search every version; an article's URL (any alias, tracking parameters or not) leads to it."""
    if looks_like_url(q):
        found = queries.article_id_for_url(db, q)
        if found is not None:
            return RedirectResponse(f"/articles/{found}", status_code=303)
    results = fulltext.search(db, q, page=page) if q.strip() else None
    return _page(request, "search.html", q=q, results=results, terms=fulltext.search_terms(q), now=now)


@router.get("/about")
def about(request: Request) -> Response:
    return _page(request, "about.html")


def _local_path(path: str) -> str:
    """Where to go back to: a path on this site only, never another host (`//evil.example`)."""
    return path if path.startswith("/") and not path.startswith(("//", "/\\")) else "/"


@router.get("/time-zone")
def time_zone(request: Request, next: NextPath = "/") -> Response:
    return _page(request, "time_zone.html", zones=ZONES, next=_local_path(next))


@router.post("/time-zone")
def set_time_zone(
    tz: Annotated[str, Form(max_length=64)], next: Annotated[str, Form(max_length=2048)] = "/"
) -> Response:
    """Times in the reader's zone from now on (a cookie; no JavaScript): "UTC" or an unknown name clears it."""
    response = RedirectResponse(_local_path(next), status_code=303)
    if tz in ZONES and tz != "UTC":
        response.set_cookie(ZONE_COOKIE, tz, max_age=365 * 86400, httponly=True, samesite="lax")
    else:
        response.delete_cookie(ZONE_COOKIE)
    return response

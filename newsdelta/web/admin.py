"""Admin actions (add or remove a feed, track a URL, hide an article), behind the token from the settings.

The same actions twice: HTML forms that carry the token as a field (which also makes them useless to a
cross-site forger, who does not know it), and a JSON API that takes `Authorization: Bearer <token>`.
Without a configured token every action is refused.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsdelta import actions
from newsdelta.config import Settings
from newsdelta.fetch.errors import FetchError
from newsdelta.store.models import Article, Feed
from newsdelta.web.deps import SessionDep, SettingsDep
from newsdelta.web.render import templates

router = APIRouter()
bearer = HTTPBearer(auto_error=False, description="The admin token (NEWSDELTA_ADMIN_TOKEN)")


def check_token(settings: Settings, given: str | None) -> None:
    if not settings.admin_token:
        raise HTTPException(403, "Admin actions are disabled: no admin token is configured.")
    if not given or not hmac.compare_digest(given.encode(), settings.admin_token.encode()):
        raise HTTPException(403, "Wrong or missing admin token.")


def bearer_token(
    settings: SettingsDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> None:
    check_token(settings, credentials.credentials if credentials else None)


def form_token(settings: SettingsDep, token: Annotated[str, Form()] = "") -> None:
    check_token(settings, token)


# --- the actions ------------------------------------------------------------------------------------------


@contextmanager
def _committed(db: Session) -> Iterator[None]:
    """Commit the action, or answer 422 with the action's own message for bad input."""
    try:
        yield
    except (FetchError, ValueError) as exc:
        db.rollback()
        raise HTTPException(422, str(exc)) from exc
    db.commit()


def add_feed_action(
    db: Session, settings: Settings, url: str, source: str, period: float, exclude: list[str]
) -> Feed:
    with _committed(db):
        feed = actions.add_checked_feed(
            db,
            url,
            source,
            timedelta(seconds=period),
            exclude,
            datetime.now(UTC),
            addresses=settings.address_policy,
        )
    return feed


def remove_feed(db: Session, feed_id: int) -> None:
    with _committed(db):
        actions.remove_feed(db, feed_id)


def track_url(db: Session, settings: Settings, url: str, source: str | None) -> tuple[Article, bool]:
    with _committed(db):
        tracked = actions.track_url(
            db, url, source, settings.policy, datetime.now(UTC), addresses=settings.address_policy
        )
    return tracked


def set_hidden(db: Session, article_id: int, hidden: bool, reason: str | None) -> Article:
    with _committed(db):
        article = actions.set_hidden(db, article_id, hidden, reason)
    return article


# --- HTML forms ---------------------------------------------------------------------------------------------

FormToken = Depends(form_token)


def _done(message: str) -> Response:
    return RedirectResponse(f"/admin?done={message}", status_code=303)


@router.get("/admin", include_in_schema=False)
def admin_page(request: Request, db: SessionDep, done: str = "") -> Response:
    feeds = db.scalars(select(Feed).order_by(Feed.id)).all()
    hidden = db.scalars(select(Article).where(Article.hidden.is_(True)).order_by(Article.id)).all()
    return templates.TemplateResponse(request, "admin.html", {"feeds": feeds, "hidden": hidden, "done": done})


@router.post("/admin/feeds", include_in_schema=False, dependencies=[FormToken])
def admin_add_feed(
    db: SessionDep,
    settings: SettingsDep,
    url: Annotated[str, Form()],
    source: Annotated[str, Form(min_length=1, max_length=64)],
    period: Annotated[float, Form(ge=60)] = 300,
    exclude: Annotated[str, Form()] = "",
) -> Response:
    feed = add_feed_action(
        db, settings, url, source, period, [line.strip() for line in exclude.splitlines() if line.strip()]
    )
    return _done(f"feed {feed.id} saved")


@router.post("/admin/feeds/{feed_id}/delete", include_in_schema=False, dependencies=[FormToken])
def admin_remove_feed(db: SessionDep, feed_id: int) -> Response:
    remove_feed(db, feed_id)
    return _done(f"feed {feed_id} removed")


@router.post("/admin/track", include_in_schema=False, dependencies=[FormToken])
def admin_track(
    db: SessionDep, settings: SettingsDep, url: Annotated[str, Form()], source: Annotated[str, Form()] = ""
) -> Response:
    article, created = track_url(db, settings, url, source.strip() or None)
    return _done(f"{'tracking' if created else 'already tracking'} article {article.id}")


@router.post("/admin/hide", include_in_schema=False, dependencies=[FormToken])
def admin_hide(
    db: SessionDep, article: Annotated[int, Form(ge=1)], reason: Annotated[str, Form(max_length=500)] = ""
) -> Response:
    set_hidden(db, article, True, reason.strip() or None)
    return _done(f"article {article} hidden")


@router.post("/admin/articles/{article_id}/unhide", include_in_schema=False, dependencies=[FormToken])
def admin_unhide(db: SessionDep, article_id: int) -> Response:
    set_hidden(db, article_id, False, None)
    return _done(f"article {article_id} shown again")


# --- JSON API ------------------------------------------------------------------------------------------------

api = APIRouter(prefix="/api/admin", tags=["admin"], dependencies=[Depends(bearer_token)])


class FeedIn(BaseModel):
    url: str = Field(max_length=4096)
    source: str = Field(min_length=1, max_length=64)
    period_seconds: float = Field(300, ge=60)
    exclude: list[str] = Field(default_factory=list, description="Regexes; matching article URLs are skipped")


class TrackIn(BaseModel):
    url: str = Field(max_length=4096)
    source: str | None = Field(None, max_length=64)


class HideIn(BaseModel):
    reason: str | None = Field(None, max_length=500, description="Shown on the 410 notice")


class Done(BaseModel):
    id: int
    message: str


@api.post("/feeds", response_model=Done)
def api_add_feed(body: FeedIn, db: SessionDep, settings: SettingsDep) -> Done:
    feed = add_feed_action(db, settings, body.url, body.source, body.period_seconds, body.exclude)
    return Done(id=feed.id, message="feed saved")


@api.delete("/feeds/{feed_id}", response_model=Done)
def api_remove_feed(feed_id: int, db: SessionDep) -> Done:
    remove_feed(db, feed_id)
    return Done(id=feed_id, message="feed removed")


@api.post("/track", response_model=Done)
def api_track(body: TrackIn, db: SessionDep, settings: SettingsDep) -> Done:
    article, created = track_url(db, settings, body.url, body.source)
    return Done(id=article.id, message="tracking" if created else "already tracking")


@api.post("/articles/{article_id}/hide", response_model=Done)
def api_hide(article_id: int, body: HideIn, db: SessionDep) -> Done:
    set_hidden(db, article_id, True, body.reason)
    return Done(id=article_id, message="hidden")


@api.post("/articles/{article_id}/unhide", response_model=Done)
def api_unhide(article_id: int, db: SessionDep) -> Done:
    set_hidden(db, article_id, False, None)
    return Done(id=article_id, message="shown again")


router.include_router(api)

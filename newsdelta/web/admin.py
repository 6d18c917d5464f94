"""Admin actions (add or remove a feed, track a URL, hide an article), behind the token from the settings.

The same actions twice: HTML forms, for which the token is entered once on /admin and a signed session cookie
with a CSRF token in every form stands for it (admin_session.py), and a JSON API that takes
`Authorization: Bearer <token>`. Without a configured token every action is refused; wrong tokens are rate
limited per client (throttle.py). The list of hidden articles (their URLs and the legal reasons) is shown only
to an admin.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from newsdelta import actions
from newsdelta.config import Settings
from newsdelta.fetch.errors import FetchError
from newsdelta.store import queries
from newsdelta.store.models import Article, Feed
from newsdelta.web.admin_session import (
    COOKIE,
    AdminSession,
    clear_cookie,
    csrf_matches,
    new_session,
    read_session,
    set_cookie,
)
from newsdelta.web.deps import NowDep, SessionDep, SettingsDep
from newsdelta.web.params import MAX_ID, PRINTABLE, ArticleId, FeedId
from newsdelta.web.render import templates
from newsdelta.web.throttle import FailureWindow, client_key

router = APIRouter()
bearer = HTTPBearer(auto_error=False, description="The admin token (NEWSDELTA_ADMIN_TOKEN)")


def check_token(request: Request, settings: Settings, given: str | None) -> None:
    """403 for a wrong token; 429 with Retry-After, before any comparison, for a client that guessed too often."""
    if not settings.admin_token:
        raise HTTPException(403, "Admin actions are disabled: no admin token is configured.")
    failures: FailureWindow = request.app.state.token_failures
    client = client_key(request)
    wait = failures.retry_after(client)
    if wait is not None:
        message = f"Too many wrong admin tokens from your address; try again in {wait} seconds."
        raise HTTPException(429, message, headers={"Retry-After": str(wait)})
    if not given or not hmac.compare_digest(given.encode(), settings.admin_token.encode()):
        failures.failed(client)
        raise HTTPException(403, "Wrong or missing admin token.")


def bearer_token(
    request: Request,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    check_token(request, settings, credentials.credentials if credentials else None)


def admin_session(request: Request, settings: SettingsDep) -> AdminSession | None:
    """The admin's session from its cookie, or None: the admin pages show their forms only to a session."""
    return read_session(settings.admin_token, request.cookies.get(COOKIE), time.time())


def admin_form(
    settings: SettingsDep,
    session: Annotated[AdminSession | None, Depends(admin_session)],
    csrf: Annotated[str, Form()] = "",
) -> None:
    """A form POST is allowed with a live session and the CSRF token of that session's forms."""
    if not settings.admin_token:
        raise HTTPException(403, "Admin actions are disabled: no admin token is configured.")
    if session is None:
        raise HTTPException(403, "Not logged in, or the session expired: enter the admin token on /admin.")
    if not csrf_matches(session, csrf):
        raise HTTPException(403, "This form did not come from this session's admin page: reload /admin.")


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
    db: Session, settings: Settings, url: str, source: str, period: float, exclude: list[str], now: datetime
) -> Feed:
    with _committed(db):
        feed = actions.add_checked_feed(
            db,
            url,
            source,
            timedelta(seconds=period),
            exclude,
            now,
            addresses=settings.address_policy,
        )
    return feed


def remove_feed(db: Session, feed_id: int, now: datetime) -> None:
    with _committed(db):
        actions.remove_feed(db, feed_id, now)


def track_url(
    db: Session, settings: Settings, url: str, source: str | None, now: datetime
) -> tuple[Article, bool]:
    with _committed(db):
        tracked = actions.track_url(db, url, source, settings.policy, now, addresses=settings.address_policy)
    return tracked


def set_hidden(db: Session, article_id: int, hidden: bool, reason: str | None) -> Article:
    with _committed(db):
        article = actions.set_hidden(db, article_id, hidden, reason)
    return article


# --- HTML forms ---------------------------------------------------------------------------------------------

FormToken = Depends(admin_form)
AdminDep = Annotated[AdminSession | None, Depends(admin_session)]
PRIVATE = {"cache-control": "no-store"}  # no cache may keep a page with a CSRF token or the hidden articles


def _done(message: str) -> Response:
    return RedirectResponse(f"/admin?done={message}", status_code=303)


@router.get("/admin", include_in_schema=False)
def admin_page(request: Request, db: SessionDep, admin: AdminDep, done: str = "") -> Response:
    """The login form, or, in a session, every action's form and the hidden articles."""
    feeds = queries.all_feeds(db)
    hidden = None
    if admin is not None:
        hidden = queries.hidden_articles(db)
    context = {"feeds": feeds, "hidden": hidden, "done": done, "admin": admin}
    return templates.TemplateResponse(request, "admin.html", context, headers=PRIVATE)


@router.post("/admin/login", include_in_schema=False)
def admin_login(request: Request, settings: SettingsDep, token: Annotated[str, Form()] = "") -> Response:
    """The one place the token is typed: wrong guesses count towards the client's limit."""
    check_token(request, settings, token)
    assert settings.admin_token is not None  # check_token refused otherwise
    cookie, _ = new_session(settings.admin_token, time.time())
    response = _done("logged in")
    set_cookie(request, response, cookie)
    return response


@router.post("/admin/logout", include_in_schema=False, dependencies=[FormToken])
def admin_logout(request: Request) -> Response:
    response = _done("logged out")
    clear_cookie(request, response)
    return response


@router.post("/admin/feeds", include_in_schema=False, dependencies=[FormToken])
def admin_add_feed(
    db: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    url: Annotated[str, Form()],
    source: Annotated[str, Form(min_length=1, max_length=64, pattern=PRINTABLE)],
    period: Annotated[float, Form(ge=60)] = 300,
    exclude: Annotated[str, Form()] = "",
) -> Response:
    patterns = [line.strip() for line in exclude.splitlines() if line.strip()]
    feed = add_feed_action(db, settings, url, source, period, patterns, now)
    return _done(f"feed {feed.id} saved")


@router.post("/admin/feeds/{feed_id}/delete", include_in_schema=False, dependencies=[FormToken])
def admin_remove_feed(db: SessionDep, feed_id: FeedId, now: NowDep) -> Response:
    remove_feed(db, feed_id, now)
    return _done(f"feed {feed_id} removed")


@router.post("/admin/track", include_in_schema=False, dependencies=[FormToken])
def admin_track(
    db: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    url: Annotated[str, Form()],
    source: Annotated[str, Form(max_length=64, pattern=PRINTABLE)] = "",
) -> Response:
    article, created = track_url(db, settings, url, source.strip() or None, now)
    return _done(f"{'tracking' if created else 'already tracking'} article {article.id}")


@router.post("/admin/hide", include_in_schema=False, dependencies=[FormToken])
def admin_hide(
    db: SessionDep,
    article: Annotated[int, Form(ge=1, le=MAX_ID)],
    reason: Annotated[str, Form(max_length=500, pattern=PRINTABLE)] = "",
) -> Response:
    set_hidden(db, article, True, reason.strip() or None)
    return _done(f"article {article} hidden")


@router.post("/admin/articles/{article_id}/unhide", include_in_schema=False, dependencies=[FormToken])
def admin_unhide(db: SessionDep, article_id: ArticleId) -> Response:
    set_hidden(db, article_id, False, None)
    return _done(f"article {article_id} shown again")


# --- JSON API ------------------------------------------------------------------------------------------------

api = APIRouter(prefix="/api/admin", tags=["admin"], dependencies=[Depends(bearer_token)])


class FeedIn(BaseModel):
    url: str = Field(max_length=4096)
    source: str = Field(min_length=1, max_length=64, pattern=PRINTABLE)
    period_seconds: float = Field(300, ge=60)
    exclude: list[str] = Field(default_factory=list, description="Regexes; matching article URLs are skipped")


class TrackIn(BaseModel):
    url: str = Field(max_length=4096)
    source: str | None = Field(None, max_length=64, pattern=PRINTABLE)


class HideIn(BaseModel):
    reason: str | None = Field(None, max_length=500, pattern=PRINTABLE, description="Shown on the 410 notice")


class Done(BaseModel):
    id: int
    message: str


@api.post("/feeds", response_model=Done)
def api_add_feed(body: FeedIn, db: SessionDep, settings: SettingsDep, now: NowDep) -> Done:
    feed = add_feed_action(db, settings, body.url, body.source, body.period_seconds, body.exclude, now)
    return Done(id=feed.id, message="feed saved")


@api.delete("/feeds/{feed_id}", response_model=Done)
def api_remove_feed(feed_id: FeedId, db: SessionDep, now: NowDep) -> Done:
    remove_feed(db, feed_id, now)
    return Done(id=feed_id, message="feed removed")


@api.post("/track", response_model=Done)
def api_track(body: TrackIn, db: SessionDep, settings: SettingsDep, now: NowDep) -> Done:
    article, created = track_url(db, settings, body.url, body.source, now)
    return Done(id=article.id, message="tracking" if created else "already tracking")


@api.post("/articles/{article_id}/hide", response_model=Done)
def api_hide(article_id: ArticleId, body: HideIn, db: SessionDep) -> Done:
    set_hidden(db, article_id, True, body.reason)
    return Done(id=article_id, message="hidden")


@api.post("/articles/{article_id}/unhide", response_model=Done)
def api_unhide(article_id: ArticleId, db: SessionDep) -> Done:
    set_hidden(db, article_id, False, None)
    return Done(id=article_id, message="shown again")


router.include_router(api)

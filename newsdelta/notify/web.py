"""The web side of notifications: share-card PNGs, subscriptions in the admin pages and API, the webhook's schema."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from newsdelta.diff.model import SpanOut
from newsdelta.notify.card import CardCache
from newsdelta.notify.dispatch import (
    add_subscription,
    delivery_report,
    remove_subscription,
)
from newsdelta.notify.message import pair_message
from newsdelta.notify.rules import KINDS
from newsdelta.store import queries
from newsdelta.vocabulary import ChangeKind, Origin
from newsdelta.web.admin import PRIVATE, AdminDep, admin_form, bearer_token
from newsdelta.web.admin_session import AdminSession
from newsdelta.web.deps import DiffsDep, NowDep, SessionDep
from newsdelta.web.render import templates

router = APIRouter()
CARD_HEADERS = {"cache-control": "public, max-age=86400"}


def cards(request: Request) -> CardCache:
    cache: CardCache = request.app.state.cards  # Starlette's app.state is untyped
    return cache


@router.get("/articles/{article_id}/diff/{old:int}/{new:int}.png", include_in_schema=False)
def share_card(
    article_id: int,
    old: int,
    new: int,
    db: SessionDep,
    diffs: DiffsDep,
    cache: Annotated[CardCache, Depends(cards)],
) -> Response:
    """The change from version `old` to `new` as a 1200×675 image, for social posts and the page's og:image."""
    article = queries.visible_article(db, article_id)
    old_version, new_version = queries.version_pair(db, article_id, old, new)
    message = pair_message(article, old_version, new_version, diffs.diff(old_version, new_version))
    return Response(cache.render(message), media_type="image/png", headers=CARD_HEADERS)


# --- admin pages ------------------------------------------------------------------------------------------------


def _admin_page(
    request: Request, db: Session, admin: AdminSession | None, *, done: str = "", secret: str = ""
) -> Response:
    context = {
        "subscriptions": delivery_report(db),
        "kinds": KINDS,
        "done": done,
        "secret": secret,
        "admin": admin,
    }
    return templates.TemplateResponse(request, "admin_notify.html", context, headers=PRIVATE)


@router.get("/admin/notifications", include_in_schema=False)
def admin_notifications(request: Request, db: SessionDep, admin: AdminDep, done: str = "") -> Response:
    return _admin_page(request, db, admin, done=done)


@router.post("/admin/notifications", include_in_schema=False, dependencies=[Depends(admin_form)])
def admin_subscribe(
    request: Request,
    db: SessionDep,
    admin: AdminDep,
    now: NowDep,
    url: Annotated[str, Form(max_length=4096)],
    kinds: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies form defaults)
    sources: Annotated[str, Form(max_length=500)] = "",
    url_pattern: Annotated[str, Form(max_length=500)] = "",
    term: Annotated[str, Form(max_length=200)] = "",
    min_change: Annotated[int, Form(ge=0)] = 0,
    digest: Annotated[str, Form()] = "",
) -> Response:
    """Answers with the page itself rather than a redirect, so the secret never travels in a URL."""
    try:
        subscription = add_subscription(
            db,
            url.strip(),
            now,
            sources=[name.strip() for name in sources.split(",") if name.strip()],
            url_pattern=url_pattern.strip() or None,
            term=term.strip() or None,
            kinds=kinds,
            min_change=min_change,
            digest=digest or None,
        )
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    db.commit()
    return _admin_page(
        request, db, admin, done=f"subscription {subscription.id} saved", secret=subscription.secret
    )


@router.post(
    "/admin/notifications/{subscription_id}/delete",
    include_in_schema=False,
    dependencies=[Depends(admin_form)],
)
def admin_unsubscribe(db: SessionDep, subscription_id: int) -> Response:
    remove_subscription(db, subscription_id)
    db.commit()
    return RedirectResponse(
        f"/admin/notifications?done=subscription {subscription_id} removed", status_code=303
    )


# --- admin API ------------------------------------------------------------------------------------------------

admin = APIRouter(prefix="/api/admin/subscriptions", tags=["admin"], dependencies=[Depends(bearer_token)])


class SubscriptionIn(BaseModel):
    url: str = Field(max_length=4096, description="http(s):// for the signed webhook, else any apprise URL")
    sources: list[str] = Field(default_factory=list)
    articles: list[int] = Field(default_factory=list)
    url_pattern: str | None = Field(None, max_length=500, description="Regex searched in the article's URL")
    term: str | None = Field(None, max_length=200, description="Only articles whose text mentions it")
    kinds: list[ChangeKind | Literal["any"]] = Field(default_factory=list)
    min_change: int = Field(0, ge=0, description="Minimum words deleted plus inserted")
    digest: Literal["hourly", "daily"] | None = None


class SubscriptionCreated(BaseModel):
    id: int
    secret: str = Field(description="HMAC-SHA256 key of the webhook's X-Newsdelta-Signature")


@admin.get("")
def api_list_subscriptions(db: SessionDep) -> list[dict[str, Any]]:
    return delivery_report(db)


@admin.post("", response_model=SubscriptionCreated)
def api_add_subscription(body: SubscriptionIn, db: SessionDep, now: NowDep) -> SubscriptionCreated:
    try:
        subscription = add_subscription(
            db,
            body.url,
            now,
            sources=body.sources,
            article_ids=body.articles,
            url_pattern=body.url_pattern,
            term=body.term,
            kinds=body.kinds,
            min_change=body.min_change,
            digest=body.digest,
        )
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    db.commit()
    return SubscriptionCreated(id=subscription.id, secret=subscription.secret)


@admin.delete("/{subscription_id}")
def api_remove_subscription(subscription_id: int, db: SessionDep) -> dict[str, int | str]:
    remove_subscription(db, subscription_id)
    db.commit()
    return {"id": subscription_id, "message": "subscription removed"}


# --- the webhook's body, in the OpenAPI schema ------------------------------------------------------------------


class ArticleRef(BaseModel):
    id: int
    url: str


class VersionRef(BaseModel):
    old: int
    new: int
    origin: Literal[Origin.FETCH, Origin.REMOVED]
    fetched_at: str


class Headline(BaseModel):
    old: str
    new: str


class ChangeEvent(BaseModel):
    """One change. Headers: X-Newsdelta-Id (= `id`, stable across retries: drop repeats),
    X-Newsdelta-Timestamp (Unix seconds) and X-Newsdelta-Signature: `sha256=` + hex HMAC-SHA256 of
    "<timestamp>.<raw body>" keyed with the subscription's secret. Answer 2xx; anything else is retried with
    backoff (30 s, doubling, at most an hour)."""

    type: Literal["change"]
    id: str = Field(description="newsdelta:<subscription>:<article>:<version number>")
    subscription: int
    source: str
    article: ArticleRef
    version: VersionRef
    kinds: list[str] = Field(description=f"Among {', '.join(KINDS)}")
    headline: Headline
    summary: str
    excerpt: list[list[SpanOut]] = Field(description="The first changed sentences as diff spans")
    permalink: str
    card: str = Field(description="The share card (PNG, 1200×675)")


class Period(BaseModel):
    start: str
    end: str


class DigestEvent(BaseModel):
    """Every change of one hour or day for a digest subscription; signed and identified like ChangeEvent,
    with id newsdelta:<subscription>:digest:<period start>."""

    type: Literal["digest"]
    id: str
    subscription: int
    period: Period
    changes: list[ChangeEvent]


def register(app: FastAPI) -> None:
    """Mount the routes (before the pages: the card's address extends the diff page's) and document the webhook."""
    app.state.cards = CardCache()
    app.include_router(router)
    app.include_router(admin)

    @app.webhooks.post("change")
    def change_event(body: ChangeEvent) -> None:
        """Sent to a subscription's http(s) URL for each matching change."""

    @app.webhooks.post("digest")
    def digest_event(body: DigestEvent) -> None:
        """Sent to a digest subscription's http(s) URL once per period with changes."""

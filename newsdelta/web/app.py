"""The web application: HTML pages, feeds, the JSON API and admin actions on one read-mostly store.

Article text is hostile input: templates autoescape it, diff spans are escaped by the diff renderer, raw
pages are served as sandboxed plain text, and every response carries a strict Content-Security-Policy (the
site has no JavaScript at all, so scripts are simply not allowed).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsdelta.config import Settings, public_base_url
from newsdelta.metrics import metrics_app
from newsdelta.notify import web as notify_web
from newsdelta.runtime import evidence_store, open_store
from newsdelta.store.queries import HiddenArticle
from newsdelta.store.repository import NotFound
from newsdelta.web import admin, api, pages, syndication, websub
from newsdelta.web.diffing import DiffCache
from newsdelta.web.params import READABLE_ERRORS
from newsdelta.web.render import templates
from newsdelta.web.throttle import FailureWindow

HERE = Path(__file__).parent

SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "interest-cohort=()",
}


class SecurityHeaders:
    """Adds the headers above to every HTTP response that has not set its own (the raw page sets a stricter CSP)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.headers = [(name.encode(), value.encode()) for name, value in SECURITY_HEADERS.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in self.headers if name not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _wants(request: Request) -> str:
    path = request.url.path
    if path.startswith("/api/"):
        return "json"
    if path.endswith((".rss", ".atom")) or path.endswith("/raw"):
        return "text"
    return "html"


def _error(request: Request, status: int, title: str, message: str) -> Response:
    kind = _wants(request)
    if kind == "json":
        return JSONResponse({"detail": message}, status_code=status)
    if kind == "text":
        return PlainTextResponse(f"{title}. {message}\n", status_code=status)
    return templates.TemplateResponse(
        request, "error.html", {"title": title, "message": message}, status_code=status
    )


async def _not_found(request: Request, exc: Exception) -> Response:
    return _error(request, 404, "Not found", str(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    response = _error(request, exc.status_code, HTTPStatus(exc.status_code).phrase, str(exc.detail))
    response.headers.update(exc.headers or {})
    return response


async def _bad_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if any(error["loc"][0] == "path" and error["type"] == "int_parsing" for error in exc.errors()):
        return _error(request, 404, "Not found", f"no such page: {request.url.path}")  # /articles/abc
    if _wants(request) == "json":
        return await request_validation_exception_handler(request, exc)
    problems = "; ".join(
        f"{'.'.join(map(str, error['loc'][1:]))}: {READABLE_ERRORS.get(error['type'], error['msg'])}"
        for error in exc.errors()
    )
    return _error(request, 422, "Bad request", problems)


async def _hidden(request: Request, exc: Exception) -> Response:
    reason = getattr(exc, "reason", None) or "It was hidden by the site's administrators."
    return _error(request, 410, "This article is no longer available", reason)


def create_app(
    settings: Settings,
    sessions: sessionmaker[Session] | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
) -> FastAPI:
    """The ASGI app over `sessions` (or the configured database, migrated to the newest schema).

    `clock` is what "now" means for "N minutes ago" and the health page: the demo passes its fast-forwarded one.
    """
    base_url = public_base_url(settings.base_url) if settings.base_url else None
    app = FastAPI(
        servers=[{"url": base_url}] if base_url else None,
        title="newsdelta",
        summary="Every version of news articles, and what changed between them.",
        version="1",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.settings = settings
    app.state.base_url = base_url
    app.state.sessions = sessions or open_store(settings)
    app.state.evidence = evidence_store(settings)
    app.state.diffs = DiffCache(max_bytes=int(settings.diff_cache_mb * 2**20))
    app.state.token_failures = FailureWindow()
    app.state.clock = clock or (lambda: datetime.now(UTC))
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(HiddenArticle, _hidden)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _bad_request)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.mount("/metrics", metrics_app)  # this process's counters: the demo's crawl, or the site alone
    notify_web.register(app)  # before the pages: a share card's address extends its diff page's
    for router in (pages.router, syndication.router, api.router, admin.router, websub.router):
        app.include_router(router)
    # zlib's default level, not Starlette's 9: a live blog's whole-text diff (160 KB) is 30.0 KB instead of 29.7 KB,
    # compressed in 6 ms of CPU instead of 18 ms.
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=6)
    app.add_middleware(SecurityHeaders)
    return app


def serve(settings: Settings, host: str, port: int, sessions: sessionmaker[Session] | None = None) -> None:
    """Run the site with uvicorn until interrupted (`demo` passes the sessions its crawler writes through)."""
    import uvicorn

    uvicorn.run(create_app(settings, sessions), host=host, port=port, log_level="info", proxy_headers=True)

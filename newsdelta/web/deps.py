"""Request-scoped access to the store, the settings, the diff cache and the site's own address."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit, urlunsplit

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from newsdelta.config import Settings
from newsdelta.store.evidence import EvidenceStore
from newsdelta.web.diffing import DiffCache


def session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as db:
        yield db


def evidence(request: Request, db: Annotated[Session, Depends(session)]) -> EvidenceStore:
    """The evidence store, over the request's session (one session per request: FastAPI shares it)."""
    store: EvidenceStore = request.app.state.evidence(db)
    return store


def settings(request: Request) -> Settings:
    return request.app.state.settings


def diffs(request: Request) -> DiffCache:
    return request.app.state.diffs


def now(request: Request) -> datetime:
    return request.app.state.clock()


def public_base_url(value: str) -> str:
    """The configured base URL, checked and without a trailing slash; ValueError saying what is wrong."""
    parts = urlsplit(value.strip())
    try:
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number in range
    except ValueError as exc:
        raise ValueError(f"base URL {value!r}: {exc}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"base URL {value!r} is not an absolute http(s) URL")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"base URL {value!r} must have no query, fragment or credentials")
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def site_url(request: Request, path: str = "") -> str:
    """An absolute link to `path` on this site: under the configured base URL, else under the address the
    request came to (whose Host header the client chose, so a shared cache could be poisoned with it)."""
    base = request.app.state.base_url or str(request.base_url).rstrip("/")
    return base + path


def page_url(request: Request) -> str:
    """The absolute address of the page being served, query included: feeds' self links, canonical links."""
    query = request.url.query
    return site_url(request, request.url.path + (f"?{query}" if query else ""))


SessionDep = Annotated[Session, Depends(session)]
EvidenceDep = Annotated[EvidenceStore, Depends(evidence)]
SettingsDep = Annotated[Settings, Depends(settings)]
DiffsDep = Annotated[DiffCache, Depends(diffs)]
NowDep = Annotated[datetime, Depends(now)]

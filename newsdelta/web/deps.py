"""Request-scoped access to the store, the settings, the diff cache and the site's own address."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated

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


# Starlette's app.state is untyped: each accessor names the type create_app stored there.
def settings(request: Request) -> Settings:
    value: Settings = request.app.state.settings
    return value


def diffs(request: Request) -> DiffCache:
    cache: DiffCache = request.app.state.diffs
    return cache


def now(request: Request) -> datetime:
    clock: Callable[[], datetime] = request.app.state.clock
    return clock()


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

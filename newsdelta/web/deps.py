"""Request-scoped access to the store, the settings and the diff cache."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from newsdelta.config import Settings
from newsdelta.web.diffing import DiffCache


def session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as db:
        yield db


def settings(request: Request) -> Settings:
    return request.app.state.settings


def diffs(request: Request) -> DiffCache:
    return request.app.state.diffs


def now(request: Request) -> datetime:
    return request.app.state.clock()


SessionDep = Annotated[Session, Depends(session)]
SettingsDep = Annotated[Settings, Depends(settings)]
DiffsDep = Annotated[DiffCache, Depends(diffs)]
NowDep = Annotated[datetime, Depends(now)]

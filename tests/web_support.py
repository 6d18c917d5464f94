"""Shared fixtures of the web tests: a migrated SQLite store filled by newsdelta.web.fixtures, and an app on it;
a fresh PostgreSQL database for the tests that need one."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import service_up
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from newsdelta.config import Settings
from newsdelta.store.db import open_database
from newsdelta.web.app import create_app
from newsdelta.web.fixtures import Seeded, seed_demo

TOKEN = "test-admin-token"


@dataclass
class Demo:
    sessions: sessionmaker[Session]
    ids: Seeded
    client: TestClient


@pytest.fixture
def demo(tmp_path: Path, corpus: Path) -> Iterator[Demo]:
    sessions = open_database(f"sqlite:///{tmp_path / 'web.sqlite3'}")
    ids = seed_demo(sessions, corpus)
    with TestClient(create_app(Settings(admin_token=TOKEN), sessions)) as client:
        yield Demo(sessions, ids, client)


@contextmanager
def postgres_database() -> Iterator[sessionmaker[Session]]:
    """A migrated, empty database of its own on the local PostgreSQL, dropped afterwards; skips without one."""
    if not service_up("127.0.0.1", 5432):
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    name = f"newsdelta_web_{uuid.uuid4().hex[:10]}"
    admin = create_engine(
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    sessions = open_database(f"postgresql://postgres@127.0.0.1:5432/{name}")
    try:
        yield sessions
    finally:
        sessions.kw["bind"].dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_sessions() -> Iterator[sessionmaker[Session]]:
    with postgres_database() as sessions:
        yield sessions


def admin_login(client: TestClient, token: str = TOKEN) -> dict[str, str]:
    """Enter the token on /admin as a browser would; the CSRF field every admin form of the session carries."""
    client.post("/admin/login", data={"token": token})
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', client.get("/admin").text)
    assert found, "no admin session after logging in"
    return {"csrf": found.group(1)}


def text_of(html: str) -> str:
    """The page's visible text with tags removed and whitespace folded: what a reader sees."""
    without_tags = re.sub(r"<[^>]+>", "", html)
    for entity, char in (("&#39;", "'"), ("&quot;", '"'), ("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&")):
        without_tags = without_tags.replace(entity, char)
    return re.sub(r"\s+", " ", without_tags)

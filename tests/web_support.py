"""Shared fixtures of the web tests: a migrated SQLite store filled by newsdelta.web.fixtures, and an app on it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
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


def text_of(html: str) -> str:
    """The page's visible text with tags removed and whitespace folded: what a reader sees."""
    without_tags = re.sub(r"<[^>]+>", "", html)
    for entity, char in (("&#39;", "'"), ("&quot;", '"'), ("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&")):
        without_tags = without_tags.replace(entity, char)
    return re.sub(r"\s+", " ", without_tags)

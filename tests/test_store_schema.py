"""The Alembic migrations build exactly the schema the models describe, so autogenerate stays quiet."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from newsdelta.store.db import open_database
from newsdelta.store.models import Base

# Search tables are created by migration 0002 with raw SQL (FTS5 on SQLite); the models do not describe them.
SEARCH_TABLES = ("version_fts",)


def test_migrated_sqlite_schema_matches_the_models(tmp_path: Path) -> None:
    sessions = open_database(f"sqlite:///{tmp_path / 'schema.sqlite3'}")
    with sessions().bind.connect() as connection:  # type: ignore[union-attr]
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in differences if not any(table in str(d) for table in SEARCH_TABLES)] == []


def test_migrating_twice_is_harmless(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'twice.sqlite3'}"
    open_database(url)
    open_database(url)

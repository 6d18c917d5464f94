"""The Alembic migrations build exactly the schema the models describe, so autogenerate stays quiet."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from newsdelta.store.db import alembic_config, make_engine, open_database
from newsdelta.store.models import Base, Notification, Version, VersionChange

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


def test_0009_keeps_every_row_and_the_search_triggers(tmp_path: Path) -> None:
    """Dropping version's foreign key rebuilds the table on SQLite: rows citing it and search must survive."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = make_engine(url)
    config = alembic_config(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0008")
        for statement in OLD_ROWS:
            connection.exec_driver_sql(statement)
    sessions = open_database(url)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Notification)) == 1
        assert session.scalar(select(func.count()).select_from(VersionChange)) == 1
        assert search_hits(session, "zebracorn") == [1]
        session.execute(update(Version).values(title="Platypus news"))
        assert search_hits(session, "platypus") == [1]
        session.add(Version(**{**NEW_VERSION, "raw_sha256": "f" * 64}))  # kept outside the database
        session.commit()
        assert search_hits(session, "wombat") == [2]


OLD_ROWS = [
    "INSERT INTO source (id, name, created_at) VALUES (1, 'bbc', '2026-01-01 00:00:00')",
    "INSERT INTO article (id, source_id, url, first_seen_at, state, check_period_seconds, error_streak,"
    " version_count, hidden) VALUES (1, 1, 'https://example.org/a', '2026-01-01 00:00:00', 'live', 1800, 0, 1, 0)",
    "INSERT INTO raw_page (sha256, compressed, codec, depth, size, first_seen_at)"
    f" VALUES ('{'a' * 64}', x'00', 'zstd', 0, 1, '2026-01-01 00:00:00')",
    "INSERT INTO version (id, article_id, number, origin, title, paragraphs, text_hash, fetched_at, http_status,"
    f" raw_sha256) VALUES (1, 1, 0, 'fetch', 'Zebracorn news', '[\"p\"]', 'h0', '2026-01-01 00:00:00', 200, '{'a' * 64}')",
    "INSERT INTO subscription (id, url, secret, sources, article_ids, kinds, min_change, created_at, cursor,"
    " failure_streak) VALUES (1, 'json://x', 's', '[]', '[]', '[]', 0, '2026-01-01 00:00:00', 1, 0)",
    "INSERT INTO notification (id, subscription_id, article_id, version_id, version_number, fetched_at,"
    " created_at, attempts, next_attempt_at) VALUES (1, 1, 1, 1, 0, '2026-01-01 00:00:00',"
    " '2026-01-01 00:00:00', 0, '2026-01-01 00:00:00')",
    "INSERT INTO version_change (version_id, algorithm, size_words, additions, deletions, edits, refactors,"
    " kinds, sentences) VALUES (1, 1, 0, 0, 0, 0, 0, '[]', '[]')",
]
NEW_VERSION = {
    "article_id": 1,
    "number": 1,
    "origin": "fetch",
    "title": "Wombat news",
    "paragraphs": ["q"],
    "text_hash": "h1",
    "fetched_at": datetime(2026, 1, 2, tzinfo=UTC),
    "http_status": 200,
}


def search_hits(session: Session, word: str) -> list[int]:
    return list(
        session.scalars(text("SELECT rowid FROM version_fts WHERE version_fts MATCH :w"), {"w": word})
    )

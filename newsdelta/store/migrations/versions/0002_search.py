"""full-text search over version titles and text

SQLite: an FTS5 table kept in step with `version` by triggers, so the crawler writes versions as before and
search stays current. It is contentless (the text already lives in `version`), so the index costs no second
copy; rows are keyed by version id. PostgreSQL: a GIN index on the same document as an expression, which the
search query repeats verbatim so the planner uses it.

Also a covering index for an article's version table: `paragraphs` sits in the middle of each row, so on
SQLite reading `fetched_at` and the columns after it walks the body's overflow pages — 50 versions of a long
live blog cost megabytes of reads per article page without it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The body as one string: the JSON array of paragraphs joined by newlines.
_SQLITE_BODY = "(SELECT group_concat(value, char(10)) FROM json_each({row}.paragraphs))"

_SQLITE_UP = [
    "CREATE VIRTUAL TABLE version_fts USING fts5("
    "title, body, content='', tokenize='unicode61 remove_diacritics 2')",
    f"""CREATE TRIGGER version_fts_insert AFTER INSERT ON version BEGIN
        INSERT INTO version_fts(rowid, title, body) VALUES (new.id, new.title, {_SQLITE_BODY.format(row="new")});
    END""",
    f"""CREATE TRIGGER version_fts_delete AFTER DELETE ON version BEGIN
        INSERT INTO version_fts(version_fts, rowid, title, body)
        VALUES ('delete', old.id, old.title, {_SQLITE_BODY.format(row="old")});
    END""",
    f"""CREATE TRIGGER version_fts_update AFTER UPDATE OF title, paragraphs ON version BEGIN
        INSERT INTO version_fts(version_fts, rowid, title, body)
        VALUES ('delete', old.id, old.title, {_SQLITE_BODY.format(row="old")});
        INSERT INTO version_fts(rowid, title, body) VALUES (new.id, new.title, {_SQLITE_BODY.format(row="new")});
    END""",
    f"INSERT INTO version_fts(rowid, title, body) SELECT id, title, {_SQLITE_BODY.format(row='version')} FROM version",
]

_SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS version_fts_update",
    "DROP TRIGGER IF EXISTS version_fts_delete",
    "DROP TRIGGER IF EXISTS version_fts_insert",
    "DROP TABLE IF EXISTS version_fts",
]

# Must match newsdelta.store.search.PG_SEARCH_DOCUMENT character for character. to_tsvector over the JSON
# array indexes its strings with escapes decoded; paragraphs::text would keep \u escapes and miss non-ASCII words.
_PG_DOCUMENT = "(setweight(to_tsvector('english'::regconfig, title), 'A') || to_tsvector('english'::regconfig, paragraphs))"


_LISTING_COLUMNS = ["article_id", "number", "fetched_at", "origin", "http_status", "raw_sha256", "title"]


def upgrade() -> None:
    op.create_index("ix_version_listing", "version", _LISTING_COLUMNS)
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in _SQLITE_UP:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute(f"CREATE INDEX ix_version_search ON version USING gin ({_PG_DOCUMENT})")


def downgrade() -> None:
    op.drop_index("ix_version_listing", "version")
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in _SQLITE_DOWN:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_version_search")

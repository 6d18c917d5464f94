"""a version's raw page may live outside the database: no foreign key from version to raw_page;
Save Page Now's outbox and each version's Internet Archive capture

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

import importlib.util
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FK = "fk_version_raw_sha256_raw_page"


def _rebuild_version(change: Callable[[Any], None]) -> None:
    """SQLite rebuilds the table to change a constraint, which drops its search triggers: 0002's come back."""
    with op.batch_alter_table("version") as batch:
        change(batch)
    if op.get_bind().dialect.name == "sqlite":
        spec = importlib.util.spec_from_file_location(
            "search_0002", Path(__file__).with_name("0002_search.py")
        )
        search = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(search)  # type: ignore[union-attr]
        for statement in search._SQLITE_UP:
            if statement.startswith("CREATE TRIGGER"):
                op.execute(statement)


def upgrade() -> None:
    _rebuild_version(lambda batch: batch.drop_constraint(FK, type_="foreignkey"))
    with op.batch_alter_table("version") as batch:
        batch.add_column(sa.Column("archive_url", sa.Text(), nullable=True))
    op.create_table(
        "archive_cursor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_cursor")),
    )
    op.create_table(
        "archive_submission",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("job_id", sa.String(length=128), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["version.id"],
            name=op.f("fk_archive_submission_version_id_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", name=op.f("pk_archive_submission")),
    )
    op.create_index("ix_archive_submission_due", "archive_submission", ["done_at", "next_attempt_at"])


def downgrade() -> None:
    missing = op.get_bind().scalar(
        sa.text(
            "SELECT count(*) FROM version v WHERE v.raw_sha256 IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM raw_page r WHERE r.sha256 = v.raw_sha256)"
        )
    )
    if missing:
        raise RuntimeError(f"{missing} versions cite raw pages kept outside the database; not downgrading")
    op.drop_index("ix_archive_submission_due", "archive_submission")
    op.drop_table("archive_submission")
    op.drop_table("archive_cursor")
    with op.batch_alter_table("version") as batch:
        batch.drop_column("archive_url")
    _rebuild_version(lambda batch: batch.create_foreign_key(FK, "raw_page", ["raw_sha256"], ["sha256"]))

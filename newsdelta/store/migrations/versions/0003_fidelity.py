"""fidelity: volatile-text rules, per-source paragraph counts, the charset of each version's fetch

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN: a batch copy of `version` would drop the search triggers of 0002 on SQLite.
    op.add_column("version", sa.Column("charset", sa.String(length=64), nullable=True))
    op.create_table(
        "volatile_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("pattern", sa.Text(), nullable=False),
        sa.Column("masked", sa.Text(), nullable=False),
        sa.Column("learned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["article.id"],
            name=op.f("fk_volatile_rule_article_id_article"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["source_id"], ["source.id"], name=op.f("fk_volatile_rule_source_id_source")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volatile_rule")),
        sa.UniqueConstraint("article_id", "key", name="uq_volatile_rule_article_key"),
    )
    op.create_index(op.f("ix_volatile_rule_article_id"), "volatile_rule", ["article_id"])
    op.create_index(op.f("ix_volatile_rule_source_id"), "volatile_rule", ["source_id"])
    op.create_table(
        "source_paragraph",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("paragraph_key", sa.String(length=64), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["article.id"],
            name=op.f("fk_source_paragraph_article_id_article"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_source_paragraph_source_id_source")
        ),
        sa.PrimaryKeyConstraint("source_id", "paragraph_key", "article_id", name=op.f("pk_source_paragraph")),
    )
    op.create_index(op.f("ix_source_paragraph_article_id"), "source_paragraph", ["article_id"])


def downgrade() -> None:
    op.drop_table("source_paragraph")
    op.drop_table("volatile_rule")
    op.drop_column("version", "charset")

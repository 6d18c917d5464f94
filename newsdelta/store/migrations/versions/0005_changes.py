"""sentence alignments and change kinds per version

The rows are computed in Python (`newsdelta changes backfill`), not here: a migration must stay quick.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "version_change",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("previous_number", sa.Integer(), nullable=True),
        sa.Column("algorithm", sa.Integer(), nullable=False),
        sa.Column("size_words", sa.Integer(), nullable=False),
        sa.Column("additions", sa.Integer(), nullable=False),
        sa.Column("deletions", sa.Integer(), nullable=False),
        sa.Column("edits", sa.Integer(), nullable=False),
        sa.Column("refactors", sa.Integer(), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("sentences", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["version.id"],
            name=op.f("fk_version_change_version_id_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", name=op.f("pk_version_change")),
    )
    op.create_index(op.f("ix_version_change_size_words"), "version_change", ["size_words"])
    op.create_table(
        "version_kind",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["version.id"],
            name=op.f("fk_version_kind_version_id_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", "kind", name=op.f("pk_version_kind")),
    )
    op.create_index("ix_version_kind_kind", "version_kind", ["kind", "version_id"])


def downgrade() -> None:
    op.drop_index("ix_version_kind_kind", "version_kind")
    op.drop_table("version_kind")
    op.drop_index(op.f("ix_version_change_size_words"), "version_change")
    op.drop_table("version_change")

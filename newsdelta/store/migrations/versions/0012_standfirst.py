"""versions keep the standfirst (the summary under the headline) apart from the body

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN: a batch copy of `version` would drop the search triggers of 0002 on SQLite. Versions
    # stored before have none (NULL), which hashes as before: their text hashes stay valid.
    op.add_column("version", sa.Column("standfirst", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("version", "standfirst")

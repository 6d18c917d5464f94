"""Leases alike for every claimable row: feeds and WebSub subscriptions get the owner articles have

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30

Only columns are added: a lease taken before the upgrade keeps its expiry and simply has no owner, so it runs
out as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("feed", "websub_subscription")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("lease_owner", sa.String(length=128), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("lease_owner")

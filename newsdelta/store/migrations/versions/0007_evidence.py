"""full HTTP records with each version; zstd and delta-compressed raw pages

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("raw_page") as batch:
        batch.add_column(sa.Column("codec", sa.String(length=16), server_default="zlib", nullable=False))
        batch.add_column(sa.Column("base_sha256", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("depth", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("version") as batch:
        batch.add_column(sa.Column("exchange", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("remote_ip", sa.String(length=45), nullable=True))


def downgrade() -> None:
    packed = op.get_bind().scalar(sa.text("SELECT count(*) FROM raw_page WHERE codec != 'zlib'"))
    if packed:
        raise RuntimeError(f"{packed} raw pages are zstd-packed; 0004 cannot read them, so they are kept")
    with op.batch_alter_table("version") as batch:
        batch.drop_column("remote_ip")
        batch.drop_column("exchange")
    with op.batch_alter_table("raw_page") as batch:
        batch.drop_column("depth")
        batch.drop_column("base_sha256")
        batch.drop_column("codec")

"""the check log keeps per-version spans and per-source hourly counters; detailed check rows become a window
of the checks that tell more (store/checklog.py)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""

from collections.abc import Sequence
from itertools import islice

import sqlalchemy as sa
from alembic import op

from newsdelta.store.checklog import LoggedCheck, spans_of

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 10_000

checks = sa.table(
    "article_check",
    sa.column("id", sa.Integer),
    sa.column("article_id", sa.Integer),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("outcome", sa.String),
    sa.column("http_status", sa.Integer),
    sa.column("version_number", sa.Integer),
)
articles = sa.table("article", sa.column("id", sa.Integer), sa.column("source_id", sa.Integer))


def upgrade() -> None:
    span_table = op.create_table(
        "check_span",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=True),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checks", sa.Integer(), nullable=False),
        sa.Column("first_outcome", sa.String(length=16), nullable=False),
        sa.Column("last_outcome", sa.String(length=16), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["article.id"],
            name=op.f("fk_check_span_article_id_article"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_span")),
    )
    op.create_index("ix_check_span_article", "check_span", ["article_id", "id"], unique=False)
    count_table = op.create_table(
        "check_count",
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("checks", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["source.id"],
            name=op.f("fk_check_count_source_id_source"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("hour", "source_id", "outcome", name=op.f("pk_check_count")),
    )
    _convert_existing_checks(span_table)
    _count_existing_checks(count_table)


def _convert_existing_checks(span_table: sa.Table) -> None:
    """Every existing check row goes into a span (the rows themselves stay, for the crawl to prune)."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            checks.c.article_id, checks.c.at, checks.c.outcome, checks.c.http_status, checks.c.version_number
        )
        .order_by(checks.c.article_id, checks.c.at, checks.c.id)
        .execution_options(yield_per=BATCH)
    )
    spans = spans_of(LoggedCheck(*row) for row in rows)
    while batch := list(islice(spans, BATCH)):
        connection.execute(span_table.insert(), batch)


def _count_existing_checks(count_table: sa.Table) -> None:
    """Every existing check row is counted in its source's hour (pruning drops the hours before the window)."""
    connection = op.get_bind()
    # Not a bound parameter: PostgreSQL groups by the same expression as it selects.
    seconds: sa.ColumnElement[int] = sa.literal_column("3600", sa.Integer)
    hour: sa.ColumnElement[int]
    if connection.dialect.name == "postgresql":
        hour = sa.cast(sa.func.floor(sa.extract("epoch", checks.c.at) / seconds), sa.Integer)
    else:  # SQLite keeps naive UTC text; strftime's whole seconds, divided as integers
        epoch = sa.cast(sa.func.strftime(sa.literal_column("'%s'"), checks.c.at), sa.Integer)
        hour = sa.cast(epoch / seconds, sa.Integer)
    counted = (
        sa.select(hour, articles.c.source_id, checks.c.outcome, sa.func.count())
        .join(articles, articles.c.id == checks.c.article_id)
        .group_by(hour, articles.c.source_id, checks.c.outcome)
    )
    connection.execute(count_table.insert().from_select(["hour", "source_id", "outcome", "checks"], counted))


def downgrade() -> None:
    op.drop_table("check_count")
    op.drop_index("ix_check_span_article", table_name="check_span")
    op.drop_table("check_span")

"""Alembic environment: runs on the connection handed over by newsdelta.store.db.upgrade, or on the URL."""

from alembic import context
from sqlalchemy import Connection, create_engine

from newsdelta.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection: Connection | None = config.attributes.get("connection")
    if connection is None:
        url = config.get_main_option("sqlalchemy.url")
        if url is None:
            raise RuntimeError("alembic: no connection handed over and no sqlalchemy.url configured")
        with create_engine(url).begin() as own:
            _run(own)
    else:
        _run(connection)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()

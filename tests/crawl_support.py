"""Shared helpers for crawl tests: a store on a fresh SQLite file and a fetcher that never sleeps long."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from newsdelta.fetch import Fetcher
from newsdelta.store.db import open_database


def sqlite_store(directory: Path) -> sessionmaker[Session]:
    return open_database(f"sqlite:///{directory / 'newsdelta.sqlite3'}")


def fast_fetcher(**options: object) -> Fetcher:
    """Polite in every way but time: no spacing between requests and millisecond retry back-off."""
    defaults: dict[str, object] = {"per_host_delay": 0.0, "backoff_base": 0.01, "timeout": 5.0}
    defaults.update(options)
    return Fetcher("newsdelta-tests/0 (+http://127.0.0.1/)", **defaults)  # type: ignore[arg-type]

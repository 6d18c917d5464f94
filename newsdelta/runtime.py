"""Build the long-lived pieces (store, fetcher, crawl context) from Settings, in one place for every command."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from newsdelta.config import Settings
from newsdelta.crawl import CrawlContext
from newsdelta.fetch import Fetcher
from newsdelta.fetch.client import default_user_agent
from newsdelta.store.db import open_database


def open_store(settings: Settings) -> sessionmaker[Session]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return open_database(settings.database_url)


def make_fetcher(settings: Settings, **overrides: object) -> Fetcher:
    options: dict[str, object] = {
        "per_host_concurrency": settings.per_host_concurrency,
        "per_host_delay": settings.per_host_delay,
        "address_policy": settings.address_policy,
    }
    options.update(overrides)
    return Fetcher(default_user_agent(settings.contact_url), **options)  # type: ignore[arg-type]


def make_context(
    settings: Settings, sessions: sessionmaker[Session], fetcher: Fetcher, **fields: object
) -> CrawlContext:
    return CrawlContext(
        sessions=sessions,
        fetcher=fetcher,
        policy=settings.policy,
        feed_max_items=settings.feed_max_items,
        check_retention=settings.check_retention,
        **fields,  # type: ignore[arg-type]
    )

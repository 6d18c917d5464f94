"""Build the long-lived pieces (store, fetcher, crawl context) from Settings, in one place for every command."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from newsdelta.config import Settings
from newsdelta.crawl import CrawlContext
from newsdelta.crawl.context import PageFetcher
from newsdelta.crawl.wayback import ArchiveKeys
from newsdelta.fetch import Fetcher
from newsdelta.fetch.client import default_user_agent
from newsdelta.store.db import open_database
from newsdelta.store.evidence import EvidenceOpener
from newsdelta.store.evidence_stores import evidence_opener


def open_store(settings: Settings) -> sessionmaker[Session]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return open_database(settings.database_url)


def evidence_store(settings: Settings) -> EvidenceOpener:
    """The configured evidence store (NEWSDELTA_EVIDENCE); ValueError naming what is wrong with its URL."""
    return evidence_opener(settings.evidence_url)


def archive_keys(settings: Settings) -> ArchiveKeys | None:
    """Save Page Now's keys: None (off) unless both are configured."""
    if not (settings.ia_access_key and settings.ia_secret_key):
        return None
    return ArchiveKeys(
        settings.ia_access_key, settings.ia_secret_key, settings.ia_endpoint, settings.address_policy
    )


def make_fetcher(settings: Settings, **overrides: object) -> Fetcher:
    options: dict[str, object] = {
        "per_host_concurrency": settings.per_host_concurrency,
        "per_host_delay": settings.per_host_delay,
        "address_policy": settings.address_policy,
    }
    options.update(overrides)
    return Fetcher(default_user_agent(settings.contact_url), **options)  # type: ignore[arg-type]


def make_context(
    settings: Settings, sessions: sessionmaker[Session], fetcher: PageFetcher, **fields: object
) -> CrawlContext:
    return CrawlContext(
        sessions=sessions,
        fetcher=fetcher,
        policy=settings.policy,
        feed_max_items=settings.feed_max_items,
        evidence=evidence_store(settings),
        archive=archive_keys(settings),
        **fields,  # type: ignore[arg-type]
    )

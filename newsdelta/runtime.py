"""Build the long-lived pieces (store, fetcher, crawl context) from Settings, in one place for every command."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TypedDict, Unpack

from sqlalchemy.orm import Session, sessionmaker

from newsdelta.config import Settings, public_base_url
from newsdelta.crawl import CrawlContext
from newsdelta.crawl.context import PageFetcher
from newsdelta.crawl.wayback import ArchiveKeys
from newsdelta.fetch import Fetcher
from newsdelta.fetch.client import default_user_agent
from newsdelta.store.db import open_database
from newsdelta.store.evidence import EvidenceOpener
from newsdelta.store.evidence_stores import evidence_opener

log = logging.getLogger(__name__)


class FetcherOptions(TypedDict, total=False):
    """What a caller may tune beyond Settings (the demo's simulated day retries fast)."""

    backoff_base: float


class ContextOptions(TypedDict, total=False):
    """What a caller may set beyond Settings: a simulated clock, a lease owner's name."""

    clock: Callable[[], datetime]
    owner: str


def open_store(settings: Settings, *, migrate: bool = True) -> sessionmaker[Session]:
    """The configured database; `migrate=False` for processes that only join a deployment (a worker, `status`):
    the one that starts it (the scheduler, the crawl, the web site) brings the schema up to date."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return open_database(settings.database_url, migrate=migrate)


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


def make_fetcher(settings: Settings, **options: Unpack[FetcherOptions]) -> Fetcher:
    return Fetcher(
        default_user_agent(settings.contact_url),
        per_host_concurrency=settings.per_host_concurrency,
        per_host_delay=settings.per_host_delay,
        address_policy=settings.address_policy,
        **options,
    )


def make_context(
    settings: Settings,
    sessions: sessionmaker[Session],
    fetcher: PageFetcher,
    **options: Unpack[ContextOptions],
) -> CrawlContext:
    """ValueError when the base URL (which turns WebSub on) is not an absolute http(s) URL."""
    base_url = public_base_url(settings.base_url) if settings.base_url else None
    if base_url is None:
        log.info("WebSub off: hubs are recorded, not subscribed to, without NEWSDELTA_BASE_URL")
    return CrawlContext(
        sessions=sessions,
        fetcher=fetcher,
        policy=settings.policy,
        feed_max_items=settings.feed_max_items,
        websub_base_url=base_url,
        evidence=evidence_store(settings),
        archive=archive_keys(settings),
        check_retention=settings.check_retention,
        **options,
    )

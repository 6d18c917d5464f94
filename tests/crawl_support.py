"""Shared helpers for crawl tests: a store on a fresh SQLite file and a fetcher that never sleeps long."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from newsdelta.crawl import CrawlContext
from newsdelta.fetch import Fetcher
from newsdelta.schedule import Policy
from newsdelta.store.db import open_database
from newsdelta.store.evidence import EvidenceOpener
from newsdelta.store.evidence_db import DatabaseEvidence
from newsdelta.testing.drive import crawl_until, register_newsroom
from newsdelta.testing.newsroom import Newsroom


def sqlite_store(directory: Path) -> sessionmaker[Session]:
    return open_database(f"sqlite:///{directory / 'newsdelta.sqlite3'}")


def fast_fetcher(**options: object) -> Fetcher:
    """Polite in every way but time: no spacing between requests and millisecond retry back-off."""
    defaults: dict[str, object] = {"per_host_delay": 0.0, "backoff_base": 0.01, "timeout": 5.0}
    defaults.update(options)
    return Fetcher("newsdelta-tests/0 (+http://127.0.0.1/)", **defaults)  # type: ignore[arg-type]


def crawl_scripted_day(
    sessions: sessionmaker[Session],
    newsroom: Newsroom,
    hours: float = 24,
    evidence: EvidenceOpener = DatabaseEvidence,
    policy: Policy | None = None,
) -> Any:
    """Register the newsroom's feed and crawl its script for `hours` on its clock (under `policy`, else the
    default schedule), keeping raw pages in `evidence`; the crawl's totals."""
    register_newsroom(sessions, newsroom, period=600)

    async def crawl() -> Any:
        async with fast_fetcher() as fetcher:
            ctx = CrawlContext(
                sessions=sessions, fetcher=fetcher, clock=newsroom.clock.now, evidence=evidence
            )
            if policy is not None:
                ctx.policy = policy
            return await crawl_until(ctx, newsroom, newsroom.script.start + timedelta(hours=hours))

    return asyncio.run(crawl())

"""Everything a check or a feed poll needs, passed explicitly so tests can swap the clock and the network."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from newsdelta.config import FEED_MAX_ITEMS
from newsdelta.crawl.wayback import ArchiveKeys
from newsdelta.extract import Extracted, extract
from newsdelta.fetch import FetchResult
from newsdelta.schedule import LearnedPolicy, Policy
from newsdelta.store.checklog import CheckRetention
from newsdelta.store.evidence import EvidenceOpener
from newsdelta.store.evidence_db import DatabaseEvidence

# How long a claimed feed is its poller's; a poll still working extends it (crawl/polling.py).
FEED_LEASE = timedelta(minutes=5)


class Extractor(Protocol):
    """Reads a page. `reading` names the parser that must read it (a stored version's `parser`), so a re-read
    of old evidence uses the parser that read the new fetch; a peer extractor in a bench may ignore it."""

    def __call__(self, html: str, url: str, *, reading: str | None = None) -> Extracted: ...


class PageFetcher(Protocol):
    """What a check asks of the network: the live `Fetcher`, or a WARC's captures replayed (crawl/replay.py)."""

    @property
    def per_host_delay(self) -> float: ...

    async def get(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult: ...

    async def post_form(self, url: str, form: Mapping[str, str]) -> FetchResult:
        """A WebSub hub request (crawl/websub.py)."""
        ...


def utc_now() -> datetime:
    return datetime.now(UTC)


def process_owner() -> str:
    """Names this process in leases, so a check finishing after its lease was re-taken changes nothing."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(slots=True)
class CrawlContext:
    sessions: sessionmaker[Session]
    fetcher: PageFetcher
    policy: Policy = field(default_factory=LearnedPolicy)
    clock: Callable[[], datetime] = utc_now
    owner: str = field(default_factory=process_owner)
    lease: timedelta = timedelta(minutes=10)
    feed_lease: timedelta = FEED_LEASE
    feed_max_items: int = FEED_MAX_ITEMS
    # Swapped by tests and by bench/fidelity.py to run peers behind the same loop.
    extractor: Extractor = extract
    # Fetch twice before storing changed text (newsdelta.fidelity); off only to measure what that buys.
    confirm: bool = True
    # The site's public address (NEWSDELTA_BASE_URL), under which hubs reach WebSub callbacks; None: no WebSub.
    websub_base_url: str | None = None
    # Where raw pages are kept (NEWSDELTA_EVIDENCE; newsdelta.store.evidence_stores).
    evidence: EvidenceOpener = DatabaseEvidence
    # Save Page Now's keys when configured (newsdelta.crawl.wayback); None keeps it off.
    archive: ArchiveKeys | None = None
    # How long the check log keeps a row per check (NEWSDELTA_CHECK_LOG_DAYS, _CHECK_ERRORS_DAYS).
    check_retention: CheckRetention = field(default_factory=CheckRetention)

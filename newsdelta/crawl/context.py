"""Everything a check or a feed poll needs, passed explicitly so tests can swap the clock and the network."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from newsdelta.config import FEED_MAX_ITEMS
from newsdelta.fetch import Fetcher
from newsdelta.schedule import BackoffPolicy

# How long a claimed feed is its poller's; a poll still working extends it (crawl/feeds.py).
FEED_LEASE = timedelta(minutes=5)


def utc_now() -> datetime:
    return datetime.now(UTC)


def process_owner() -> str:
    """Names this process in leases, so a check finishing after its lease was re-taken changes nothing."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(slots=True)
class CrawlContext:
    sessions: sessionmaker[Session]
    fetcher: Fetcher
    policy: BackoffPolicy = field(default_factory=BackoffPolicy)
    clock: Callable[[], datetime] = utc_now
    owner: str = field(default_factory=process_owner)
    lease: timedelta = timedelta(minutes=10)
    feed_lease: timedelta = FEED_LEASE
    feed_max_items: int = FEED_MAX_ITEMS

"""Everything a check or a feed poll needs, passed explicitly so tests can swap the clock and the network."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from newsdelta.extract import Extracted, extract
from newsdelta.fetch import Fetcher
from newsdelta.schedule import BackoffPolicy


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
    # Reads a page (html, url); swapped by tests and by bench/fidelity.py to run peers behind the same loop.
    extractor: Callable[[str, str], Extracted] = extract
    # Fetch twice before storing changed text (newsdelta.fidelity); off only to measure what that buys.
    confirm: bool = True

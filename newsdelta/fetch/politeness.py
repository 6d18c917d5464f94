"""Per-host rate limiting and the robots.txt cache, behind Protocols.

Both are Protocols so a Redis-backed implementation can be shared by every worker process (ten workers
must not hit one outlet ten times harder); the in-process versions here serve a single crawl process.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol


class RateLimiter(Protocol):
    def slot(self, host: str, min_interval: float) -> AbstractAsyncContextManager[None]:
        """Hold one of the host's concurrent request slots.

        Entering waits until a slot is free AND at least `min_interval` seconds have passed since the
        previous request to this host started; the slot is released on exit.
        """
        ...


@dataclass(slots=True)
class _HostState:
    semaphore: asyncio.Semaphore
    start_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    next_start: float = 0.0


class InProcessRateLimiter:
    """Per-host semaphore plus a minimum spacing between request starts, for one event loop."""

    def __init__(self, concurrency: int = 2) -> None:
        if concurrency < 1:
            raise ValueError(f"per-host concurrency must be at least 1, not {concurrency}")
        self.concurrency = concurrency
        self._hosts: dict[str, _HostState] = {}

    @asynccontextmanager
    async def slot(self, host: str, min_interval: float) -> AsyncIterator[None]:
        state = self._hosts.get(host)
        if state is None:
            state = self._hosts[host] = _HostState(asyncio.Semaphore(self.concurrency))
        async with state.semaphore:
            async with state.start_lock:
                wait = state.next_start - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                state.next_start = time.monotonic() + min_interval
            yield


@dataclass(frozen=True, slots=True)
class RobotsRules:
    """One origin's robots.txt as fetched; `unreachable` marks the temporary disallow-all after errors."""

    text: str
    unreachable: bool = False


class RobotsCache(Protocol):
    async def get(self, origin: str) -> RobotsRules | None:
        """The cached rules for "scheme://host[:port]", or None when absent or expired."""
        ...

    async def put(self, origin: str, rules: RobotsRules, ttl: float) -> None:
        """Remember the rules for `ttl` seconds."""
        ...


class InMemoryRobotsCache:
    """A dict with expiry times; enough for one process."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, RobotsRules]] = {}

    async def get(self, origin: str) -> RobotsRules | None:
        entry = self._entries.get(origin)
        if entry is None:
            return None
        expires, rules = entry
        if time.monotonic() >= expires:
            del self._entries[origin]
            return None
        return rules

    async def put(self, origin: str, rules: RobotsRules, ttl: float) -> None:
        self._entries[origin] = (time.monotonic() + ttl, rules)

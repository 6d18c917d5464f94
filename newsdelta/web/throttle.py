"""Rate limiting of admin-token guesses, per client, in memory.

The token is compared in constant time, but nothing stopped a client from guessing as fast as the server
answers. Each client may get the token wrong `limit` times within a sliding `window`; after that every attempt
(right or wrong, so a lucky guess is not even checked) is refused with 429 and Retry-After until the oldest
failure leaves the window. A successful attempt does not count.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from fastapi import Request


def client_key(request: Request) -> str:
    """Who is guessing: the client's IP address (uvicorn takes it from X-Forwarded-For only when the proxy is
    trusted); IPv6 clients by /64, since one host usually holds a whole /64 and could rotate through it."""
    host = request.client.host if request.client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class FailureWindow:
    """Failed attempts per client in a sliding window; thread-safe (FastAPI runs sync dependencies on threads).

    At most `max_clients` clients are remembered: beyond that the one whose last failure is oldest is forgotten,
    so a flood of addresses cannot grow memory without bound.
    """

    def __init__(
        self,
        limit: int = 10,
        window: float = 300.0,
        *,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self._max_clients = max_clients
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> int | None:
        """Whole seconds until `client` may try again, or None if it may try now."""
        with self._lock:
            now = self._clock()
            failures = self._failures.get(client)
            if failures is None or len(_pruned(failures, now - self.window)) < self.limit:
                return None
            return max(1, math.ceil(failures[0] + self.window - now))

    def failed(self, client: str) -> None:
        with self._lock:
            now = self._clock()
            failures = _pruned(self._failures.pop(client, deque()), now - self.window)
            failures.append(now)
            self._failures[client] = failures  # now the most recent
            while len(self._failures) > self._max_clients:
                self._failures.popitem(last=False)


def _pruned(failures: deque[float], since: float) -> deque[float]:
    """The same deque without the failures at or before `since`."""
    while failures and failures[0] <= since:
        failures.popleft()
    return failures

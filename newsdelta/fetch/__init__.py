"""Fetching: polite, conditional, bounded HTTP GETs.

`Fetcher.get(url, etag=..., last_modified=...)` returns a `FetchResult` (a 304, 404 or 410 is a result,
not an error) or raises `FetchError` / `RobotsDisallowed` after its retries are spent, or `AddressRefused`
when the URL leads to an address the `AddressPolicy` does not allow.
"""

from newsdelta.fetch.addresses import AddressPolicy
from newsdelta.fetch.charset import decode_text
from newsdelta.fetch.client import Fetcher, FetchResult, default_user_agent
from newsdelta.fetch.errors import AddressRefused, FetchError, RobotsDisallowed
from newsdelta.fetch.politeness import (
    InMemoryRobotsCache,
    InProcessRateLimiter,
    RateLimiter,
    RobotsCache,
    RobotsRules,
)
from newsdelta.fetch.retry_after import retry_after_seconds
from newsdelta.fetch.urls import check_url

__all__ = [
    "AddressPolicy",
    "AddressRefused",
    "FetchError",
    "FetchResult",
    "Fetcher",
    "InMemoryRobotsCache",
    "InProcessRateLimiter",
    "RateLimiter",
    "RobotsCache",
    "RobotsDisallowed",
    "RobotsRules",
    "check_url",
    "decode_text",
    "default_user_agent",
    "retry_after_seconds",
]

"""Fetching: polite, conditional, bounded HTTP GETs.

`Fetcher.get(url, etag=..., last_modified=...)` returns a `FetchResult` (a 304 is a result, not an error)
or raises `FetchError` / `RobotsDisallowed` after its retries are spent.
"""

from newsdelta.fetch.client import Fetcher, FetchError, FetchResult, RobotsDisallowed

__all__ = ["FetchError", "FetchResult", "Fetcher", "RobotsDisallowed"]

"""HTTP client contract (stub; the fetch work fills in politeness, robots, retries, caps and charsets)."""

from __future__ import annotations

from dataclasses import dataclass, field


class FetchError(Exception):
    """The page could not be fetched (network failure, timeout, too large, retries spent)."""


class RobotsDisallowed(FetchError):
    """robots.txt forbids this URL to our User-Agent; it was not requested."""


@dataclass(frozen=True, slots=True)
class FetchResult:
    url: str
    final_url: str
    status: int
    body: bytes
    text: str
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def gone(self) -> bool:
        return self.status in (404, 410)


class Fetcher:
    """Async fetcher; one per crawl process."""

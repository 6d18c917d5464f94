"""Why a fetch produced no result; attributes let the scheduler back off instead of hot-looping."""

from __future__ import annotations


class FetchError(Exception):
    """The page could not be fetched (network failure, timeout, too large, hostile URL, retries spent).

    `retry_after` (seconds) is set when the server or the robots policy said when to come back;
    `status` is the last HTTP status seen, if any.
    """

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class RobotsDisallowed(FetchError):
    """robots.txt forbids this URL to our User-Agent; it was not requested.

    `temporary` is True when robots.txt itself was unreachable (5xx, network error): the URL may be
    allowed once the site recovers, so the caller should retry after `retry_after` rather than give up.
    """

    def __init__(self, message: str, *, temporary: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message, retry_after=retry_after)
        self.temporary = temporary


class AddressRefused(FetchError):
    """The URL's host is, or resolves to, an address newsdelta may not connect to (see `AddressPolicy`).

    Nothing was sent to it; retrying cannot help until the operator allows the network.
    """

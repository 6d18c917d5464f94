"""Polite, conditional, bounded HTTP GETs over httpx.

Redirects are followed here hop by hop (not by httpx) so every hop is checked like the first URL:
refused schemes and addresses, robots.txt of the new host, and that host's rate limit. Every connection goes
through `GuardedTransport`, which connects only to addresses the `AddressPolicy` allows.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType

import httpx
from protego import Protego

from newsdelta import __version__
from newsdelta.fetch.addresses import AddressPolicy
from newsdelta.fetch.charset import decode_text
from newsdelta.fetch.errors import AddressRefused, FetchError, RobotsDisallowed
from newsdelta.fetch.politeness import (
    InMemoryRobotsCache,
    InProcessRateLimiter,
    RateLimiter,
    RobotsCache,
    RobotsRules,
)
from newsdelta.fetch.retry_after import retry_after_seconds
from newsdelta.fetch.transport import GuardedTransport
from newsdelta.fetch.urls import check_url

__all__ = ["FetchError", "FetchResult", "Fetcher", "RobotsDisallowed", "default_user_agent"]

MAX_REDIRECTS = 10
ROBOTS_TTL = 24 * 3600.0
# How long an unreachable robots.txt blocks its site before we ask again.
ROBOTS_UNREACHABLE_TTL = 600.0
# RFC 9309 asks crawlers to read at least 500 KiB of robots.txt; the rest is ignored.
ROBOTS_MAX_BYTES = 512_000
# A Crawl-delay above this is treated as this, so one robots.txt cannot stall a source for hours.
MAX_CRAWL_DELAY = 30.0
_DISALLOW_ALL = "User-agent: *\nDisallow: /\n"
_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,application/json;q=0.8,*/*;q=0.5"
# Network failures worth another attempt; read/write timeouts are not (a slow page stays slow).
_RETRYABLE_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.ReadError, httpx.RemoteProtocolError)
_TEXT_MARKERS = ("text/", "html", "xml", "json", "javascript")


def default_user_agent(contact_url: str | None = None) -> str:
    """A User-Agent naming the project, so site owners can see who crawls and how to reach them."""
    product = f"newsdelta/{__version__}"
    return f"{product} (+{contact_url})" if contact_url else product


@dataclass(frozen=True, slots=True)
class Exchange:
    """The last hop's request and response as they went over the wire: what a version's evidence cites."""

    method: str
    url: str
    request_headers: list[tuple[str, str]]
    http_version: str
    status: int
    reason: str
    response_headers: list[tuple[str, str]]
    received_at: datetime
    remote_ip: str | None

    def to_json(self) -> dict[str, object]:
        return {
            "request": {"method": self.method, "url": self.url, "headers": self.request_headers},
            "response": {
                "http_version": self.http_version,
                "status": self.status,
                "reason": self.reason,
                "headers": self.response_headers,
            },
            "received_at": self.received_at.isoformat(),
            "remote_ip": self.remote_ip,
        }


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
    elapsed: float = 0.0
    exchange: Exchange | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def gone(self) -> bool:
        return self.status in (404, 410)


class Fetcher:
    """Async fetcher; one per crawl process (it owns a connection pool).

    `retries` counts attempts after the first. When `rate_limiter` is given, `per_host_concurrency` is the
    limiter's business and is ignored here; `per_host_delay` (raised to a site's robots.txt Crawl-delay,
    at most MAX_CRAWL_DELAY) is always passed to the limiter. `address_policy` (by default from
    NEWSDELTA_ALLOWED_NETWORKS) says which addresses may be connected to; a `transport` given for tests
    replaces the guarded one, and only IP-literal hosts are then checked.
    """

    def __init__(
        self,
        user_agent: str,
        *,
        per_host_concurrency: int = 2,
        per_host_delay: float = 1.0,
        timeout: float = 20.0,
        max_bytes: int = 10_000_000,
        retries: int = 3,
        max_retry_wait: float = 60.0,
        backoff_base: float = 1.0,
        obey_robots: bool = True,
        rate_limiter: RateLimiter | None = None,
        robots_cache: RobotsCache | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        address_policy: AddressPolicy | None = None,
    ) -> None:
        if retries < 0 or max_bytes < 1 or timeout <= 0:
            raise ValueError("retries must be >= 0, max_bytes >= 1 and timeout > 0")
        self.user_agent = user_agent
        self.per_host_delay = per_host_delay
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.retries = retries
        self.max_retry_wait = max_retry_wait
        self.backoff_base = backoff_base
        self.obey_robots = obey_robots
        self.address_policy = address_policy or AddressPolicy.from_env()
        self._limiter = rate_limiter or InProcessRateLimiter(per_host_concurrency)
        self._robots_cache = robots_cache or InMemoryRobotsCache()
        self._robots_parsed: dict[str, tuple[RobotsRules, Protego]] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}
        self._client = httpx.AsyncClient(
            transport=transport or GuardedTransport(self.address_policy),
            timeout=timeout,
            follow_redirects=False,
            headers={"User-Agent": user_agent, "Accept": _ACCEPT},
        )

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def get(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """GET with conditional headers; 304, 404 and 410 are results, everything else failing raises."""
        started = time.monotonic()
        headers = {"If-None-Match": etag} if etag else {}
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        request = self._client.build_request("GET", check_url(url, self.address_policy), headers=headers)
        for _ in range(MAX_REDIRECTS + 1):
            response, body = await self._fetch_hop(request)
            if not response.has_redirect_location:
                return self._result(url, response, body, etag, last_modified, time.monotonic() - started)
            request = self._next_hop(response)
        raise FetchError(f"more than {MAX_REDIRECTS} redirects from {url}")

    async def post_form(self, url: str, form: Mapping[str, str]) -> FetchResult:
        """POST a form once (a WebSub hub's subscription request), under the same address checks and per-host
        limit as a GET; 307/308 redirects (a hub moving) are followed with the form, each hop checked. Not
        retried and robots.txt is not asked: the caller retries on its own schedule, and a hub is an API."""
        started = time.monotonic()
        request = self._client.build_request("POST", check_url(url, self.address_policy), data=dict(form))
        for _ in range(MAX_REDIRECTS + 1):
            try:
                async with self._limiter.slot(request.url.host, self.per_host_delay):
                    response, body = await self._send(request)
            except _RETRYABLE_ERRORS as exc:
                raise FetchError(f"{type(exc).__name__} posting to {request.url}: {exc}") from exc
            if response.status_code not in (307, 308) or not response.has_redirect_location:
                return self._result(url, response, body, None, None, time.monotonic() - started)
            request = self._next_hop(response)
        raise FetchError(f"more than {MAX_REDIRECTS} redirects from {url}")

    def _next_hop(self, response: httpx.Response) -> httpx.Request:
        request = response.next_request
        if request is None:
            raise FetchError(
                f"redirect from {response.url} has no usable Location", status=response.status_code
            )
        try:
            check_url(str(request.url), self.address_policy)
        except FetchError as exc:
            raise type(exc)(f"redirect from {response.url} not followed: {exc}") from exc
        return request

    async def _fetch_hop(self, request: httpx.Request) -> tuple[httpx.Response, bytes]:
        """One URL: robots check, then attempts under the host's rate limit with backoff between them."""
        crawl_delay = await self._check_robots(request.url)
        interval = max(self.per_host_delay, min(crawl_delay or 0.0, MAX_CRAWL_DELAY))
        for attempt in range(self.retries + 1):
            last_attempt = attempt == self.retries
            try:
                async with self._limiter.slot(request.url.host, interval):
                    response, body = await self._send(request)
            except _RETRYABLE_ERRORS as exc:
                if last_attempt:
                    raise FetchError(f"{type(exc).__name__} fetching {request.url}: {exc}") from exc
                await asyncio.sleep(self._backoff(attempt))
                continue
            if not _retryable_status(response.status_code):
                return response, body
            server_wait = retry_after_seconds(response.headers.get("retry-after"))
            wait = self._backoff(attempt) if server_wait is None else server_wait
            if last_attempt or wait > self.max_retry_wait:
                raise FetchError(
                    f"HTTP {response.status_code} from {request.url} "
                    + ("after all retries" if last_attempt else f"asking us to wait {wait:.0f}s"),
                    status=response.status_code,
                    retry_after=server_wait,
                )
            await asyncio.sleep(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _send(self, request: httpx.Request) -> tuple[httpx.Response, bytes]:
        """One attempt, bounded in total time (a server dripping bytes cannot hold us) and in size."""
        try:
            async with asyncio.timeout(self.timeout):
                response = await self._client.send(request, stream=True)
                response.extensions["newsdelta_remote_ip"] = _remote_ip(response)
                try:
                    body = await self._read_capped(response) if _has_body(response) else b""
                finally:
                    await response.aclose()
        except _RETRYABLE_ERRORS:
            raise
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise FetchError(f"timed out after {self.timeout:g}s fetching {request.url}") from exc
        except httpx.HTTPError as exc:
            raise FetchError(f"{type(exc).__name__} fetching {request.url}: {exc}") from exc
        return response, body

    async def _read_capped(self, response: httpx.Response) -> bytes:
        """The body, or FetchError once it (or its declared Content-Length) exceeds max_bytes."""
        declared = response.headers.get("content-length", "")
        too_large = declared.isdigit() and int(declared) > self.max_bytes
        body = b"" if too_large else await _read_upto(response, self.max_bytes)
        if too_large or len(body) > self.max_bytes:
            raise FetchError(
                f"{response.url} is larger than the {self.max_bytes}-byte cap; not kept",
                status=response.status_code,
            )
        return body

    def _backoff(self, attempt: int) -> float:
        """Exponential with jitter, so many workers retrying one outlet do not arrive in lockstep."""
        doublings: int = 2**attempt
        return min(self.max_retry_wait, self.backoff_base * doublings) * random.uniform(0.5, 1.0)

    def _result(
        self,
        url: str,
        response: httpx.Response,
        body: bytes,
        etag: str | None,
        last_modified: str | None,
        elapsed: float,
    ) -> FetchResult:
        content_type = response.headers.get("content-type")
        not_modified = response.status_code == 304
        return FetchResult(
            url=url,
            final_url=str(response.url),
            status=response.status_code,
            body=body,
            text=decode_text(body, content_type) if body and _is_textual(content_type) else "",
            headers=dict(response.headers),
            # A 304 may omit validators; the ones we sent are still the current ones.
            etag=response.headers.get("etag") or (etag if not_modified else None),
            last_modified=response.headers.get("last-modified") or (last_modified if not_modified else None),
            elapsed=elapsed,
            exchange=_exchange(response),
        )

    async def _check_robots(self, url: httpx.URL) -> float | None:
        """Raise RobotsDisallowed unless robots.txt lets us fetch `url`; return the site's Crawl-delay."""
        if not self.obey_robots or url.path == "/robots.txt":
            return None
        origin = f"{url.scheme}://{url.netloc.decode('ascii')}"
        rules = await self._robots_rules(origin)
        parser = self._parsed_robots(origin, rules)
        if parser.can_fetch(str(url), self.user_agent):
            return parser.crawl_delay(self.user_agent)
        if rules.unreachable:
            raise RobotsDisallowed(
                f"robots.txt of {origin} is unreachable; not fetching {url} for now",
                temporary=True,
                retry_after=ROBOTS_UNREACHABLE_TTL,
            )
        raise RobotsDisallowed(f"robots.txt of {origin} disallows {url} for {self.user_agent!r}")

    async def _robots_rules(self, origin: str) -> RobotsRules:
        """Cached rules, downloading them once per origin even when many fetches ask at the same time."""
        rules = await self._robots_cache.get(origin)
        if rules is not None:
            return rules
        async with self._robots_locks.setdefault(origin, asyncio.Lock()):
            rules = await self._robots_cache.get(origin)
            if rules is None:
                rules = await self._download_robots(origin)
                ttl = ROBOTS_UNREACHABLE_TTL if rules.unreachable else ROBOTS_TTL
                await self._robots_cache.put(origin, rules, ttl)
        return rules

    async def _download_robots(self, origin: str) -> RobotsRules:
        """RFC 9309: 4xx means no rules; 5xx, 429 and network errors mean "assume everything disallowed"."""
        url = httpx.URL(f"{origin}/robots.txt")
        unreachable = RobotsRules(_DISALLOW_ALL, unreachable=True)
        try:
            async with self._limiter.slot(url.host, self.per_host_delay), asyncio.timeout(self.timeout):
                request = self._client.build_request("GET", url)
                response = await self._client.send(request, stream=True, follow_redirects=True)
                try:
                    body = await _read_upto(response, ROBOTS_MAX_BYTES)
                finally:
                    await response.aclose()
        except (httpx.HTTPError, TimeoutError):
            return unreachable
        except AddressRefused as exc:  # a redirect to a refused address: not followed, and the page waits
            raise AddressRefused(f"robots.txt of {origin} not fetched: {exc}") from exc
        status = response.status_code
        if status >= 500 or status == 429 or response.has_redirect_location:
            return unreachable
        if status >= 400:
            return RobotsRules("")
        return RobotsRules(body[:ROBOTS_MAX_BYTES].decode("utf-8", errors="replace"))

    def _parsed_robots(self, origin: str, rules: RobotsRules) -> Protego:
        cached = self._robots_parsed.get(origin)
        if cached is not None and cached[0] == rules:
            return cached[1]
        parser = Protego.parse(rules.text)
        self._robots_parsed[origin] = (rules, parser)
        return parser


def _remote_ip(response: httpx.Response) -> str | None:
    """The address the connection went to (the one GuardedBackend checked), while the stream is still open."""
    stream = response.extensions.get("network_stream")
    peer = stream.get_extra_info("server_addr") if stream is not None else None
    return str(peer[0]) if isinstance(peer, tuple) and peer else None


def _exchange(response: httpx.Response) -> Exchange:
    request = response.request
    return Exchange(
        method=request.method,
        url=str(request.url),
        request_headers=_header_pairs(request.headers),
        http_version=response.http_version,
        status=response.status_code,
        reason=response.reason_phrase,
        response_headers=_header_pairs(response.headers),
        received_at=datetime.now(UTC),
        remote_ip=response.extensions.get("newsdelta_remote_ip"),
    )


def _header_pairs(headers: httpx.Headers) -> list[tuple[str, str]]:
    """In the order and spelling received, repeated headers kept apart."""
    encoding = headers.encoding
    return [(name.decode(encoding), value.decode(encoding)) for name, value in headers.raw]


def _retryable_status(status: int) -> bool:
    return status == 429 or status >= 500


def _has_body(response: httpx.Response) -> bool:
    """Redirects, 304s and responses we are about to retry carry nothing we keep."""
    status = response.status_code
    return not (response.has_redirect_location or status == 304 or _retryable_status(status))


def _is_textual(content_type: str | None) -> bool:
    """Decode only what can be text; a missing Content-Type is sniffed like a browser would."""
    return content_type is None or any(marker in content_type.lower() for marker in _TEXT_MARKERS)


async def _read_upto(response: httpx.Response, limit: int) -> bytes:
    """The decoded body, stopping as soon as it exceeds `limit` (so the caller sees len > limit).

    Counting decompressed bytes stops a gzip bomb too.
    """
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            break
    return b"".join(chunks)

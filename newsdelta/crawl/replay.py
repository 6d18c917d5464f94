"""Web archives in: every HTML page a WARC captured becomes a check at its capture time (WARC-Date).

The check is the one a live crawl runs (`check_article`), with a fetcher that answers from the capture and a
clock that reads its capture time, so an imported history follows the same extraction, masking and version
rules and can start before newsdelta was running. Captures are checked oldest first. A capture no later than
its article's last check is skipped, because a history only grows forward: importing a file twice adds
nothing. Records that are not HTML responses, and records or files warcio cannot read, are skipped and logged.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.timeutils import iso_date_to_datetime

from newsdelta.actions import track_url
from newsdelta.crawl.check import check_article
from newsdelta.crawl.context import CrawlContext
from newsdelta.fetch import AddressPolicy, FetchError, FetchResult, decode_text
from newsdelta.fetch.client import Exchange

log = logging.getLogger(__name__)

_ARCHIVED = "x-archive-orig-"
_HTML = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True, slots=True)
class Capture:
    url: str
    at: datetime
    result: FetchResult


@dataclass(slots=True)
class ImportStats:
    captures: int = 0  # HTML responses read
    skipped: int = 0  # records and files that could not be used
    known: int = 0  # captures no later than their article's history
    outcomes: Counter[str] = field(default_factory=Counter)


class Replay:
    """The fetcher and the clock of an import: both answer with the capture being checked."""

    per_host_delay = 0.0

    def __init__(self) -> None:
        self.capture: Capture | None = None

    async def get(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        if self.capture is None:
            raise FetchError(f"no capture is being replayed for {url}")
        return self.capture.result

    async def post_form(self, url: str, form: Mapping[str, str]) -> FetchResult:
        raise FetchError(f"an import replays captures and posts nothing: {url}")

    def now(self) -> datetime:
        if self.capture is None:
            raise RuntimeError("no capture is being replayed")
        return self.capture.at


def read_captures(paths: Iterable[Path], stats: ImportStats) -> Iterator[Capture]:
    """The HTML responses of each WARC in file order; what cannot be used is counted in `stats` and logged."""
    for path in paths:
        try:
            with path.open("rb") as stream:
                yield from _captures_in(path, ArchiveIterator(stream), stats)
        except (ArchiveLoadFailed, OSError, EOFError) as exc:
            stats.skipped += 1
            log.error("%s: not read past this point: %s", path, exc)


def _captures_in(path: Path, records: ArchiveIterator, stats: ImportStats) -> Iterator[Capture]:
    requests: dict[str, list[tuple[str, str]]] = {}
    for record in records:
        ident = record.rec_headers.get_header("WARC-Record-ID")
        if record.rec_type == "request" and record.http_headers is not None:
            for key in (ident, record.rec_headers.get_header("WARC-Concurrent-To")):
                requests[key] = list(record.http_headers.headers)
            continue
        if record.rec_type != "response":
            continue
        try:
            capture, reason = _capture(record, requests)
        except (ValueError, KeyError, TypeError, OSError) as exc:  # a broken record: the next one may be fine
            capture, reason = None, f"unreadable ({type(exc).__name__}: {exc})"
        if capture is None:
            stats.skipped += 1
            log.warning("%s: skipped %s: %s", path, record.rec_headers.get_header("WARC-Target-URI"), reason)
            continue
        stats.captures += 1
        yield capture


def _capture(record: Any, requests: dict[str, list[tuple[str, str]]]) -> tuple[Capture | None, str]:
    http = record.http_headers
    if http is None:
        return None, "not an HTTP response"
    status = int(http.get_statuscode())
    content_type = http.get_header("Content-Type") or ""
    if 300 <= status < 400:
        return None, f"a redirect (HTTP {status}), not a page"
    if not content_type.lower().startswith(_HTML):
        return None, f"not HTML ({content_type or 'no Content-Type'})"
    url = record.rec_headers.get_header("WARC-Target-URI")
    at = iso_date_to_datetime(record.rec_headers.get_header("WARC-Date")).replace(tzinfo=UTC)
    body = record.content_stream().read()
    received = _as_received(http.headers)
    headers = dict(httpx.Headers(received))
    request = requests.get(record.rec_headers.get_header("WARC-Record-ID")) or requests.get(
        record.rec_headers.get_header("WARC-Concurrent-To")
    )
    exchange = Exchange(
        method="GET",
        url=url,
        request_headers=request or [],
        http_version=http.protocol or "HTTP/1.1",
        status=status,
        reason=http.statusline.partition(" ")[2],
        response_headers=received,
        received_at=at,
        remote_ip=record.rec_headers.get_header("WARC-IP-Address"),
    )
    result = FetchResult(
        url=url,
        final_url=url,
        status=status,
        body=body,
        text=decode_text(body, content_type),
        headers=headers,
        etag=headers.get("etag"),
        last_modified=headers.get("last-modified"),
        exchange=exchange,
    )
    return Capture(url, at, result), ""


def _as_received(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The headers as the server sent them: an archive that stored the body decoded renames the wire headers
    `X-Archive-Orig-…` and states its own Content-Length, which is dropped again."""
    if not any(name.lower().startswith(_ARCHIVED) for name, _ in headers):
        return list(headers)
    return [
        (name[len(_ARCHIVED) :], value) if name.lower().startswith(_ARCHIVED) else (name, value)
        for name, value in headers
        if name.lower() != "content-length"
    ]


async def import_captures(
    ctx: CrawlContext,
    replay: Replay,
    captures: Iterable[Capture],
    stats: ImportStats,
    *,
    source: str | None = None,
    addresses: AddressPolicy,
) -> ImportStats:
    """Check each capture in capture order; `ctx` must fetch through `replay` and read its clock."""
    for capture in sorted(captures, key=lambda capture: capture.at):
        article_id = _claim(ctx, capture, source, addresses)
        if article_id is None:
            stats.known += 1
            continue
        replay.capture = capture
        stats.outcomes[await check_article(ctx, article_id)] += 1
    replay.capture = None
    return stats


def _claim(ctx: CrawlContext, capture: Capture, source: str | None, addresses: AddressPolicy) -> int | None:
    """The capture's article, leased to this import; None when the capture cannot be added to its history."""
    with ctx.sessions.begin() as session:
        try:
            article, _ = track_url(session, capture.url, source, ctx.policy, capture.at, addresses=addresses)
        except FetchError as exc:  # a URL the crawl would refuse is not tracked from an archive either
            log.warning("skipped %s: %s", capture.url, exc)
            return None
        if article.last_checked_at is not None and capture.at <= article.last_checked_at:
            log.info(
                "skipped %s of %s: the history already reaches %s",
                capture.url,
                capture.at,
                article.last_checked_at,
            )
            return None
        article.lease_owner = ctx.owner
        article.lease_until = capture.at + ctx.lease
        return article.id

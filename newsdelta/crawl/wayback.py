"""Independent copies: each new version's URL submitted to the Internet Archive's Save Page Now (SPN2).

Off unless the operator's keys are configured (NEWSDELTA_IA_ACCESS_KEY, NEWSDELTA_IA_SECRET_KEY). Like
notifications (newsdelta.notify.dispatch), it works from stored versions through a cursor into an outbox, never
inside a check: a round moves the cursor over new `fetch` versions, adding an `archive_submission` row each
(one per version: at least once, never twice), then works through the rows that are due. A row is submitted
(POST /save), then polled (GET /save/status/{job_id}) until the capture's timestamp gives the capture URL,
stored on the version. A 429, an error answer or a network failure waits with the notifications' backoff
(30 s doubling to an hour) and gives up after `MAX_ATTEMPTS`. Requests go through the fetch layer's guarded
transport (the SSRF guard); tests point NEWSDELTA_IA_ENDPOINT at a stand-in on 127.0.0.1.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from newsdelta import __version__
from newsdelta.fetch.addresses import AddressPolicy
from newsdelta.fetch.transport import GuardedTransport
from newsdelta.notify.dispatch import backoff
from newsdelta.store.models import ArchiveCursor, ArchiveSubmission, Version

log = logging.getLogger(__name__)

ENDPOINT = "https://web.archive.org"
MAX_ATTEMPTS = 8
POLL = timedelta(seconds=15)  # SPN2 captures take seconds to minutes
ROUND_LIMIT = 20  # submissions per round: the API allows a few concurrent captures per account


@dataclass(frozen=True, slots=True)
class ArchiveKeys:
    """The operator's Internet Archive keys, where the API is, and what the guarded transport may reach."""

    access: str
    secret: str
    endpoint: str = ENDPOINT
    addresses: AddressPolicy = field(default_factory=AddressPolicy.from_env)


def capture_url(timestamp: str, url: str) -> str:
    return f"https://web.archive.org/web/{timestamp}/{url}"


def archive_client(keys: ArchiveKeys) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=keys.endpoint,
        transport=GuardedTransport(keys.addresses),
        timeout=30.0,
        headers={
            "Authorization": f"LOW {keys.access}:{keys.secret}",
            "Accept": "application/json",
            "User-Agent": f"newsdelta/{__version__}",
        },
    )


def queue_new_versions(session: Session, now: datetime) -> int:
    """Outbox rows for the fetched versions past the cursor; the first round starts at the newest version."""
    newest = session.scalar(select(func.max(Version.id))) or 0
    cursor = session.get(ArchiveCursor, 1)
    if cursor is None:
        session.add(ArchiveCursor(id=1, version_id=newest))
        return 0
    rows = session.execute(
        select(Version.id, Version.final_url)
        .where(Version.id > cursor.version_id, Version.id <= newest, Version.origin == "fetch")
        .order_by(Version.id)
    ).all()
    for version_id, url in rows:
        session.add(ArchiveSubmission(version_id=version_id, url=url, attempts=0, next_attempt_at=now))
    cursor.version_id = newest
    return len(rows)


def archive_due(session: Session, now: datetime) -> bool:
    """Whether a round has work: the cursor to start, versions past it, or a submission due."""
    cursor = session.get(ArchiveCursor, 1)
    newest = session.scalar(select(func.max(Version.id))) or 0
    if cursor is None or newest > cursor.version_id:
        return True
    due = select(ArchiveSubmission.version_id).where(
        ArchiveSubmission.done_at.is_(None), ArchiveSubmission.next_attempt_at <= now
    )
    return session.scalar(due.limit(1)) is not None


async def archive_round(sessions: sessionmaker[Session], client: httpx.AsyncClient, now: datetime) -> int:
    """Queue new versions and work through the due submissions; returns the captures completed."""
    with sessions.begin() as session:
        queue_new_versions(session, now)
    done = 0
    with sessions() as session:
        due = session.scalars(
            select(ArchiveSubmission)
            .where(ArchiveSubmission.done_at.is_(None), ArchiveSubmission.next_attempt_at <= now)
            .order_by(ArchiveSubmission.next_attempt_at)
            .limit(ROUND_LIMIT)
        ).all()
        for row in due:
            done += await _advance(session, client, row, now)
            session.commit()
    return done


async def _advance(session: Session, client: httpx.AsyncClient, row: ArchiveSubmission, now: datetime) -> int:
    try:
        if row.job_id is None:
            answer = await _ask(client, "POST", "/save", data={"url": row.url})
            if not answer.get("job_id"):
                raise ArchiveError(_reason(answer))
            row.job_id = str(answer["job_id"])
            row.next_attempt_at = now + POLL
            return 0
        answer = await _ask(client, "GET", f"/save/status/{row.job_id}")
    except ArchiveError as exc:
        _failed(row, str(exc), now)
        return 0
    status = answer.get("status")
    if status == "success" and answer.get("timestamp"):
        url = capture_url(str(answer["timestamp"]), str(answer.get("original_url") or row.url))
        row.done_at, row.last_error = now, None
        version = session.get(Version, row.version_id)
        if version is not None:
            version.archive_url = url
        return 1
    if status == "pending":
        row.next_attempt_at = now + POLL
        return 0
    row.job_id = None  # the capture failed: submit again later
    _failed(row, _reason(answer), now)
    return 0


class ArchiveError(Exception):
    """The archive refused or did not answer; the submission is retried later."""


async def _ask(client: httpx.AsyncClient, method: str, path: str, **options: Any) -> dict[str, Any]:
    try:
        response = await client.request(method, path, **options)
    except httpx.HTTPError as exc:
        raise ArchiveError(f"{type(exc).__name__}: {exc}") from exc
    if response.status_code == 429:
        raise ArchiveError("rate limited (HTTP 429)")
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if response.status_code >= 400 or not isinstance(answer, dict):
        raise ArchiveError(f"HTTP {response.status_code}: {response.text[:200]}")
    return answer


def _reason(answer: dict[str, Any]) -> str:
    return str(answer.get("message") or answer.get("status_ext") or answer)[:500]


def _failed(row: ArchiveSubmission, error: str, now: datetime) -> None:
    row.attempts += 1
    row.last_error = error
    if row.attempts >= MAX_ATTEMPTS:
        row.done_at = now  # given up: the error stays on the row
        log.warning("Save Page Now gave up on %s after %d attempts: %s", row.url, row.attempts, error)
        return
    row.next_attempt_at = now + backoff(row.attempts)
    log.info("Save Page Now: %s retried later: %s", row.url, error)

"""Save Page Now: new versions' URLs go to a stand-in of the Internet Archive's SPN2 API, never inside a check."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from crawl_support import sqlite_store
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from newsdelta.config import Settings
from newsdelta.crawl import CrawlContext
from newsdelta.crawl.loop import archive_versions
from newsdelta.crawl.wayback import (
    MAX_ATTEMPTS,
    POLL,
    ArchiveKeys,
    archive_client,
    archive_due,
    archive_round,
    queue_new_versions,
)
from newsdelta.notify.dispatch import backoff
from newsdelta.runtime import archive_keys
from newsdelta.store.models import ArchiveCursor, ArchiveSubmission, Source, Version
from newsdelta.web.app import create_app
from newsdelta.web.fixtures import add_version, new_article

T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)
TIMESTAMP = "20260101120005"


class StandIn:
    """Answers as the SPN2 API documents: POST /save gives a job id (or 429), /save/status/{job} reports
    pending, then success with the capture's timestamp, or an error."""

    def __init__(self) -> None:
        self.jobs: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.rate_limited: set[str] = set()

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        self.requests.append((method, path, headers))
        if headers.get("Authorization") != "LOW key:secret" or headers.get("Accept") != "application/json":
            return 401, {"status": "error", "message": "You need to be logged in to use Save Page Now."}
        if method == "POST" and path == "/save":
            url = parse_qs(body.decode())["url"][0]
            if "busy" in url and url not in self.rate_limited:
                self.rate_limited.add(url)
                return 429, "Too Many Requests"
            job = f"spn2-{len(self.jobs)}"
            self.jobs[job] = {"url": url, "polls": 0}
            return 200, {"url": url, "job_id": job}
        if method == "GET" and path.startswith("/save/status/"):
            job = self.jobs[path.rsplit("/", 1)[1]]
            job["polls"] += 1
            if "broken" in job["url"]:
                return 200, {"status": "error", "status_ext": "error:bad-gateway", "message": "Bad Gateway"}
            if job["polls"] == 1:
                return 200, {"status": "pending", "job_id": path.rsplit("/", 1)[1]}
            return 200, {"status": "success", "timestamp": TIMESTAMP, "original_url": job["url"]}
        return 404, {"status": "error"}


@pytest.fixture
def stand_in() -> Iterator[tuple[StandIn, str]]:
    archive = StandIn()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            status, payload = archive.handle(self.command, self.path, dict(self.headers.items()), body)
            data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield archive, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _versions(sessions: sessionmaker[Session], *paths: str) -> list[int]:
    with sessions.begin() as session:
        source = Source(name="bbc", created_at=T0)
        ids = []
        for path in paths:
            article = new_article(source, f"https://www.bbc.co.uk/news/{path}", T0)
            session.add(article)
            ids.append(add_version(session, article, path, ["p"], T0).id)
        return ids


def _round(sessions: sessionmaker[Session], base_url: str, now: datetime) -> int:
    async def run() -> int:
        async with archive_client(ArchiveKeys("key", "secret", base_url)) as client:
            return await archive_round(sessions, client, now)

    return asyncio.run(run())


def _submission(sessions: sessionmaker[Session], version_id: int) -> ArchiveSubmission:
    with sessions() as session:
        row = session.get(ArchiveSubmission, version_id)
        assert row is not None
        return row


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    sessions = sqlite_store(tmp_path)
    with sessions.begin() as session:
        queue_new_versions(session, T0)  # switched on before the versions below were stored
    return sessions


def test_a_new_version_is_saved_and_its_capture_shown(
    sessions: sessionmaker[Session], stand_in: tuple[StandIn, str]
) -> None:
    archive, base = stand_in
    [version_id] = _versions(sessions, "floods")
    assert _round(sessions, base, T0) == 0  # submitted
    assert _round(sessions, base, T0 + POLL) == 0  # pending
    assert _round(sessions, base, T0 + 2 * POLL) == 1  # done
    assert [(method, path) for method, path, _ in archive.requests] == [
        ("POST", "/save"),
        ("GET", "/save/status/spn2-0"),
        ("GET", "/save/status/spn2-0"),
    ]
    capture = f"https://web.archive.org/web/{TIMESTAMP}/https://www.bbc.co.uk/news/floods"
    with sessions() as session:
        version = session.get(Version, version_id)
        assert version is not None and version.archive_url == capture
        path = f"/articles/{version.article_id}/versions/0"
    with TestClient(create_app(Settings(), sessions)) as client:
        assert client.get(f"/api{path}").json()["archive_url"] == capture
        assert f'href="{capture}"' in client.get(path).text
    assert _round(sessions, base, T0 + timedelta(hours=1)) == 0 and len(archive.requests) == 3  # once only


def test_the_scheduler_asks_for_a_round_only_when_one_has_work(
    sessions: sessionmaker[Session], stand_in: tuple[StandIn, str]
) -> None:
    _archive, base = stand_in
    with sessions() as session:
        assert not archive_due(session, T0)
    _versions(sessions, "floods")
    with sessions() as session:
        assert archive_due(session, T0)  # a version past the cursor
    _round(sessions, base, T0)
    with sessions() as session:
        assert not archive_due(session, T0) and archive_due(session, T0 + POLL)  # its status is due later


def test_a_rate_limited_submission_waits_and_is_retried(
    sessions: sessionmaker[Session], stand_in: tuple[StandIn, str]
) -> None:
    archive, base = stand_in
    [version_id] = _versions(sessions, "busy-day")
    _round(sessions, base, T0)
    row = _submission(sessions, version_id)
    assert (row.attempts, row.last_error, row.job_id) == (1, "rate limited (HTTP 429)", None)
    assert row.next_attempt_at == T0 + backoff(1)
    _round(sessions, base, T0 + timedelta(seconds=10))  # not due yet: nothing is sent
    assert len(archive.requests) == 1
    for step in range(1, 4):
        _round(sessions, base, T0 + backoff(1) + step * POLL)
    with sessions() as session:
        assert session.get(Version, version_id).archive_url is not None  # type: ignore[union-attr]


def test_a_failing_capture_is_retried_with_backoff_then_given_up(
    sessions: sessionmaker[Session], stand_in: tuple[StandIn, str]
) -> None:
    _archive, base = stand_in
    [version_id] = _versions(sessions, "broken-page")
    now = T0
    for attempt in range(1, MAX_ATTEMPTS + 1):
        _round(sessions, base, now)  # submitted
        now += POLL
        _round(sessions, base, now)  # the capture failed
        row = _submission(sessions, version_id)
        assert row.attempts == attempt and row.last_error == "Bad Gateway" and row.job_id is None
        now = row.next_attempt_at
    assert row.done_at is not None  # given up, the error kept
    with sessions() as session:
        assert session.get(Version, version_id).archive_url is None  # type: ignore[union-attr]


def test_it_is_off_unless_both_keys_are_configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert archive_keys(Settings()) is None
    assert archive_keys(Settings(ia_access_key="key")) is None
    monkeypatch.setenv("NEWSDELTA_IA_ACCESS_KEY", "key")
    monkeypatch.setenv("NEWSDELTA_IA_SECRET_KEY", "secret")
    monkeypatch.setenv("NEWSDELTA_IA_ENDPOINT", "http://127.0.0.1:9")
    keys = archive_keys(Settings.from_env())
    assert keys is not None and (keys.access, keys.secret, keys.endpoint) == (
        "key",
        "secret",
        "http://127.0.0.1:9",
    )
    sessions = sqlite_store(tmp_path)
    ctx = CrawlContext(sessions=sessions, fetcher=None)  # type: ignore[arg-type]
    assert asyncio.run(archive_versions(ctx)) == 0
    with sessions() as session:
        assert session.scalars(select(ArchiveCursor)).all() == []

"""Operations without any service: Prometheus metrics over ASGI, fetch latency, and `status` on SQLite."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from newsdelta.config import Settings
from newsdelta.distributed import (
    SchedulerOptions,
    make_celery,
    schedule_once,
    scheduler,
    status_report,
)
from newsdelta.fetch import FetchError
from newsdelta.metrics import MeteredFetcher, metrics_app, record_check
from newsdelta.store.checklog import LoggedCheck, log_checks
from newsdelta.store.db import open_database
from newsdelta.store.models import Article
from newsdelta.store.repository import get_or_create_source, track_article
from newsdelta.testing.default_day import DAY_START
from newsdelta.testing.newsroom import Newsroom


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_checks_versions_and_errors_are_counted_and_served_at_metrics() -> None:
    before = (sample("newsdelta_checks_total", outcome="new_version"), sample("newsdelta_versions_total"))
    errors = sample("newsdelta_errors_total", kind="check")
    for outcome in ("new_version", "unchanged", "error"):
        record_check(outcome)
    assert sample("newsdelta_checks_total", outcome="new_version") == before[0] + 1
    assert sample("newsdelta_versions_total") == before[1] + 1
    assert sample("newsdelta_errors_total", kind="check") == errors + 1

    async def scrape() -> str:
        transport = httpx.ASGITransport(app=metrics_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://metrics") as client:
            response = await client.get("/")
            assert response.status_code == 200
            return response.text

    text = asyncio.run(scrape())
    assert 'newsdelta_checks_total{outcome="unchanged"}' in text
    assert "newsdelta_fetch_seconds_bucket" in text


def test_metered_fetcher_times_real_fetches_and_counts_failures() -> None:
    observed = sample("newsdelta_fetch_seconds_count")
    failures = sample("newsdelta_errors_total", kind="fetch")

    async def fetch(base_url: str) -> int:
        options = {"per_host_delay": 0.0, "retries": 0, "obey_robots": False}
        async with MeteredFetcher("newsdelta-tests/0", **options) as fetcher:  # type: ignore[arg-type]
            result = await fetcher.get(base_url + "/rss.xml")
            with pytest.raises(FetchError):
                await fetcher.get("http://127.0.0.1:9/nothing-listens-here")
            return result.status

    with Newsroom() as newsroom:
        assert asyncio.run(fetch(newsroom.base_url)) == 200
    assert sample("newsdelta_fetch_seconds_count") == observed + 2
    assert sample("newsdelta_errors_total", kind="fetch") == failures + 1


def test_status_reports_backlog_overdue_and_error_rates_without_a_broker(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    sessions = open_database(settings.database_url)
    now = DAY_START
    with sessions.begin() as session:
        source = get_or_create_source(session, "wire", now)
        for n in range(3):
            article, _ = track_article(
                session, f"https://wire.example/news/{n}", source, now, initial_period=timedelta(minutes=30)
            )
            session.flush()
            log_checks(
                session.connection(), [LoggedCheck(article.id, now, "error" if n == 0 else "unchanged")]
            )
        later = session.get(Article, article.id)
        assert later is not None
        later.next_check_at = now + timedelta(hours=1)
        # Its page was last read by the generic extractor: the outlet parser did not know its format.
        later.parser, later.last_checked_at = "generic(fallback:wire@1)", now
    report = status_report(settings, now=now + timedelta(minutes=10))
    assert report["queue_depth"] is None
    assert report["articles"]["due"] == 2
    assert report["articles"]["oldest_overdue_seconds"] == 600.0
    assert report["sources"] == [
        {"source": "wire", "checks": 3, "errors": 1, "error_rate": 0.3333, "fallback_pages": 1}
    ]


def test_scheduler_gives_claims_back_when_the_broker_is_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path, broker_url="redis://127.0.0.1:9/0")  # nothing listens there
    sessions = open_database(settings.database_url)
    with sessions.begin() as session:
        source = get_or_create_source(session, "wire", DAY_START)
        track_article(
            session, "https://wire.example/news/1", source, DAY_START, initial_period=timedelta(hours=1)
        )
    app = make_celery(settings)
    app.conf.task_publish_retry_policy = {"max_retries": 0}

    def clock() -> datetime:
        return DAY_START

    # The depth check fails first: nothing is claimed.
    stats = schedule_once(app, sessions, clock, SchedulerOptions())
    assert stats.queue_depth is None and stats.articles == 0
    # Were the depth known, the claim is made, the publish fails, and the lease is given straight back.
    monkeypatch.setattr(scheduler, "queue_depth", lambda _app: 0)
    stats = schedule_once(app, sessions, clock, SchedulerOptions())
    assert (stats.articles, stats.unsent) == (0, 1)
    with sessions() as session:
        article = session.scalars(select(Article)).one()
        assert article.lease_until is None and article.lease_owner is None

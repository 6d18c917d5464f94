"""Change signals on the simulated newsroom: a newer sitemap <lastmod> makes a tracked article due at once, and a
wrong one (the date moved, the article did not) costs one request and nothing else."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from crawl_support import fast_fetcher, sqlite_store
from sqlalchemy import select
from test_checklog import recording_checks

from newsdelta.cli import cli
from newsdelta.crawl import CrawlContext
from newsdelta.crawl.signals import apply_signals
from newsdelta.store.models import Article
from newsdelta.store.repository import add_feed, get_or_create_source, track_article
from newsdelta.testing.drive import crawl_until
from newsdelta.testing.newsroom import Newsroom
from newsdelta.testing.script import Revision, Script, ScriptedArticle

START = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
HOUR = 3600.0
FEED_PERIOD = 300.0
FIRST = Revision("Harbour bridge to close for repairs", ("The bridge closes on Monday.", "Traffic diverts."))
EDITED = Revision(
    "Harbour bridge to close for repairs", ("The bridge closes on Tuesday.", "Traffic diverts.")
)
# Six hours after publication News Sniffer's schedule waits ~27 minutes between checks; a feed poll is 5.
EDIT_AT = 6 * HOUR
WRONG_LASTMOD_AT = 9 * HOUR


def _script(*, wrong_lastmod: bool) -> Script:
    events = [(0.0, FIRST), (EDIT_AT, EDITED)]
    if wrong_lastmod:  # the same revision again: the sitemap's <lastmod> moves, the text does not
        events.append((WRONG_LASTMOD_AT, EDITED))
    return Script([ScriptedArticle("harbour-bridge", "local", events)], START)


def _crawl(tmp_path: Any, feed: str, *, wrong_lastmod: bool) -> dict[str, Any]:
    sessions = sqlite_store(tmp_path)
    with Newsroom(_script(wrong_lastmod=wrong_lastmod)) as newsroom:
        with sessions.begin() as session:
            add_feed(session, newsroom.url(feed), "newsroom", timedelta(seconds=FEED_PERIOD), (), START)

        async def crawl() -> None:
            async with fast_fetcher() as fetcher:
                ctx = CrawlContext(sessions=sessions, fetcher=fetcher, clock=newsroom.clock.now)
                await crawl_until(ctx, newsroom, START + timedelta(hours=12))

        with recording_checks() as checks:
            asyncio.run(crawl())
        requests = len(newsroom.requests_for("/news/harbour-bridge"))
    with sessions() as session:
        article = session.scalars(select(Article)).one()
        return {
            "article": (article.version_count, article.check_period_seconds, article.next_check_at),
            "checks": [(check.at, check.outcome) for check in sorted(checks, key=lambda check: check.at)],
            "requests": requests,
        }


def _capture_delay(run: dict[str, Any]) -> float:
    captured = [at for at, outcome in run["checks"] if outcome == "new_version"]
    assert len(captured) == 2
    return (captured[1] - START).total_seconds() - EDIT_AT


def test_a_newer_lastmod_makes_the_article_due_at_once(tmp_path_factory: pytest.TempPathFactory) -> None:
    with_signal = _crawl(tmp_path_factory.mktemp("sitemap"), "/sitemap.xml", wrong_lastmod=False)
    # RSS items carry only their publication date: no signal, the schedule alone finds the edit (six hours on,
    # the prior's hazard of 0.2 edits an hour makes that a check every 30 minutes).
    without = _crawl(tmp_path_factory.mktemp("rss"), "/rss.xml", wrong_lastmod=False)
    assert _capture_delay(with_signal) <= FEED_PERIOD < _capture_delay(without)


def test_a_wrong_lastmod_costs_one_request_and_nothing_else(tmp_path_factory: pytest.TempPathFactory) -> None:
    honest = _crawl(tmp_path_factory.mktemp("honest"), "/sitemap.xml", wrong_lastmod=False)
    wrong = _crawl(tmp_path_factory.mktemp("wrong"), "/sitemap.xml", wrong_lastmod=True)
    assert wrong["requests"] == honest["requests"] + 1
    extra = [check for check in wrong["checks"] if check not in honest["checks"]]
    assert len(extra) == 1
    at, outcome = extra[0]
    assert outcome != "new_version" and (at - START).total_seconds() - WRONG_LASTMOD_AT <= FEED_PERIOD
    assert [c for c in wrong["checks"] if c != extra[0]] == honest["checks"]
    assert wrong["article"] == honest["article"]  # same versions, same period, same next check


def test_the_reason_for_the_next_check_is_shown(tmp_path: Path) -> None:
    """`history --json` names the signal while it is pending, and the schedule once the check is done."""
    sessions = sqlite_store(tmp_path)
    url = "https://news.example/2026/03/02/harbour-bridge"
    later = START + timedelta(hours=2)
    with sessions.begin() as session:
        article, _ = track_article(
            session,
            url,
            get_or_create_source(session, "news", START),
            START,
            initial_period=timedelta(hours=1),
        )
        article.last_checked_at, article.next_check_at = START, later
    reason = _reason(tmp_path, url)
    assert reason["kind"] == "hazard" and "learned hazard (source news)" in reason["detail"]
    edited = START + timedelta(minutes=20)
    with sessions.begin() as session:
        assert apply_signals(session, {url: edited}, START + timedelta(minutes=25)) == 1
        assert apply_signals(session, {url: edited}, START + timedelta(minutes=30)) == 0  # the same: nothing
    reason = _reason(tmp_path, url)
    assert reason == {"kind": "signal", "detail": "a feed or sitemap says it changed at 2026-03-02 06:20 UTC"}


def _reason(directory: Path, url: str) -> dict[str, str]:
    result = CliRunner().invoke(
        cli, ["--db", f"sqlite:///{directory / 'newsdelta.sqlite3'}", "history", url, "--json"]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["next_check_reason"]

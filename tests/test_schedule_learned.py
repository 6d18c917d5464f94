"""newsdelta's learned schedule: the hazard estimate, live pages, request budgets (planned and enforced, in the
crawl and the Celery scheduler alike), its explanations and its figures in `status`."""

from __future__ import annotations

import asyncio
import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from crawl_support import crawl_scripted_day, fast_fetcher, sqlite_store
from sqlalchemy import select
from test_checklog import recording_checks

from newsdelta.cli import cli
from newsdelta.config import Settings
from newsdelta.crawl import CrawlContext
from newsdelta.crawl.budget import claim_articles
from newsdelta.crawl.learning import explain, hazard_book, learn_sections, section_of
from newsdelta.distributed import SchedulerOptions, make_celery, schedule_once, scheduler, status_report
from newsdelta.distributed.tasks import WorkerRuntime
from newsdelta.hazard import EDGES, PRIOR, PRIOR_RATES, Observation, estimate
from newsdelta.schedule import (
    ArticleFacts,
    BadBudget,
    Budget,
    Learned,
    LearnedPolicy,
    next_check_reason,
)
from newsdelta.store.models import Article, Check
from newsdelta.store.repository import add_feed, get_or_create_source, track_article
from newsdelta.testing.drive import crawl_until
from newsdelta.testing.newsroom import Newsroom
from newsdelta.testing.script import Revision, Script, ScriptedArticle

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def test_the_hazard_is_edits_over_exposure_smoothed_towards_the_prior() -> None:
    """100 articles watched for two days, 50 edits seen between 1 and 2 hours of age, none elsewhere."""
    history = [Observation(48.0, (1.5,) if n % 2 else ()) for n in range(100)]
    hazard = estimate(history)
    one_to_two = EDGES.index(1)
    # (50 edits + 10 pseudo-articles × 1 h × 0.35) / (100 article-hours + 10 × 1 h)
    assert hazard.rates[one_to_two] == pytest.approx((50 + 10 * 0.35) / 110)
    # No edit seen between 2 and 4 hours: 200 article-hours pull the prior's 0.2 down to 4 / 220.
    assert hazard.rates[one_to_two + 1] == pytest.approx(10 * 2 * 0.2 / (200 + 20))
    # Never watched past two days: the prior stands.
    assert hazard.rates[EDGES.index(48)] == pytest.approx(PRIOR_RATES[EDGES.index(48)])
    assert (hazard.articles, hazard.edits) == (100, 50)
    assert estimate([]).rates == pytest.approx(PRIOR.rates)
    # The next check comes once 0.1 edits are expected: from age 1 h at 0.486 edits/h, 12.3 minutes on.
    assert hazard.age_after(1.0, 0.1) == pytest.approx(1 + 0.1 / hazard.rates[one_to_two])
    assert hazard.age_after(900.0, 0.1) is None  # fewer than 0.1 edits left before 40 days: retired


def test_a_section_has_its_own_hazard_once_it_has_history_and_borrows_its_sources_before() -> None:
    assert section_of("https://news.example/politics/2026/03/02/vote") == "politics"
    assert section_of("https://news.example/2026/03/02/vote") is None
    assert section_of("https://news.example/vote") is None
    busy = [Observation(24.0, (0.2, 0.4)) for _ in range(30)]
    thin = [Observation(24.0, (0.2,)) for _ in range(5)]
    source = Learned(estimate(busy + thin), scope="source news")
    sections = learn_sections(source, "news", {"politics": busy, "sport": thin, None: thin})
    assert set(sections) == {"politics"}
    assert sections["politics"].hazard.rates[0] > source.hazard.rates[0]
    assert sections["politics"].scope == "section news/politics"


def _facts(edits: list[int], learned: Learned | None = None) -> ArticleFacts:
    """An article found 3 hours before NOW, edited `edits` minutes before NOW."""
    times = tuple(NOW - m * MINUTE for m in sorted(edits, reverse=True))
    return ArticleFacts(NOW - timedelta(hours=3), times, learned)


def test_a_live_page_is_checked_on_its_own_capped_cadence() -> None:
    policy = LearnedPolicy()
    # An edit every 2 minutes: half the gap would be 1 minute; the cap is every 5 (12 an hour).
    assert policy.plan(NOW, MINUTE, changed=True, facts=_facts([0, 2, 4])) == (5 * MINUTE, NOW + 5 * MINUTE)
    # Every 20 minutes: checked every 10.
    assert policy.plan(NOW, MINUTE, changed=True, facts=_facts([0, 20, 40]))[0] == 10 * MINUTE
    # Two edits within the hour are not a live page: the hazard decides (0.1 / 0.2 edits an hour at 3 h).
    assert policy.plan(NOW, MINUTE, changed=True, facts=_facts([0, 20]))[0] == 30 * MINUTE
    # A budget that has many live pages to pay for stretches their cadence.
    stretched = Learned(live_interval=12 * MINUTE)
    assert policy.plan(NOW, MINUTE, changed=True, facts=_facts([0, 2, 4], stretched))[0] == 12 * MINUTE

    article = Article(
        next_check_at=NOW + 5 * MINUTE,
        planned_check_at=None,
        signal_at=None,
        last_checked_at=NOW,
        error_streak=0,
        check_period_seconds=300.0,
    )
    reason = next_check_reason(article, policy, _facts([0, 2, 4]))
    assert reason.kind == "live"
    assert reason.detail == "live page: 3 edits within the hour; checked every 5 min (at most 12 an hour)"


def test_a_budget_raises_the_expected_edits_per_check_until_the_requests_fit() -> None:
    policy = LearnedPolicy()
    assert policy.threshold_for(None, demand=50.0, first_checks=10, live_pages=2) == (0.1, 5 * MINUTE, False)
    # 20 expected edits an hour and 10 first checks against 100 requests: 20 / 90 edits per check.
    threshold, _, limited = policy.threshold_for(100.0, demand=20.0, first_checks=10, live_pages=0)
    assert (threshold, limited) == (pytest.approx(20 / 90), True)
    assert policy.threshold_for(1000.0, demand=20.0, first_checks=10, live_pages=0)[::2] == (0.1, False)
    # Live pages get at most half the budget: 10 of them in 60 requests an hour are checked every 20 minutes.
    assert policy.threshold_for(60.0, demand=1.0, first_checks=0, live_pages=10)[1] == 20 * MINUTE


def test_budgets_parse_per_source_and_bad_ones_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    budget = Budget.parse("bbc=300, guardian=60,120")
    assert (budget.of("bbc"), budget.of("guardian"), budget.of("other")) == (300, 60, 120)
    assert Budget.parse("bbc=300").of("other") is None
    for bad in ("0", "-5", "lots", "bbc=nan"):
        with pytest.raises(BadBudget):
            Budget.parse(bad)
    monkeypatch.setenv("NEWSDELTA_BUDGET", "bbc=30")
    assert Settings.from_env().policy == LearnedPolicy(budget=Budget(None, (("bbc", 30.0),)))
    assert Settings.from_env(budget="45").policy == LearnedPolicy(budget=Budget(45.0))
    result = CliRunner().invoke(cli, ["--budget", "many", "status"])
    assert result.exit_code == 2 and "requests per hour must be a positive number" in result.output


def _checks_per_rolling_hour(times: list[datetime]) -> int:
    return max(sum(1 for t in times if start - timedelta(hours=1) < t <= start) for start in times)


def test_a_source_budget_is_respected_over_a_simulated_day(tmp_path: Path) -> None:
    """The scripted day under 8 checks an hour: never more in any hour, and `status` reports the figures."""
    sessions = sqlite_store(tmp_path)
    policy = LearnedPolicy(budget=Budget.parse("newsroom=8"))
    with Newsroom() as newsroom:
        crawl_scripted_day(sessions, newsroom, policy=policy)
        end = newsroom.clock.now()
    with sessions() as session:
        times = list(session.scalars(select(Check.at).order_by(Check.at)))
        book = hazard_book(session, policy, end)
    assert _checks_per_rolling_hour(times) <= 8  # the unbudgeted day peaks at 38 checks in a clock hour
    assert len(times) < 8 * 24 < 284  # 284: the unbudgeted day's checks
    assert book is not None
    [figures] = book.figures.values()
    assert figures.budget == 8 and figures.articles_learned_from > 10
    settings = Settings(data_dir=tmp_path, policy=policy)
    [row] = status_report(settings, now=end)["schedule"]["sources"]
    assert row["source"] == "newsroom" and row["budget_per_hour"] == 8
    assert 0 < row["budget_use"] <= 1 and 0 < row["estimated_capture"] <= 1


def _due_articles(tmp_path: Path, count: int) -> Settings:
    policy = LearnedPolicy(budget=Budget.parse("wire=2"))
    settings = Settings(data_dir=tmp_path, policy=policy, broker_url="redis://127.0.0.1:9/0")  # never reached
    sessions = sqlite_store(tmp_path)
    with sessions.begin() as session:
        wire, other = (get_or_create_source(session, name, NOW) for name in ("wire", "other"))
        for n, source in itertools.product(range(count), (wire, other)):
            url = f"https://{source.name}.example/news/{n}"
            track_article(session, url, source, NOW, initial_period=timedelta(0))
    return settings


def test_the_scheduler_claims_within_the_budget_as_the_crawl_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five due articles in a source with 2 checks an hour: both ways of dispatching take two of them (and
    all of the unbudgeted source's) and put the other three back for half an hour."""
    crawl_settings = _due_articles(tmp_path / "crawl", 5)
    sessions = sqlite_store(tmp_path / "crawl")
    with sessions() as session:
        claimed = claim_articles(
            session, NOW, limit=500, lease=10 * MINUTE, owner="crawl", policy=crawl_settings.policy
        )
    assert len(claimed) == 7

    settings = _due_articles(tmp_path / "scheduler", 5)
    sent: list[int] = []
    monkeypatch.setattr(scheduler, "queue_depth", lambda _app: 0)
    monkeypatch.setattr(scheduler, "_publish", lambda _app, _task, ids, _token: sent.extend(ids) or [])
    options = SchedulerOptions(policy=settings.policy)
    assert (
        schedule_once(
            make_celery(settings), sqlite_store(tmp_path / "scheduler"), lambda: NOW, options
        ).articles
        == 7
    )
    assert sent == claimed
    with sqlite_store(tmp_path / "scheduler")() as session:
        held = session.scalars(select(Article.next_check_at).where(Article.lease_owner.is_(None))).all()
    assert held == [NOW + 30 * MINUTE] * 3


def test_newsdelta_is_the_schedule_of_the_crawl_and_of_the_workers(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, db_url=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    runtime = WorkerRuntime(settings, lambda: NOW)
    assert runtime.context.policy == settings.policy == LearnedPolicy()
    runtime.loop.call_soon_threadsafe(runtime.loop.stop)


def test_history_explains_the_learned_plan(tmp_path: Path) -> None:
    sessions = sqlite_store(tmp_path)
    url = "https://news.example/politics/2026/03/02/vote"
    with sessions.begin() as session:
        article, _ = track_article(
            session, url, get_or_create_source(session, "news", NOW), NOW, initial_period=timedelta(0)
        )
        article.last_checked_at = NOW + timedelta(hours=3)
        article.next_check_at = NOW + timedelta(hours=3, minutes=30)
        article.check_period_seconds = 1800.0
    result = CliRunner().invoke(
        cli, ["--db", f"sqlite:///{tmp_path / 'newsdelta.sqlite3'}", "history", url, "--json"]
    )
    assert result.exit_code == 0, result.output
    reason = json.loads(result.output)["next_check_reason"]
    assert reason == {
        "kind": "hazard",
        "detail": "learned hazard (source news): 0.2 edits/h at age 3.0 h; checked again once 0.1 edits are "
        "expected: in 30 min",
    }


def _live_blog() -> Script:
    """Published at START, then an edit every 6 minutes for 90 minutes, then quiet."""
    revisions = [
        (minutes * 60.0, Revision("Storm live: updates", tuple(f"Update {n}." for n in range(step + 1))))
        for step, minutes in enumerate(range(0, 91, 6))
    ]
    return Script([ScriptedArticle("storm-live", "local", revisions)], NOW)


def test_a_live_page_in_the_newsroom_is_recognised_capped_and_let_go(tmp_path: Path) -> None:
    sessions = sqlite_store(tmp_path)
    with Newsroom(_live_blog()) as newsroom, recording_checks() as checks:
        with sessions.begin() as session:
            add_feed(session, newsroom.url("/rss.xml"), "newsroom", timedelta(minutes=5), (), NOW)

        async def crawl(until: timedelta) -> None:
            async with fast_fetcher() as fetcher:
                ctx = CrawlContext(sessions=sessions, fetcher=fetcher, clock=newsroom.clock.now)
                await crawl_until(ctx, newsroom, NOW + until)

        asyncio.run(crawl(timedelta(minutes=80)))
        with sessions() as session:
            article = session.scalars(select(Article)).one()
            during = explain(session, article, LearnedPolicy(), newsroom.clock.now())
        asyncio.run(crawl(timedelta(hours=5)))
        with sessions() as session:
            article = session.scalars(select(Article)).one()
            after = explain(session, article, LearnedPolicy(), newsroom.clock.now())
            times = sorted(check.at for check in checks)  # unchanged checks keep no row: recorded as made
            versions = article.version_count
    assert during.kind == "live" and "(at most 12 an hour)" in during.detail
    assert after.kind == "hazard"
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 300  # never more often than the cap, every 5 minutes
    live = [
        gap
        for gap, at in zip(gaps, times, strict=False)
        if NOW + timedelta(minutes=30) <= at <= NOW + 90 * MINUTE
    ]
    assert len(live) >= 10 and all(300 <= gap <= 450 for gap in live)  # half the gap between edits seen
    assert max(gaps) > 1800  # once quiet, no longer live
    assert versions >= 13  # of 16: the ones before it was recognised may be lost

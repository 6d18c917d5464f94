"""Outlets that lie: absurd Retry-After values and pages claiming another site's article as their own.

Each check must end in a recorded outcome (the crawl goes on), and no page may write into another site's history.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from crawl_support import fast_fetcher, sqlite_store
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from newsdelta.crawl import CrawlContext, PassStats, run_pass
from newsdelta.fetch import retry_after_seconds
from newsdelta.fetch.retry_after import MAX_RETRY_AFTER
from newsdelta.store.models import Article, ArticleAlias, Version
from newsdelta.store.repository import article_by_url, get_or_create_source, track_article

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(seconds=MAX_RETRY_AFTER)


def _article(title: str, canonical: str | None = None) -> httpx.Response:
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    paragraphs = "".join(
        f"<p>{title}: paragraph {n}, long enough for the extractor to keep it as text.</p>" for n in range(6)
    )
    html = f"<html><head><title>{title}</title>{link}</head><body><article><h1>{title}</h1>{paragraphs}</article></body></html>"
    return httpx.Response(200, content=html.encode(), headers={"content-type": "text/html; charset=utf-8"})


class Web:
    """A scripted internet: URL → answer, robots.txt absent everywhere."""

    def __init__(self, pages: dict[str, httpx.Response]) -> None:
        self.pages = pages

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        return self.pages.get(str(request.url), httpx.Response(404))


class Crawl:
    def __init__(self, tmp_path: Path, web: Web) -> None:
        self.sessions: sessionmaker[Session] = sqlite_store(tmp_path)
        self.web = web

    def track(self, *urls: str) -> list[int]:
        with self.sessions.begin() as session:
            source = get_or_create_source(session, "web", START)
            period = timedelta(minutes=30)
            return [track_article(session, url, source, START, initial_period=period)[0].id for url in urls]

    async def run(self, now: datetime = START, retries: int = 0) -> PassStats:
        async with fast_fetcher(transport=httpx.MockTransport(self.web), retries=retries) as fetcher:
            return await run_pass(CrawlContext(sessions=self.sessions, fetcher=fetcher, clock=lambda: now))

    def titles(self, url: str) -> Sequence[str]:
        with self.sessions() as session:
            article = article_by_url(session, url)
            if article is None:
                return []
            return session.scalars(
                select(Version.title).where(Version.article_id == article.id).order_by(Version.number)
            ).all()


# --- Retry-After ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 7200 ", 7200.0),
        ("999999999999999999999999", MAX_RETRY_AFTER),
        ("9" * 5000, MAX_RETRY_AFTER),
        ("Fri, 31 Dec 9999 23:59:59 GMT", MAX_RETRY_AFTER),
        ("Sun, 01 Mar 2026 12:10:00 GMT", 600.0),
        ("Mon, 01 Jan 2001 00:00:00 GMT", 0.0),
        ("²", None),  # str.isdigit() says yes, float() says no
        ("١٢٠", None),  # Arabic-Indic digits are not delta-seconds either
        ("-5", None),
        ("1e9", None),
        ("soon", None),
        ("Mon, 99 Foo 99999 99:99:99 GMT", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_is_read_defensively_and_clamped(value: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(value, now=START) == seconds


@pytest.mark.parametrize("retry_after", ["999999999999999999999999", "Fri, 31 Dec 9999 23:59:59 GMT"])
async def test_absurd_retry_after_is_an_error_of_at_most_a_day_and_the_crawl_goes_on(
    tmp_path: Path, retry_after: str
) -> None:
    busy, fine = "https://busy.example/news/2026/story-one", "https://fine.example/news/2026/story-two"
    crawl = Crawl(tmp_path, Web({busy: httpx.Response(503, headers={"retry-after": retry_after})}))
    crawl.web.pages[fine] = _article("Fine")
    busy_id, _ = crawl.track(busy, fine)
    stats = await crawl.run(retries=1)  # a wait longer than the fetcher's own is left to the schedule
    assert stats.outcomes == {"error": 1, "new_version": 1}
    with crawl.sessions() as session:
        article = session.get(Article, busy_id)
        assert article is not None and article.next_check_at is not None
        assert article.next_check_at.replace(tzinfo=UTC) - START == DAY
        assert "asking us to wait 86400s" in (article.last_error or "")
    assert crawl.titles(fine) == ["Fine"]


# --- rel=canonical across registrable domains -----------------------------------------------------------------

SHARED_HOSTS = [
    ("https://victim.substack.com/p/the-story", "https://evil.substack.com/p/the-claim"),
    ("https://victim.github.io/2026/the-story", "https://evil.github.io/2026/the-claim"),
    (
        "https://victim.blogspot.com/2026/03/the-story.html",
        "https://evil.blogspot.com/2026/03/the-claim.html",
    ),
]


@pytest.mark.parametrize(("victim", "evil"), SHARED_HOSTS)
async def test_a_canonical_claiming_another_sites_untracked_article_is_ignored(
    tmp_path: Path, victim: str, evil: str
) -> None:
    crawl = Crawl(tmp_path, Web({evil: _article("Forged", canonical=victim), victim: _article("Genuine")}))
    crawl.track(evil)
    assert (await crawl.run()).outcomes == {"new_version": 1}
    assert crawl.titles(victim) == []  # not renamed to the victim's URL
    assert crawl.titles(evil) == ["Forged"]
    crawl.track(victim)  # the victim's own feed finds it later: its history starts with its own page
    assert (await crawl.run()).outcomes == {"new_version": 1}
    assert crawl.titles(victim) == ["Genuine"]


@pytest.mark.parametrize(("victim", "evil"), SHARED_HOSTS)
async def test_a_canonical_claiming_another_sites_tracked_article_leaves_it_untouched(
    tmp_path: Path, victim: str, evil: str
) -> None:
    crawl = Crawl(tmp_path, Web({evil: _article("Forged", canonical=victim), victim: _article("Genuine")}))
    crawl.track(victim)
    await crawl.run()
    crawl.track(evil)
    assert (await crawl.run(START + timedelta(minutes=1))).outcomes == {"new_version": 1}
    assert crawl.titles(victim) == ["Genuine"]
    assert crawl.titles(evil) == ["Forged"]  # a separate article, not folded into the victim's
    with crawl.sessions() as session:
        assert session.scalars(select(ArticleAlias.url)).all() == []


async def test_a_canonical_within_one_registrable_domain_is_still_followed(tmp_path: Path) -> None:
    mobile, real = "https://m.outlet.co.uk/news/the-story-1", "https://www.outlet.co.uk/news/the-story-1"
    crawl = Crawl(tmp_path, Web({mobile: _article("Story", canonical=real)}))
    crawl.track(mobile)
    await crawl.run()
    assert crawl.titles(real) == ["Story"]

"""The newsroom's German, French and Spanish day (`newsdelta.testing.languages`), crawled on SQLite: the
stored versions hold exactly the stories' paragraphs (no byline, timestamp, "read also" line or counter,
none of which the extractor knows by its words), and re-checks of pages whose chrome changes on every
request store no new version, those pages having no class attribute at all."""

from __future__ import annotations

import urllib.request
from typing import Any

import pytest
from crawl_support import crawl_scripted_day, sqlite_store
from sqlalchemy import select

from newsdelta.store.models import Article, Version
from newsdelta.testing.drive import stored_history
from newsdelta.testing.languages import languages_day
from newsdelta.testing.newsroom import Newsroom
from newsdelta.testing.render import LOCALES

HOURS = 8


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    sessions = sqlite_store(tmp_path_factory.mktemp("languages"))
    with Newsroom(languages_day()) as newsroom:
        crawl_scripted_day(sessions, newsroom, hours=HOURS)
        pages = {a.slug: _page(newsroom, a.slug) for a in newsroom.script.articles()}
        return {
            "newsroom": newsroom,
            "sessions": sessions,
            "truth": newsroom.truth(),
            "stored": stored_history(sessions),
            "pages": pages,
        }


def _page(newsroom: Newsroom, slug: str) -> str:
    with urllib.request.urlopen(newsroom.url(slug)) as response:  # the loopback newsroom only
        body: bytes = response.read()
    return body.decode("utf-8")


def _fetched(stored: dict[str, Any]) -> list[tuple[str, tuple[str, ...]]]:
    return [(title, paragraphs) for origin, title, paragraphs in stored["versions"] if origin == "fetch"]


def test_the_pages_carry_chrome_worded_in_their_language(day: dict[str, Any]) -> None:
    """The test is only worth something if the chrome is there to be left out."""
    for article in day["newsroom"].script.articles():
        page, locale = day["pages"][article.slug], LOCALES[article.language]
        byline = article.events[0][1].byline
        assert f'<html lang="{article.language}">' in page
        assert byline.startswith(locale.lead_in) and byline in page
        assert f"{locale.read_also}: <a" in page and locale.comments in page and locale.related in page
    assert {a.language for a in day["newsroom"].script.articles()} == {"de", "fr", "es"}
    plain = [a for a in day["newsroom"].script.articles() if a.plain_markup]
    assert plain and all(" class=" not in day["pages"][a.slug] for a in plain)


def test_each_story_has_exactly_its_scripted_versions_and_paragraphs(day: dict[str, Any]) -> None:
    for url, data in day["truth"]["articles"].items():
        expected = [(v["title"], tuple(v["paragraphs"])) for v in data["versions"]]
        assert _fetched(day["stored"][url]) == expected, url
        assert all(len(paragraphs) == 2 for _, paragraphs in expected)


def test_the_edit_in_each_language_is_a_second_version(day: dict[str, Any]) -> None:
    edited = [a for a in day["newsroom"].script.articles() if len(a.events) > 1]
    assert {a.language for a in edited} == {"de", "fr", "es"}
    for article in edited:
        assert len(_fetched(day["stored"][day["newsroom"].url(article.slug)])) == 2


def test_chrome_that_changes_on_every_request_stores_no_new_version(day: dict[str, Any]) -> None:
    churning = [a for a in day["newsroom"].script.articles() if a.chrome_churn]
    assert {a.language for a in churning} == {"de", "fr", "es"}
    for article in churning:
        assert len(_fetched(day["stored"][day["newsroom"].url(article.slug)])) == 1
        assert len(day["newsroom"].requests_for(article.path)) > 3  # re-checked, not skipped


def test_bylines_and_times_are_stored_as_metadata_not_text(day: dict[str, Any]) -> None:
    script = {day["newsroom"].url(a.slug): a for a in day["newsroom"].script.articles()}
    with day["sessions"]() as session:
        for version, url in session.execute(select(Version, Article.url).join(Article)):
            article = script[url]
            lead_in = LOCALES[article.language].lead_in
            assert version.byline == article.events[0][1].byline.removeprefix(lead_in), url
            assert version.published is not None
            assert not any(lead_in.strip() in p.split()[:1] for p in version.paragraphs)

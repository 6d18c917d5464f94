"""RSS 2.0 and Atom feeds: they parse without bozo, follow each format's required structure, link to diffs.

No standards validator installs offline (the W3C feed validator is not on PyPI), so the checks below encode
the required elements of RSS 2.0 and RFC 4287 directly, with lxml, next to feedparser's own parse.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import feedparser
import pytest
from fastapi.testclient import TestClient
from lxml import etree
from web_support import Demo, demo, postgres_database

from newsdelta.config import Settings
from newsdelta.store.checklog import LoggedCheck, log_checks
from newsdelta.web.app import create_app
from newsdelta.web.fixtures import seed_demo

__all__ = ["demo"]

ATOM = "{http://www.w3.org/2005/Atom}"


def feed_paths(demo: Demo) -> list[str]:
    return [
        f"{base}.{fmt}"
        for base in ("/feed", "/sources/guardian/feed", f"/articles/{demo.ids.guardian}/feed", "/search/feed")
        for fmt in ("rss", "atom")
    ]


def fetch(demo: Demo, path: str) -> bytes:
    response = demo.client.get(path, params={"q": "Putin"} if path.startswith("/search") else None)
    assert response.status_code == 200, path
    assert response.headers["content-type"].startswith(
        "application/rss+xml" if path.endswith(".rss") else "application/atom+xml"
    )
    return response.content


def check_rss(body: bytes) -> None:
    root = etree.fromstring(body)
    assert root.tag == "rss" and root.get("version") == "2.0"
    (channel,) = root.findall("channel")
    for required in ("title", "link", "description"):
        assert channel.findtext(required), required
    self_link = channel.find(f"{ATOM}link[@rel='self']")
    assert self_link is not None and channel.findtext("link") != self_link.get(
        "href"
    )  # <link> is the web page
    for item in channel.findall("item"):
        assert item.findtext("title") and item.findtext("description")
        guid = item.find("guid")
        assert guid is not None and guid.get("isPermaLink") == "true" and guid.text == item.findtext("link")
        parsedate_to_datetime(item.findtext("pubDate"))  # RFC 822, or this raises


def check_atom(body: bytes) -> None:
    root = etree.fromstring(body)
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert root.findtext(f"{ATOM}{required}"), required
    assert root.find(f"{ATOM}author/{ATOM}name") is not None  # entries have none of their own
    assert root.find(f"{ATOM}link[@rel='self']") is not None
    datetime.fromisoformat(root.findtext(f"{ATOM}updated"))
    ids = [entry.findtext(f"{ATOM}id") for entry in root.findall(f"{ATOM}entry")]
    assert len(ids) == len(set(ids))
    for entry in root.findall(f"{ATOM}entry"):
        for required in ("id", "title", "updated"):
            assert entry.findtext(f"{ATOM}{required}"), required
        datetime.fromisoformat(entry.findtext(f"{ATOM}updated"))
        assert entry.find(f"{ATOM}link").get("href") == entry.findtext(f"{ATOM}id")
        assert entry.findtext(f"{ATOM}summary")
        content = entry.find(f"{ATOM}content")
        assert content is None or content.get("type") == "html"


def test_every_feed_parses_cleanly_and_has_the_required_structure(demo: Demo) -> None:
    for path in feed_paths(demo):
        body = fetch(demo, path)
        parsed = feedparser.parse(body)
        assert not parsed.bozo, (path, parsed.get("bozo_exception"))
        assert parsed.entries, path
        (check_rss if path.endswith(".rss") else check_atom)(body)


def test_article_feed_items_link_to_diffs_and_summarise_them(demo: Demo) -> None:
    parsed = feedparser.parse(fetch(demo, f"/articles/{demo.ids.guardian}/feed.rss"))
    assert [entry.link.rsplit("/diff/", 1)[1] for entry in parsed.entries] == [
        "4/5",
        "3/4",
        "2/3",
        "1/2",
        "0/1",
    ]
    seed = parsed.entries[1]
    assert (
        seed.title
        == "Headline changed: Syria military operation 'wrapping up', Putin tells Assad in Russia talks"
        " → Vladimir Putin briefs Donald Trump on plan to end Syrian civil war [guardian, version 4]"
    )
    assert parsed.entries[0].title.startswith("Vladimir Putin briefs")  # unchanged headline: just the title
    path = seed.link.split("testserver", 1)[1]
    diff = demo.client.get(f"/api{path}").json()
    assert seed.summary == diff["summary"]
    assert seed.summary.startswith("Headline changed;")
    assert demo.client.get(path).status_code == 200


def test_reparsed_versions_say_so_in_the_feed(demo: Demo) -> None:
    parsed = feedparser.parse(fetch(demo, f"/articles/{demo.ids.live}/feed.atom"))
    (reparse,) = [entry for entry in parsed.entries if entry.link.endswith("/diff/1/2")]
    assert "re-read by a newer parser, not an outlet edit" in reparse.summary


def test_hostile_titles_stay_text_in_feeds(demo: Demo) -> None:
    body = fetch(demo, "/feed.rss")
    assert b"<script>" not in body
    titles = [entry.title for entry in feedparser.parse(body).entries]
    assert (
        "Headline changed: Talks begin → Talks end <script>alert('x')</script> & agree [bbc, version 3]"
        in titles
    )


def test_search_feed_follows_the_words(demo: Demo) -> None:
    parsed = feedparser.parse(demo.client.get("/search/feed.atom", params={"q": "zebracorn"}).content)
    assert not parsed.bozo and parsed.entries == []  # the only match is hidden
    parsed = feedparser.parse(demo.client.get("/search/feed.rss", params={"q": "Sochi amended"}).content)
    assert [entry.link.rsplit("/", 3)[-3:] for entry in parsed.entries] == [["diff", "4", "5"]]
    assert parsed.entries[0].title.startswith("“Sochi amended” appeared in “Vladimir Putin briefs")


def test_search_feed_items_are_where_the_words_came_and_went(demo: Demo) -> None:
    live = demo.ids.live
    parsed = feedparser.parse(demo.client.get("/search/feed.rss", params={"q": "begin"}).content)
    assert [(entry.title, entry.link.split("/articles/")[1]) for entry in parsed.entries] == [
        (
            "“begin” removed from “Talks end <script>alert('x')</script> & agree” [bbc, version 3]",
            f"{live}/diff/2/3",
        ),
        ("“begin” appeared in “Talks begin” [bbc, version 0]", f"{live}/versions/0"),
    ]
    assert "Headline changed" in parsed.entries[0].description


@pytest.mark.postgres
def test_search_feed_items_on_postgresql(corpus: Path) -> None:
    with postgres_database() as sessions:
        live = seed_demo(sessions, corpus).live
        with TestClient(create_app(Settings(), sessions)) as client:
            parsed = feedparser.parse(client.get("/search/feed.atom", params={"q": "photograph"}).content)
        sessions.kw["bind"].dispose()
    assert [(entry.title, entry.link.split("/articles/")[1]) for entry in parsed.entries] == [
        ("“photograph” appeared in “Talks begin” [bbc, version 2]", f"{live}/diff/1/2")
    ]


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_empty_feeds_are_still_valid(demo: Demo, fmt: str) -> None:
    body = demo.client.get(f"/search/feed.{fmt}", params={"q": ""}).content
    assert not feedparser.parse(body).bozo
    (check_rss if fmt == "rss" else check_atom)(body)


def test_feeds_answer_304_to_a_reader_that_has_them(demo: Demo) -> None:
    first = demo.client.get("/feed.atom")
    again = demo.client.get("/feed.atom", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert demo.client.get("/feed.atom", headers={"If-None-Match": '"stale"'}).status_code == 200


def test_feed_items_show_the_changed_words(demo: Demo) -> None:
    parsed = feedparser.parse(fetch(demo, f"/articles/{demo.ids.live}/feed.atom"))
    newest = parsed.entries[0]
    content = newest.content[0].value
    assert "<li>Headline: <del>Talks begin</del> → <ins>Talks end &lt;script&gt;" in content
    assert "<li>Edited paragraph 1: Ministers met on Tuesday<ins> and agreed a deal</ins>.</li>" in content
    assert "<script>" not in content  # the outlet's text is escaped inside the HTML content


def test_article_feed_has_an_item_per_flip_flop(demo: Demo) -> None:
    with demo.sessions.begin() as session:
        for day in (23, 24):
            at = datetime(2017, 11, day, 14, 5, tzinfo=UTC)
            log_checks(session.connection(), [LoggedCheck(demo.ids.guardian, at, "flipflop", None, 3)])
    entries = feedparser.parse(fetch(demo, f"/articles/{demo.ids.guardian}/feed.rss")).entries
    assert [entry.title.split(":")[0] for entry in entries[:3]] == [
        "Switched back to version 3",
        "Switched back to version 3",
        "Vladimir Putin briefs Donald Trump on plan to end Syrian civil war [guardian, version 5]",
    ]
    assert (
        entries[0].title
        == "Switched back to version 3: Syria military operation 'wrapping up', Putin tells Assad in Russia talks"
    )
    assert entries[0].link.endswith(f"/articles/{demo.ids.guardian}/versions/3#20171124T140500Z")
    assert entries[0].link != entries[1].link

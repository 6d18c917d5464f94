"""The HTML pages on the demo data: News Sniffer's sentences, diffs, evidence, hidden articles, headers, admin."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select
from web_support import TOKEN, Demo, admin_login, demo, text_of

from newsdelta.config import Settings
from newsdelta.store.db import open_database
from newsdelta.store.evidence import load_raw_page
from newsdelta.store.evidence_db import DatabaseEvidence
from newsdelta.store.models import Article, Feed, Source
from newsdelta.web.app import create_app
from newsdelta.web.fixtures import HOSTILE_HTML, add_version, new_article

__all__ = ["demo"]  # the fixture, imported for pytest


def test_home_lists_each_changed_article_once_with_what_changed(demo: Demo) -> None:
    html = demo.client.get("/").text
    links = re.findall(r'<a class="title" href="(/articles/\d+/diff/\d+/\d+)">', html)
    ids = demo.ids
    assert links == [  # one row per article, the most recently changed first, linked to its latest change
        f"/articles/{ids.live}/diff/2/3",
        f"/articles/{ids.gone}/diff/0/1",
        f"/articles/{ids.retired}/diff/0/1",
        f"/articles/{ids.guardian}/diff/4/5",
    ]
    text = text_of(html)
    assert "version 3 · bbc · 7 minutes ago" in text
    assert "Headline changed; 1 paragraph edited (4 words)" in text
    assert "Talks begin → Talks end <script>alert('x')</script> & agree" in text  # both headlines
    assert "3 changes in the last 7 days" in text  # the live article's others fold under it
    assert 'class="mark mark-reparse"' in html  # the reparse is labelled, not passed off as an edit
    assert 'class="mark mark-removed"' in html
    assert "Secret hidden story" not in text


def test_home_filters_by_source(demo: Demo) -> None:
    text = text_of(demo.client.get("/?source=guardian").text)
    assert "Vladimir Putin briefs Donald Trump" in text
    assert "Talks end" not in text


def test_article_page_says_what_news_sniffer_said(demo: Demo) -> None:
    response = demo.client.get(f"/articles/{demo.ids.guardian}")
    text = text_of(response.text)
    assert (
        "This article is from the source 'guardian' and was first published or seen on 21 November 2017, 06:05 UTC."
        in text
    )
    assert "It last changed over 40 days ago and won't be checked again for changes." in text
    assert "The article has changed 5 times. There is an RSS feed of changes available." in text
    assert (
        f'<link rel="alternate" type="application/rss+xml" title="Changes to this article (RSS)" href="/articles/{demo.ids.guardian}/feed.rss">'
        in response.text
    )
    assert f'<a href="/articles/{demo.ids.guardian}/feed.rss">RSS feed of changes</a>' in response.text
    assert "21 November 2017, 19:20 UTC about 9 hours later" in text


def test_article_page_states_the_schedule_for_live_and_removed_articles(demo: Demo) -> None:
    live = text_of(demo.client.get(f"/articles/{demo.ids.live}").text)
    assert "The article has changed 2 times." in live  # 3 versions after the first, one of them a re-parse
    assert re.search(
        r"The next check for changes will be \d+ \w+ \d{4}, \d\d:\d\d UTC \(learned hazard \(source \w+\): "
        r"[\d.e-]+ edits/h at age [\d.]+ \w+; checked again once 0\.1 edits are expected: in [\d.]+ \w+\)\.",
        live,
    )
    gone = text_of(demo.client.get(f"/articles/{demo.ids.gone}").text)
    assert re.search(
        r"It disappeared from the outlet's site on \d+ \w+ \d{4}, \d\d:\d\d UTC\. It is no longer checked",
        gone,
    )
    with demo.sessions.begin() as session:  # the crawler may keep looking in case the page comes back
        session.get(Article, demo.ids.gone).next_check_at = datetime.now(UTC) + timedelta(hours=2)
    gone = text_of(demo.client.get(f"/articles/{demo.ids.gone}").text)
    assert re.search(
        r"UTC\. The next check for changes will be \d+ \w+ \d{4}, \d\d:\d\d UTC \([^)]+\)\.", gone
    )


def test_no_page_prints_an_empty_date(demo: Demo) -> None:
    for article_id in (demo.ids.guardian, demo.ids.live, demo.ids.retired, demo.ids.gone):
        text = text_of(demo.client.get(f"/articles/{article_id}").text)
        assert "first published or seen on ." not in text
        assert re.search(r"first published or seen on \d+ \w+ \d{4}, \d\d:\d\d UTC\.", text)


def test_seed_diff_side_by_side(demo: Demo) -> None:
    response = demo.client.get(f"/articles/{demo.ids.guardian}/diff/3/4")
    assert response.status_code == 200
    text = text_of(response.text)
    assert "Version 3 | Version 4 (about 9 hours later)" in text
    assert (
        "Headline in version 3: Syria military operation 'wrapping up', Putin tells Assad in Russia talks"
        in text
    )
    assert "Headline in version 4: Vladimir Putin briefs Donald Trump on plan to end Syrian civil war" in text
    assert '<table class="diff side">' in response.text
    assert "<del>" in response.text and "<ins>" in response.text
    assert (
        f'rel="prev" href="/articles/{demo.ids.guardian}/diff/2/3?view=side&amp;changes=all"' in response.text
    )
    assert (
        f'rel="next" href="/articles/{demo.ids.guardian}/diff/4/5?view=side&amp;changes=all"' in response.text
    )


def test_diff_shows_a_changed_byline(demo: Demo) -> None:
    html = demo.client.get(f"/articles/{demo.ids.guardian}/diff/2/3").text
    assert (
        '<th scope="row">Byline</th><td><span class="empty">(none)</span></td><td><ins>Shaun Walker in Moscow</ins></td>'
        in html
    )


def test_seed_diff_inline_and_changes_only(demo: Demo) -> None:
    base = f"/articles/{demo.ids.guardian}/diff/4/5"
    whole = demo.client.get(base + "?view=inline").text
    folded = demo.client.get(base + "?view=inline&changes=only").text
    assert '<div class="diff inline">' in whole
    assert "This article was amended on 22 November 2017" in text_of(whole)
    assert "unchanged paragraphs" in text_of(folded)
    assert folded.count('<p class="equal"') < whole.count('<p class="equal"')
    assert 'rel="next"' not in whole  # version 5 is the last


def test_diff_recognises_a_moved_paragraph(demo: Demo) -> None:
    paragraphs = [f"Paragraph {name} says something long enough to be recognised." for name in "ABCDEF"]
    with demo.sessions.begin() as session:
        article = new_article(
            session.scalars(select(Source)).first(), "https://example.org/moves", datetime.now(UTC)
        )
        session.add(article)
        add_version(session, article, "Moves", paragraphs, datetime.now(UTC) - timedelta(hours=1))
        add_version(
            session, article, "Moves", paragraphs[1:5] + paragraphs[:1] + paragraphs[5:], datetime.now(UTC)
        )
        session.flush()
        article_id = article.id
    text = text_of(demo.client.get(f"/articles/{article_id}/diff/0/1").text)
    assert "↓ moved to paragraph 5" in text
    assert "↑ moved here from paragraph 1" in text
    inline = text_of(demo.client.get(f"/articles/{article_id}/diff/0/1?view=inline").text)
    assert "Moved from paragraph 1: Paragraph A" in inline


def test_reparse_and_removal_are_labelled_as_such(demo: Demo) -> None:
    reparse = text_of(demo.client.get(f"/articles/{demo.ids.live}/diff/1/2").text)
    assert "Version 2: re-read by a newer parser, not an outlet edit (" in reparse
    removed = text_of(demo.client.get(f"/articles/{demo.ids.gone}/diff/0/1").text)
    assert "The page was removed: the outlet answered HTTP 410" in removed


def test_diff_between_any_two_versions_and_the_compare_form(demo: Demo) -> None:
    article = demo.ids.guardian
    response = demo.client.get(f"/articles/{article}/diff?from=0&to=5", follow_redirects=False)
    assert response.headers["location"] == f"/articles/{article}/diff/0/5"
    assert "Version 0 | Version 5 (1 day later)" in text_of(
        demo.client.get(f"/articles/{article}/diff/0/5").text
    )
    swapped = demo.client.get(f"/articles/{article}/diff/5/0", follow_redirects=False)
    assert swapped.headers["location"].startswith(f"/articles/{article}/diff/0/5")
    assert demo.client.get(f"/articles/{article}/diff/3/99").status_code == 404


def test_version_page_shows_the_text_and_links_the_evidence(demo: Demo) -> None:
    page = demo.client.get(f"/articles/{demo.ids.guardian}/versions/3")
    text = text_of(page.text)
    assert "Vladimir Putin has hosted Bashar al-Assad for talks" in text
    assert "Shaun Walker in Moscow" in text
    assert f'href="/articles/{demo.ids.guardian}/versions/3/raw"' in page.text


def test_raw_page_is_served_as_inert_text(demo: Demo) -> None:
    raw = demo.client.get(f"/articles/{demo.ids.guardian}/versions/3/raw")
    assert raw.status_code == 200
    assert raw.content == HOSTILE_HTML
    assert raw.headers["content-type"].startswith("text/plain")
    assert raw.headers["content-security-policy"].startswith("sandbox")
    assert raw.headers["x-content-type-options"] == "nosniff"
    download = demo.client.get(f"/articles/{demo.ids.guardian}/versions/3/raw?download=1")
    assert download.headers["content-disposition"].startswith("attachment;")
    with demo.sessions() as session:
        [sha] = DatabaseEvidence(session).iterate()
        assert load_raw_page(DatabaseEvidence(session), sha) == download.content
    assert demo.client.get(f"/articles/{demo.ids.guardian}/versions/4/raw").status_code == 404


def test_article_text_is_escaped_everywhere(demo: Demo) -> None:
    live = demo.ids.live
    for url in (
        "/",
        f"/articles/{live}",
        f"/articles/{live}/diff/2/3",
        f"/articles/{live}/versions/3",
        "/search?q=talks",
    ):
        html = demo.client.get(url).text
        assert "<script>" not in html, url
        assert "&lt;script&gt;" in html, url


def test_stored_urls_are_only_linked_when_they_are_http(demo: Demo) -> None:
    with demo.sessions.begin() as session:
        session.get(Article, demo.ids.retired).url = "javascript:alert(1)"
    for url in (f"/articles/{demo.ids.retired}", f"/articles/{demo.ids.retired}/diff/0/1"):
        html = demo.client.get(url).text
        assert 'href="javascript:' not in html and 'href="#"' in html, url
    assert 'href="https://www.bbc.co.uk/news/live-demo"' in demo.client.get(f"/articles/{demo.ids.live}").text


def test_security_headers(demo: Demo) -> None:
    headers = demo.client.get("/").headers
    assert "default-src 'none'" in headers["content-security-policy"]
    assert "script-src" not in headers["content-security-policy"]  # no scripts at all
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"


def test_hidden_article_answers_410_on_every_page_and_feed(demo: Demo) -> None:
    hidden = demo.ids.hidden
    for url in (
        f"/articles/{hidden}",
        f"/articles/{hidden}/diff/0/1",
        f"/articles/{hidden}/versions/0",
        f"/articles/{hidden}/versions/0/raw",
        f"/articles/{hidden}/feed.rss",
        f"/articles/{hidden}/feed.atom",
        f"/api/articles/{hidden}",
        f"/api/articles/{hidden}/versions/1",
        f"/api/articles/{hidden}/diff/0/1",
    ):
        response = demo.client.get(url)
        assert response.status_code == 410, url
        assert "Removed after a legal request." in response.text, url
        assert "zebracorn" not in response.text, url
    for url in ("/", "/feed.rss", "/sources/bbc", "/search?q=zebracorn", "/api/articles"):
        assert "Secret hidden story" not in demo.client.get(url).text, url


def test_bad_parameters_get_a_readable_page(demo: Demo) -> None:
    page = demo.client.get("/?page=0")
    assert page.status_code == 422 and page.headers["content-type"].startswith("text/html")
    assert "page: Input should be greater than or equal to 1" in text_of(page.text)
    assert demo.client.get("/api/articles?page=0").json()["detail"][0]["loc"] == ["query", "page"]


def test_unknown_things_are_404(demo: Demo) -> None:
    for url in ("/articles/999", "/sources/nope", "/articles/1/versions/99", "/sources/nope/feed.rss"):
        assert demo.client.get(url).status_code == 404, url


def test_health_is_not_ok_while_a_source_stores_nothing_for_a_day(demo: Demo) -> None:
    # guardian's one article is retired: with nothing left to check there, a quiet day is not a fault.
    assert demo.client.get("/health").status_code == 200
    with demo.sessions.begin() as session:
        session.get(Article, demo.ids.guardian).next_check_at = datetime.now(UTC)
    unhealthy = demo.client.get("/health")
    assert unhealthy.status_code == 503
    assert "Not OK: guardian stored nothing in the last 24 hours." in text_of(unhealthy.text)
    bbc_row = text_of(demo.client.get("/sources/bbc").text)
    # Articles, checks, new versions, error rate over the last day; checks are counted by the hour, from the
    # start of the hour 24 hours ago, so the hidden article's first check, just over a day old, is in.
    assert "bbc 4 10 6 10%" in bbc_row
    with demo.sessions.begin() as session:
        article = session.get(Article, demo.ids.guardian)
        add_version(session, article, "A fresh headline", ["Fresh text."], datetime.now(UTC))
    healthy = demo.client.get("/health")
    assert healthy.status_code == 200
    assert demo.client.get("/api/health").json()["ok"] is True


def test_search_collapses_versions_per_article(demo: Demo) -> None:
    text = text_of(demo.client.get("/search?q=Putin+Assad").text)
    assert text.count("Vladimir Putin briefs Donald Trump on plan to end Syrian civil war") == 1
    assert "guardian · 6 matching versions, newest version 5" in text
    assert "No version of any article matches “nothingmatchesthis”." in text_of(
        demo.client.get("/search?q=nothingmatchesthis").text
    )
    syntax = demo.client.get('/search?q="OR NEAR( AND*')
    assert syntax.status_code == 200  # search syntax in user input is just words


def test_search_index_follows_new_and_deleted_versions(demo: Demo) -> None:
    assert "Talks end" not in text_of(demo.client.get("/search?q=quokka").text)
    with demo.sessions.begin() as session:
        add_version(
            session,
            session.get(Article, demo.ids.live),
            "Quokka talks",
            ["A quokka appeared."],
            datetime.now(UTC),
        )
    assert "Quokka talks" in text_of(demo.client.get("/search?q=quokka").text)
    with demo.sessions.begin() as session:
        session.delete(session.get(Article, demo.ids.live))
    assert "No version of any article matches" in text_of(demo.client.get("/search?q=quokka").text)


def test_admin_actions_need_the_token(demo: Demo) -> None:
    client = demo.client
    refused = client.post("/admin/track", data={"url": "https://example.org/a", "token": TOKEN})
    assert refused.status_code == 403  # a token in the form is not a session
    assert client.post("/api/admin/track", json={"url": "https://example.org/a"}).status_code == 403
    csrf = admin_login(client)
    done = client.post(
        "/admin/track", data={"url": "https://example.org/a?utm_source=x", **csrf}, follow_redirects=False
    )
    assert done.status_code == 303
    with demo.sessions() as session:
        assert (
            session.scalar(select(Article.url).where(Article.url.like("https://example.org/a%")))
            == "https://example.org/a"
        )
    hostile = client.post(
        "/api/admin/track", json={"url": "javascript:alert(1)"}, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert hostile.status_code == 422


def test_admin_hides_an_article_and_manages_feeds(demo: Demo) -> None:
    client = demo.client
    auth = {"Authorization": f"Bearer {TOKEN}"}
    client.post(
        "/admin/hide", data={"article": demo.ids.retired, "reason": "Court order 12.", **admin_login(client)}
    )
    gone = client.get(f"/articles/{demo.ids.retired}")
    assert gone.status_code == 410 and "Court order 12." in gone.text
    client.post(f"/api/admin/articles/{demo.ids.retired}/unhide", headers=auth)
    assert client.get(f"/articles/{demo.ids.retired}").status_code == 200
    added = client.post(
        "/api/admin/feeds", json={"url": "https://example.org/rss", "source": "example"}, headers=auth
    )
    feed_id = added.json()["id"]
    assert "https://example.org/rss" in client.get("/admin").text
    assert client.delete(f"/api/admin/feeds/{feed_id}", headers=auth).json()["message"] == "feed removed"
    with demo.sessions() as session:
        assert session.get(Feed, feed_id) is None


def test_admin_actions_happen_at_the_apps_clock(tmp_path) -> None:
    moment = datetime(2031, 5, 6, 7, 8, tzinfo=UTC)
    sessions = open_database(f"sqlite:///{tmp_path / 'clock.sqlite3'}")
    client = TestClient(create_app(Settings(admin_token=TOKEN), sessions, clock=lambda: moment))
    auth = {"Authorization": f"Bearer {TOKEN}"}
    feed = client.post(
        "/api/admin/feeds", json={"url": "https://example.org/rss", "source": "x"}, headers=auth
    )
    article = client.post("/api/admin/track", json={"url": "https://example.org/a"}, headers=auth)
    with sessions() as session:
        assert session.get(Feed, feed.json()["id"]).next_check_at == moment  # type: ignore[union-attr]
        assert session.get(Article, article.json()["id"]).first_seen_at == moment  # type: ignore[union-attr]


def test_admin_is_disabled_without_a_configured_token(tmp_path, corpus) -> None:
    client = TestClient(
        create_app(Settings(admin_token=None), open_database(f"sqlite:///{tmp_path / 'x.sqlite3'}"))
    )
    response = client.post(
        "/api/admin/track", json={"url": "https://example.org/"}, headers={"Authorization": "Bearer "}
    )
    assert response.status_code == 403
    assert "disabled" in response.json()["detail"]


def test_home_pages_through_older_changes(demo: Demo) -> None:
    with demo.sessions.begin() as session:
        source = session.get(Article, demo.ids.retired).source
        start = datetime.now(UTC) - timedelta(days=30)
        for n in range(30):
            article = new_article(source, f"https://www.bbc.co.uk/news/paged-{n}", start)
            session.add(article)
            for edit in range(2):
                add_version(
                    session, article, "A story", [f"Edit {edit}."], start + timedelta(minutes=n, seconds=edit)
                )
    first = demo.client.get("/").text
    assert first.count('<a class="title"') == 25
    assert 'rel="next" href="/?page=2"' in first and 'rel="prev"' not in first
    second = demo.client.get("/?page=2").text
    assert 'rel="prev" href="/?page=1"' in second
    assert f"/articles/{demo.ids.guardian}/diff/4/5" in second  # the longest unchanged is on the last page


def test_the_clock_is_the_apps_own(demo: Demo) -> None:
    """The demo crawls in fast-forwarded time: "ago" and the health check follow the clock it hands over."""
    hour_later = TestClient(
        create_app(Settings(), demo.sessions, clock=lambda: datetime.now(UTC) + timedelta(hours=1))
    )
    assert "version 3 · bbc · about 1 hour ago" in text_of(hour_later.get("/").text)
    days_later = TestClient(
        create_app(Settings(), demo.sessions, clock=lambda: datetime.now(UTC) + timedelta(days=2))
    )
    assert re.search(r"version 3 · bbc · \d+ \w+ \d{4}, \d\d:\d\d UTC", text_of(days_later.get("/").text))
    assert days_later.get("/api/health").json()["stale"] == ["bbc"]  # guardian: nothing left to check


def test_newsdelta_serve_answers_over_http(tmp_path) -> None:
    """The CLI's `serve` runs newsdelta.web.app.serve: a real uvicorn on a real port, on a fresh data dir."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "newsdelta", "--data-dir", str(tmp_path), "serve", "--port", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read().decode()  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "serve did not answer within 30 s"
                time.sleep(0.2)
        assert response.status_code == 200 and "No changes recorded yet." in response.text
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_search_pages_through_many_articles(demo: Demo) -> None:
    with demo.sessions.begin() as session:
        source = session.scalars(select(Source)).first()
        for n in range(25):
            article = new_article(source, f"https://example.org/walrus/{n}", datetime.now(UTC))
            session.add(article)
            add_version(session, article, f"Walrus story {n}", ["A walrus was seen."], datetime.now(UTC))
    first = demo.client.get("/search?q=walrus").text
    second = demo.client.get("/search?q=walrus&page=2").text
    assert first.count('<a class="title"') == 20 and second.count('<a class="title"') == 5
    assert 'rel="next" href="/search?q=walrus&amp;page=2"' in first
    assert 'rel="prev" href="/search?q=walrus&amp;page=1"' in second


def test_metrics_are_served_for_prometheus(demo: Demo) -> None:
    response = demo.client.get("/metrics/")
    assert response.status_code == 200
    assert "newsdelta_checks_total" in response.text
    assert "newsdelta_fetch_seconds_bucket" in response.text

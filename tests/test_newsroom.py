"""The simulated newsroom over real HTTP: every scripted behaviour, the truth it reports, and its modes."""

from __future__ import annotations

import json
import math
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import feedparser
import httpx
import lxml.etree
import lxml.html
import pytest
from protego import Protego

from newsdelta.testing.default_day import DAY_START, HOUR
from newsdelta.testing.newsroom import Newsroom
from newsdelta.testing.script import ScriptedArticle
from newsdelta.testing.synthetic import SyntheticScript
from newsdelta.text import version_hash

DAY = 24 * HOUR
SLOW = 0.3
NEWS_NS = {
    "s": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "n": "http://www.google.com/schemas/sitemap-news/0.9",
}


@pytest.fixture
def newsroom() -> Iterator[Newsroom]:
    with Newsroom(slow_delay=SLOW) as room:
        yield room


@pytest.fixture
def client(newsroom: Newsroom) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=newsroom.base_url, timeout=5) as http:
        yield http


def at(newsroom: Newsroom, hours: float) -> None:
    newsroom.clock.set(DAY_START + timedelta(hours=hours))


def story(html: bytes | str) -> tuple[str, list[str]]:
    """Title and paragraphs as a simple extractor would read them from the page."""
    document = lxml.html.fromstring(html)
    title = document.xpath("string(//article//h1)")
    paragraphs = [p.text_content().strip() for p in document.xpath("//div[contains(@class, 'story-body')]/p")]
    return title, paragraphs


def feed_links(client: httpx.Client, path: str) -> list[str]:
    response = client.get(path)
    if path.endswith(".json"):  # feedparser 6.0 does not read JSON Feed
        feed = response.json()
        assert feed["version"] == "https://jsonfeed.org/version/1.1"
        return [item["url"] for item in feed["items"]]
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return [entry.link for entry in parsed.entries]


# --- feeds, sitemap, robots, front page -------------------------------------------------------------------


def test_feeds_list_articles_as_they_are_published_and_drop_deleted_ones(
    newsroom: Newsroom, client: httpx.Client
) -> None:
    assert feed_links(client, "/rss.xml") == []
    at(newsroom, 1)
    early = {link.split("?")[0].rsplit("/", 1)[-1] for link in feed_links(client, "/rss.xml")}
    assert early == {
        "harbour-bridge-repairs",
        "minister-expenses-row",
        "school-funding-gap",
        "city-marathon-results",
        "museum-closure",
        "council-budget-vote-draft",
        "pound-cafe-rally",
        "rail-strike-talks",
        "embargoed-crime-figures",
    }
    at(newsroom, 23)
    for path in ("/rss.xml", "/atom.xml", "/feed.json"):
        links = feed_links(client, path)
        assert len(links) == 14, path  # 15 scripted, the museum deleted at hour 8
        assert not any("museum-closure" in link for link in links)
    rss = feed_links(client, "/rss.xml")
    assert all(link.endswith("?utm_source=rss&utm_medium=feed") for link in rss)
    assert newsroom.base_url + "/news/council-budget-vote-draft?utm_source=rss&utm_medium=feed" in rss


def test_feed_titles_follow_the_headline_and_feeds_answer_304(
    newsroom: Newsroom, client: httpx.Client
) -> None:
    at(newsroom, 2)
    first = client.get("/atom.xml")
    titles = {e.id: e.title for e in feedparser.parse(first.content).entries}
    assert (
        titles["tag:newsroom.test,2026:election-poll-slump"] == "Poll puts governing party four points behind"
    )
    assert client.get("/atom.xml", headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    at(newsroom, 4)
    changed = client.get("/atom.xml", headers={"If-None-Match": first.headers["etag"]})
    assert changed.status_code == 200
    titles = {e.id: e.title for e in feedparser.parse(changed.content).entries}
    assert (
        titles["tag:newsroom.test,2026:election-poll-slump"]
        == "Governing party slumps to two-year low in new poll"
    )


def test_news_sitemap_lists_the_alias_url(newsroom: Newsroom, client: httpx.Client) -> None:
    at(newsroom, 12)
    tree = lxml.etree.fromstring(client.get("/sitemap.xml").content)
    locations = tree.xpath("//s:url/s:loc/text()", namespaces=NEWS_NS)
    assert newsroom.base_url + "/http/news/council-budget-approved" in locations
    assert len(locations) == 12
    titles = tree.xpath("//n:news/n:title/text()", namespaces=NEWS_NS)
    assert "Minister resigns over expenses row" in titles


def test_robots_disallows_private_and_the_front_page_links_articles(
    newsroom: Newsroom, client: httpx.Client
) -> None:
    robots = Protego.parse(client.get("/robots.txt").text)
    assert not robots.can_fetch(newsroom.url("embargoed-crime-figures"), "newsdelta")
    assert robots.can_fetch(newsroom.url("harbour-bridge-repairs"), "newsdelta")
    assert newsroom.disallowed_paths() == ["/private/embargoed-crime-figures"]
    at(newsroom, 12)
    front = lxml.html.fromstring(client.get("/").content)
    hrefs = front.xpath("//a/@href")
    assert "/news/school-funding-gap" in hrefs and "/section/politics" in hrefs
    assert client.get("/section/politics").status_code == 200


# --- article behaviours -----------------------------------------------------------------------------------


def test_edited_article_serves_each_revision_with_validators_and_304(
    newsroom: Newsroom, client: httpx.Client
) -> None:
    path = "/news/harbour-bridge-repairs"
    assert client.get(path).status_code == 404  # not yet published
    at(newsroom, 1)
    first = client.get(path)
    assert first.status_code == 200 and first.headers["content-type"] == "text/html; charset=utf-8"
    assert story(first.content)[1][2].endswith("adding about 15 minutes to journeys.")
    assert client.get(path, headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    since = first.headers["last-modified"]
    assert client.get(path, headers={"If-Modified-Since": since}).status_code == 304
    at(newsroom, 4)
    edited = client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert edited.status_code == 200 and edited.headers["etag"] != first.headers["etag"]
    assert client.get(path, headers={"If-Modified-Since": since}).status_code == 200
    assert "20 minutes to journeys at peak times" in story(edited.content)[1][2]


def test_served_text_hashes_to_the_expected_version_at_every_hour() -> None:
    """The truth is about what the pages really say, including the malformed and windows-1252 pages."""
    with Newsroom(slow_delay=0) as newsroom, httpx.Client(base_url=newsroom.base_url) as client:
        check_every_page_against_the_truth(newsroom, client)


def check_every_page_against_the_truth(newsroom: Newsroom, client: httpx.Client) -> None:
    for hour in range(0, 24, 2):
        at(newsroom, hour + 0.99)
        for slug in newsroom.script.slugs():
            article = newsroom.article_for(slug)
            response = client.get(article.path)
            if response.status_code != 200 or article.private:
                continue
            title, paragraphs = story(response.content)
            hashes = [version.hash for version in newsroom.expected(slug)]
            assert version_hash(title, paragraphs) in hashes, (slug, hour)


def test_chrome_changes_on_every_request_but_the_text_does_not(
    newsroom: Newsroom, client: httpx.Client
) -> None:
    at(newsroom, 1)
    path = "/news/city-marathon-results"
    first, second = client.get(path), client.get(path)
    assert first.content != second.content
    assert first.headers["etag"] != second.headers["etag"]
    assert story(first.content) == story(second.content)
    again = client.get(path, headers={"If-None-Match": second.headers["etag"]})
    assert again.status_code == 200  # as on real ad-funded sites: a fresh ETag, never a 304
    assert "minutes ago" in again.text and 'name="request-id"' in again.text
    assert len(newsroom.expected(path)) == 1


def test_deleted_article_answers_410(newsroom: Newsroom, client: httpx.Client) -> None:
    at(newsroom, 7.9)
    assert client.get("/news/museum-closure").status_code == 200
    assert newsroom.gone_slugs() == []
    at(newsroom, 8)
    assert client.get("/news/museum-closure").status_code == 410
    assert newsroom.gone_slugs() == ["museum-closure"]


def test_old_path_and_alias_redirect_to_the_canonical_article(
    newsroom: Newsroom, client: httpx.Client
) -> None:
    at(newsroom, 1)
    canonical = newsroom.url("council-budget-approved")
    for old in ("/news/council-budget-vote-draft", "/http/news/council-budget-approved"):
        moved = client.get(old + "?utm_source=rss")
        assert moved.status_code == 301
        assert moved.headers["location"] == canonical + "?utm_source=rss"
        followed = client.get(old, follow_redirects=True)
        assert str(followed.url) == canonical and followed.status_code == 200
        assert newsroom.expected(newsroom.base_url + old) == newsroom.expected("council-budget-approved")
    assert f'<link rel="canonical" href="{canonical}">' in followed.text


def test_slow_page_does_not_hold_up_other_pages(newsroom: Newsroom) -> None:
    at(newsroom, 2)
    began = time.perf_counter()
    finished: dict[str, float] = {}

    def fetch(http: httpx.Client, path: str) -> None:
        assert http.get(path).status_code == 200
        finished[path] = time.perf_counter() - began

    with (
        httpx.Client(base_url=newsroom.base_url) as first,
        httpx.Client(base_url=newsroom.base_url) as second,
    ):
        slow = threading.Thread(target=fetch, args=(first, "/news/rail-strike-talks"))
        slow.start()
        time.sleep(0.05)
        fetch(second, "/news/harbour-bridge-repairs")
        slow.join()
    assert finished["/news/rail-strike-talks"] >= SLOW
    assert finished["/news/harbour-bridge-repairs"] < finished["/news/rail-strike-talks"]


def test_unavailable_once_then_ok(newsroom: Newsroom, client: httpx.Client) -> None:
    at(newsroom, 3)
    failed = client.get("/news/hospital-waiting-lists")
    assert failed.status_code == 503 and failed.headers["retry-after"] == "1"
    assert client.get("/news/hospital-waiting-lists").status_code == 200
    assert [r.status for r in newsroom.requests_for("/news/hospital-waiting-lists")] == [503, 200]


def test_malformed_page_still_parses(newsroom: Newsroom, client: httpx.Client) -> None:
    at(newsroom, 4)
    page = client.get("/news/river-cleanup-volunteers").text
    body = page[page.index("<div class=story-body>") : page.index("</article>")]
    assert "</body>" not in page and "<p>" in body and "</p>" not in body and " & " in body
    assert story(page)[1] == list(newsroom.expected("river-cleanup-volunteers")[0].paragraphs)


def test_windows_1252_page_declares_its_charset_only_in_html(
    newsroom: Newsroom, client: httpx.Client
) -> None:
    at(newsroom, 1)
    response = client.get("/news/pound-cafe-rally")
    assert response.headers["content-type"] == "text/html"
    assert b'<meta charset="windows-1252">' in response.content
    assert b"\xa33.40" in response.content and b"\x93strong\x94" in response.content  # £3.40, “strong”
    title, paragraphs = story(response.content.decode("windows-1252"))
    assert title == "Pound rallies as café chains report “strong” Christmas"
    assert version_hash(title, paragraphs) == newsroom.expected("pound-cafe-rally")[0].hash


def test_request_log_records_host_path_and_status(newsroom: Newsroom, client: httpx.Client) -> None:
    at(newsroom, 2)
    assert newsroom.requests_for("/private/embargoed-crime-figures") == []
    client.get("/private/embargoed-crime-figures")
    client.get("/robots.txt")
    (record,) = newsroom.requests_for("/private/embargoed-crime-figures")
    assert (record.method, record.status) == ("GET", 200)
    assert record.host == newsroom.base_url.removeprefix("http://")
    assert record.clock == DAY_START + timedelta(hours=2)
    assert newsroom.stats()["counts"] == {"/private/embargoed-crime-figures": 1, "/robots.txt": 1}


# --- the truth ---------------------------------------------------------------------------------------------

# slug: (versions after the day, flip-flops, gone)
SCRIPTED_DAY = {
    "harbour-bridge-repairs": (3, 0, False),  # the hour-18 re-publish differs only in invisible characters
    "minister-expenses-row": (2, 0, False),  # the hour-12 byline change is not a version
    "school-funding-gap": (4, 0, False),
    "industrial-estate-fire": (2, 0, False),
    "election-poll-slump": (2, 2, False),
    "city-marathon-results": (1, 0, False),
    "museum-closure": (2, 0, True),
    "council-budget-approved": (2, 0, False),
    "rail-strike-talks": (2, 0, False),
    "hospital-waiting-lists": (2, 0, False),
    "river-cleanup-volunteers": (2, 0, False),
    "pound-cafe-rally": (2, 0, False),
    "embargoed-crime-figures": (0, 0, False),  # robots.txt forbids it: never fetched, nothing stored
    "weekend-weather-warning": (2, 0, False),
    "library-late-opening": (1, 0, False),
}


def test_expected_versions_after_the_scripted_day(newsroom: Newsroom) -> None:
    at(newsroom, 24)
    outcome = {
        slug: (
            len(newsroom.expected(slug)),
            newsroom.expected_flip_flops(slug),
            slug in newsroom.gone_slugs(),
        )
        for slug in newsroom.script.slugs()
    }
    assert outcome == SCRIPTED_DAY
    poll = newsroom.expected("election-poll-slump")
    assert [v.title for v in poll] == [
        "Poll puts governing party four points behind",
        "Governing party slumps to two-year low in new poll",
    ]
    school = [v.paragraphs for v in newsroom.expected("school-funding-gap")]
    assert len(school[1]) == len(school[0]) + 2 and len(school[2]) == len(school[1]) - 1
    assert sorted(school[3]) == sorted(school[2]) and school[3] != school[2]
    assert newsroom.expected("industrial-estate-fire")[1].paragraphs[-1].startswith("Correction:")


def test_expected_only_counts_what_happened_by_now(newsroom: Newsroom) -> None:
    at(newsroom, 6.5)
    assert len(newsroom.expected("election-poll-slump")) == 2
    assert newsroom.expected_flip_flops("election-poll-slump") == 1
    assert newsroom.expected("weekend-weather-warning") == []
    truth = newsroom.truth()
    assert newsroom.url("weekend-weather-warning") not in truth["articles"]
    council = truth["articles"][newsroom.url("council-budget-approved")]
    assert council["aliases"] == [
        newsroom.url("/news/council-budget-vote-draft"),
        newsroom.url("/http/news/council-budget-approved"),
    ]
    assert truth["disallowed"] == [newsroom.url("/private/embargoed-crime-figures")]


def news_sniffer_sample(article: ScriptedArticle, tick: float) -> tuple[int, int]:
    """Versions and flip-flops a crawler sees polling the feed every 5 min and checking on News Sniffer's
    schedule (at once, then 30 min ×1.2 while unchanged), its loop waking every `tick` seconds."""
    feed_poll = 300.0
    check = math.ceil(article.published_at / feed_poll) * feed_poll
    period, latest, seen, flip_flops = 1800.0, "", set(), 0
    while check <= DAY and not article.is_gone(check):
        index = article.revision_index(check)
        assert index is not None
        digest = article.events[index][1].hash
        if digest != latest:
            flip_flops += digest in seen
            seen.add(digest)
            period = 1800.0
        else:
            period *= 1.2
        latest = digest
        check = math.ceil((check + period) / tick) * tick
    return len(seen), flip_flops


@pytest.mark.parametrize("tick", [1.0, 60.0, 300.0, 600.0])
def test_the_default_schedule_can_see_every_scripted_revision(newsroom: Newsroom, tick: float) -> None:
    at(newsroom, 24)
    for slug in newsroom.script.slugs():
        article = newsroom.article_for(slug)
        if not article.private:
            assert news_sniffer_sample(article, tick) == SCRIPTED_DAY[slug][:2], slug


# --- control endpoints, subprocess mode, protocol ------------------------------------------------------------


def test_control_endpoints_move_the_clock_and_report(newsroom: Newsroom, client: httpx.Client) -> None:
    assert client.get("/_control/advance?seconds=60").status_code == 405
    moved = client.post("/_control/advance?seconds=3600").json()
    assert moved["now"] == "2026-01-01T07:00:00Z"
    assert client.post("/_control/set?at=2026-01-01T12:00:00%2B00:00").json()["now"] == "2026-01-01T12:00:00Z"
    assert client.post("/_control/set?at=noon").status_code == 400
    client.get("/news/school-funding-gap")
    stats = client.get("/_control/stats").json()
    assert stats["counts"] == {"/news/school-funding-gap": 1}
    assert stats["log"][0][1:] == [
        "2026-01-01T12:00:00Z",
        "GET",
        newsroom.base_url[7:],
        "/news/school-funding-gap",
        200,
    ]
    expected = client.get("/_control/expected?paragraphs=0").json()
    school = expected["articles"][newsroom.url("school-funding-gap")]
    assert len(school["versions"]) == 2 and "paragraphs" not in school["versions"][0]


def test_runs_as_a_separate_process() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "newsdelta.testing.newsroom",
            "--port",
            "0",
            "--start",
            "2026-01-01T09:00:00+00:00",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base = process.stdout.readline().strip()
        assert base.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=base, timeout=5) as http:
            assert len(feedparser.parse(http.get("/rss.xml").content).entries) == 13
            http.post("/_control/advance", params={"seconds": 5 * HOUR})
            expected = http.get("/_control/expected").json()
            assert expected["now"] == "2026-01-01T14:00:00Z"
            assert expected["articles"][base + "/news/election-poll-slump"]["flip_flops"] == 1
            assert expected["gone"] == [base + "/news/museum-closure"]
            assert http.get("/_control/stats").json()["counts"] == {"/rss.xml": 1}
    finally:
        process.terminate()
        assert process.wait(timeout=5) == 0


def raw_exchange(newsroom: Newsroom, payload: bytes) -> bytes:
    host, port = newsroom.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(payload)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_pipelined_requests_are_answered_in_order_and_garbage_gets_400(newsroom: Newsroom) -> None:
    answer = raw_exchange(
        newsroom,
        b"GET /robots.txt HTTP/1.1\r\nHost: x\r\n\r\n"
        b"HEAD /robots.txt HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    statuses = re.findall(rb"HTTP/1\.1 \d{3} [^\r]*", answer)
    assert statuses == [b"HTTP/1.1 200 OK", b"HTTP/1.1 200 OK", b"HTTP/1.1 404 Not Found"]
    assert answer.count(b"Disallow: /private/") == 1  # HEAD has no body
    assert raw_exchange(newsroom, b"NONSENSE\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    flood = b"GET / HTTP/1.1\r\n" + b"X-Junk: " + b"a" * 70_000
    assert raw_exchange(newsroom, flood).startswith(b"HTTP/1.1 431 ")
    chunked = b"POST /_control/advance?seconds=1 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    assert raw_exchange(newsroom, chunked).startswith(b"HTTP/1.1 501 ")
    assert newsroom.clock.now() == DAY_START


# --- scale mode ----------------------------------------------------------------------------------------------


def test_synthetic_newsroom_is_deterministic_realistic_and_paged() -> None:
    options: dict[str, Any] = {
        "edit_fraction": 0.1,
        "not_modified_fraction": 0.3,
        "seed": 7,
        "sitemap_page_size": 100,
    }
    with Newsroom.synthetic(250, **options) as room, httpx.Client(base_url=room.base_url) as http:
        index = lxml.etree.fromstring(http.get("/sitemap.xml").content)
        pages = index.xpath("//s:sitemap/s:loc/text()", namespaces=NEWS_NS)
        assert len(pages) == 3
        urls = [
            url
            for page in pages
            for url in lxml.etree.fromstring(http.get(page).content).xpath(
                "//s:loc/text()", namespaces=NEWS_NS
            )
        ]
        assert len(set(urls)) == 250
        assert len(feedparser.parse(http.get("/rss.xml").content).entries) == 100
        responses = [http.get(url) for url in urls[:60]]
        words = [sum(len(p.split()) for p in story(r.content)[1]) for r in responses]
        assert min(words) >= 450 and max(words) <= 1200
        conditional = [r for r in responses if "etag" in r.headers]
        assert 0 < len(conditional) < len(responses)
        assert all(
            http.get(r.url, headers={"If-None-Match": r.headers["etag"]}).status_code == 304
            for r in conditional
        )
        assert isinstance(room.script, SyntheticScript)
        edited = room.script.edited_slugs()
        assert 10 <= len(edited) <= 45
        room.clock.advance(DAY)
        assert all(len(room.expected(slug)) == 2 for slug in edited)
        assert story(http.get(room.url(edited[0])).content)[1] == list(room.expected(edited[0])[1].paragraphs)
        first_text = story(responses[0].content)
    with Newsroom.synthetic(250, **options) as again:
        assert story(httpx.get(again.url(urls[0].rsplit("/", 1)[-1])).content) == first_text


def test_control_json_is_valid_for_a_synthetic_room() -> None:
    with Newsroom.synthetic(50, seed=3) as room:
        truth = json.loads(httpx.get(room.base_url + "/_control/expected").text)
        assert len(truth["articles"]) == 50
        assert all(len(article["versions"]) == 1 for article in truth["articles"].values())

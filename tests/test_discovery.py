"""Discovery on the real feeds and sitemaps of the corpus, plus hostile and broken input."""

from __future__ import annotations

import gzip
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from lxml import etree

from newsdelta.discovery import (
    DiscoveryError,
    Link,
    UrlFilter,
    canonicalize_url,
    discover_all,
    parse_feed,
    parse_front_page,
    parse_sitemap,
    same_site,
)
from newsdelta.testing.default_day import DAY_START
from newsdelta.testing.newsroom import ARTICLE_URL_PATTERN, Newsroom


@pytest.fixture(scope="module")
def feeds(corpus: Path) -> Path:
    return corpus / "feeds"


def item_texts(feed: bytes, tag: str) -> list[str]:
    """What the raw XML says, read independently of feedparser."""
    root = etree.fromstring(feed)
    return [item.findtext(tag).strip() for item in root.iter("item")]


def assert_clean(links: list[Link]) -> None:
    urls = [link.url for link in links]
    assert len(urls) == len(set(urls)), "a URL was listed twice"
    for url in urls:
        assert url == canonicalize_url(url)
        assert "#" not in url and "utm_" not in url and "partner=" not in url and "emc=" not in url


def test_bbc_feed_yields_every_article_url_unwrapped_from_the_rss_redirector(feeds: Path) -> None:
    body = (feeds / "bbc_uk_politics.xml").read_bytes()
    links = parse_feed(body, "http://newsrss.bbc.co.uk/rss/newsonline_uk_edition/uk_politics/rss.xml")
    guids = item_texts(body, "guid")
    assert len(guids) == 57
    assert [link.url for link in links] == guids
    assert all("/go/rss/" not in link.url for link in links)
    assert_clean(links)
    first = links[0]
    assert first.title == "Expenses leak man defends actions"
    assert first.published == datetime(2009, 5, 23, 9, 15, 34, tzinfo=UTC)
    assert links[1].title == "Tory MP claims £5,000 for gates"


def test_bbc_feed_item_repeated_with_tracking_fragment_is_listed_once(feeds: Path) -> None:
    body = (feeds / "bbc_uk_politics.xml").read_bytes()
    tagged = (
        b"<item><title>Again</title><link>http://news.bbc.co.uk/1/hi/uk_politics/8064868.stm"
        b"#sa-ns_mchannel=rss&amp;ns_source=PublicRSS20-sa</link></item>"
    )
    body = body.replace(b"</channel>", tagged + b"</channel>")
    links = parse_feed(body, "http://newsrss.bbc.co.uk/rss.xml")
    assert len(links) == 57
    assert_clean(links)


def test_nyt_feed_yields_every_article_url_without_partner_params(feeds: Path) -> None:
    body = (feeds / "nyt_global_home.xml").read_bytes()
    links = parse_feed(body, "http://www.nytimes.com/services/xml/rss/nyt/GlobalHome.xml")
    raw_links = item_texts(body, "link")
    assert len(raw_links) == 25 and all(link.endswith("?partner=rss&emc=rss") for link in raw_links)
    assert [link.url for link in links] == [link.split("?")[0] for link in raw_links]
    assert_clean(links)
    assert all(link.published and link.published.tzinfo is UTC for link in links)


@pytest.mark.parametrize("name", ["bbc_uk_politics.xml", "nyt_global_home.xml", "trafilatura-feed.json"])
def test_discover_sniffs_feeds_whatever_the_content_type(feeds: Path, name: str) -> None:
    body = (feeds / name).read_bytes()
    expected = parse_feed(body, "https://feeds.example/")
    for content_type in ("application/rss+xml", "text/html", None):
        assert discover_all(body, content_type, "https://feeds.example/").links == expected


def test_json_feed(feeds: Path) -> None:
    links = parse_feed((feeds / "trafilatura-feed.json").read_bytes(), "https://feeds.npr.org/1019/feed.json")
    assert len(links) == 25
    assert_clean(links)
    assert links[0] == Link(
        "https://www.npr.org/2021/10/29/1050315385/keller-rinaudo-how-can-delivery-drones-save-lives",
        guid="1050315385",
        title="Keller Rinaudo: How can delivery drones save lives?",
        published=links[0].published,
        modified=datetime(2021, 10, 29, 15, 59, tzinfo=UTC),  # the item's date_modified
    )
    assert links[0].published is not None and links[0].published.tzinfo is not None


def test_atom_feed_keeps_article_links_not_self_links(feeds: Path) -> None:
    links = parse_feed((feeds / "trafilatura-feed1.atom").read_bytes(), "http://example.org/feed.atom")
    assert links == [
        Link(
            "http://example.org/2003/12/13/atom03",
            guid="urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a",
            title="Atom-Powered Robots Run Amok",
            published=datetime(2003, 12, 13, 18, 30, 2, tzinfo=UTC),
            modified=datetime(2003, 12, 13, 18, 30, 2, tzinfo=UTC),  # <updated>
        )
    ]


def test_rss2_feed_with_non_url_guid(feeds: Path) -> None:
    links = parse_feed((feeds / "trafilatura-feed2.rss").read_bytes(), "http://www.example.com/feed")
    assert links == [
        Link(
            "http://www.example.com/blog/post/1",
            guid="7bd204c6-1655-4c27-aeee-53f933c5395f",
            title="Example entry",
            published=datetime(2009, 9, 6, 16, 20, tzinfo=UTC),
            modified=datetime(2009, 9, 6, 16, 20, tzinfo=UTC),  # RSS has no updated date: pubDate stands in
        )
    ]


RSS_091 = b"""<?xml version="1.0"?><rss version="0.91"><channel><title>t</title><link>http://a.example/</link>
<item><title>One</title><link>/2024/one.html?utm_source=rss</link></item>
<item><title>Bad</title><link>javascript:alert(1)</link></item></channel></rss>"""
RSS_10 = b"""<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
 xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="http://a.example/"><title>t</title><link>http://a.example/</link></channel>
<item rdf:about="http://a.example/2024/two"><title>Two</title><link>http://a.example/2024/two</link>
<dc:date>2024-03-01T12:00:00+01:00</dc:date></item></rdf:RDF>"""


def test_rss_091_resolves_relative_links_and_skips_non_web_links() -> None:
    links = parse_feed(RSS_091, "http://a.example/feed.rss")
    assert [link.url for link in links] == ["http://a.example/2024/one.html"]


def test_rss_10() -> None:
    links = parse_feed(RSS_10, "http://a.example/index.rdf")
    assert [(link.url, link.published) for link in links] == [
        ("http://a.example/2024/two", datetime(2024, 3, 1, 11, 0, tzinfo=UTC))
    ]


def test_malformed_feed_keeps_what_parsed_and_logs(feeds: Path, caplog: pytest.LogCaptureFixture) -> None:
    body = (feeds / "nyt_global_home.xml").read_bytes()
    truncated = body[: len(body) // 2]
    with caplog.at_level(logging.WARNING, logger="newsdelta.discovery"):
        links = parse_feed(truncated, "http://www.nytimes.com/feed.xml")
    assert 5 < len(links) < 25
    assert "malformed" in caplog.text


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"garbage that is no feed",
        b"\x00\x01\x02\xff binary",
        b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
        b"{not json",
        b'{"title": "JSON but not a JSON Feed"}',
        b"[1, 2, 3]",
    ],
)
def test_garbage_is_a_discovery_error(body: bytes) -> None:
    with pytest.raises(DiscoveryError):
        parse_feed(body, "https://feeds.example/feed")


def test_discover_rejects_binary() -> None:
    with pytest.raises(DiscoveryError, match="neither a feed"):
        discover_all(b"\x89PNG\r\n\x1a\n\x00\x00", "image/png", "https://feeds.example/feed")


def test_sitemap_plain_and_gzip_give_the_same_links(feeds: Path) -> None:
    plain = parse_sitemap(
        (feeds / "trafilatura-sitemap.xml").read_bytes(), "https://www.sitemaps.org/sitemap.xml"
    )
    packed = parse_sitemap(
        (feeds / "trafilatura-sitemap.xml.gz").read_bytes(), "https://www.sitemaps.org/sitemap.xml.gz"
    )
    assert plain == packed
    assert len(plain.links) == 84 and not plain.children
    assert plain.links[0].url == "https://www.sitemaps.org/"
    assert_clean(plain.links)


def test_sitemap_index_lists_children_including_cdata(feeds: Path) -> None:
    index = parse_sitemap(
        (feeds / "trafilatura-sitemap2.xml").read_bytes(), "http://www.example.com/sitemap.xml"
    )
    assert index.links == []
    assert index.children == [
        "http://www.example.com/sitemap1.xml.gz",
        "http://www.example.com/sitemap2.xml.gz",
    ]


def test_sitemap_hreflang_alternates_are_not_added(feeds: Path) -> None:
    sitemap = parse_sitemap(
        (feeds / "trafilatura-sitemap-hreflang.xml").read_bytes(), "http://www.example.com/sitemap.xml"
    )
    assert [link.url for link in sitemap.links] == [
        "http://www.example.com/english/page.html",
        "http://www.example.com/deutsch/page.html",
        "http://www.example.com/schweiz-deutsch/page.html",
    ]
    assert sitemap.children == ["http://www.example.com/sitemap2.xml.gz"]


def test_discover_reads_a_gzipped_sitemap(feeds: Path) -> None:
    links = discover_all(
        (feeds / "trafilatura-sitemap.xml.gz").read_bytes(), "application/octet-stream", "https://x/"
    ).links
    assert len(links) == 84


NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
 <url><loc>https://news.example/2024/05/01/budget-vote?utm_source=sitemap</loc>
  <lastmod>2024-05-01T12:30:00+02:00</lastmod>
  <news:news><news:publication><news:name>Example</news:name><news:language>en</news:language></news:publication>
   <news:publication_date>2024-05-01T10:00:00+02:00</news:publication_date>
   <news:title>Budget   vote  passes</news:title></news:news></url>
 <url><loc>https://news.example/2024/05/01/budget-vote</loc></url>
 <url><loc>ftp://news.example/file</loc></url>
 <url><loc>/2024/05/02/relative-story</loc></url>
</urlset>"""


def test_google_news_sitemap() -> None:
    sitemap = parse_sitemap(NEWS_SITEMAP, "https://news.example/news-sitemap.xml")
    assert sitemap.links == [
        Link(
            "https://news.example/2024/05/01/budget-vote",
            title="Budget vote passes",
            published=datetime(2024, 5, 1, 8, 0, tzinfo=UTC),
            modified=datetime(2024, 5, 1, 10, 30, tzinfo=UTC),
        ),
        Link("https://news.example/2024/05/02/relative-story"),
    ]


def test_sitemap_parser_expands_no_entities_and_reads_no_files() -> None:
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY x SYSTEM "file:///etc/passwd">'
        b'<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b"<urlset><url><loc>https://a.example/p&x;</loc></url><url><loc>https://a.example/q&b;</loc></url></urlset>"
    )
    urls = [link.url for link in parse_sitemap(xxe, "https://a.example/sitemap.xml").links]
    assert urls == ["https://a.example/p", "https://a.example/q"]


def test_gzip_bomb_is_refused() -> None:
    bomb = gzip.compress(b"<urlset>" + b" " * (60 * 1024 * 1024))
    with pytest.raises(DiscoveryError, match="expands beyond"):
        parse_sitemap(bomb, "https://a.example/sitemap.xml.gz")


@pytest.mark.parametrize(
    "body", [b"", b"garbage", b"\x1f\x8bnot really gzip", b"<rss version='2.0'><channel></channel></rss>"]
)
def test_sitemap_garbage_is_a_discovery_error(body: bytes) -> None:
    with pytest.raises(DiscoveryError):
        parse_sitemap(body, "https://a.example/sitemap.xml")


FRONT_PAGE = """<!doctype html><html><head><base href="/world/"><title>World</title></head><body>
<nav><a href="/">Home</a><a href="/about">About us</a></nav>
<a href="2024/05/01/big-story-here?CMP=share">Big <b>story</b>
  here</a>
<a href="/world/2024/05/01/big-story-here#comments">12 comments</a>
<a href="https://www.news.example/world/2024/05/02/second-story">Second story</a>
<a href="javascript:void(0)">Share</a><a href="mailto:desk@news.example">Mail</a><a href="">empty</a>
<a href="https://elsewhere.example/2024/05/02/third-story">Elsewhere</a>
<a href="/img/123456.jpg">Photo</a>
</body></html>"""


def test_front_page_links_follow_the_outlet_rule_resolved_and_deduplicated() -> None:
    links = parse_front_page(FRONT_PAGE, "https://www.news.example/world", lambda url: "/2024/" in url)
    assert links == [
        Link("https://www.news.example/world/2024/05/01/big-story-here", title="Big story here"),
        Link("https://www.news.example/world/2024/05/02/second-story", title="Second story"),
        Link("https://elsewhere.example/2024/05/02/third-story", title="Elsewhere"),
    ]


def test_discover_front_page_without_rules_keeps_same_site_article_shaped_links() -> None:
    links = discover_all(
        FRONT_PAGE.encode(), "text/html; charset=utf-8", "https://www.news.example/world"
    ).links
    assert [link.url for link in links] == [
        "https://www.news.example/world/2024/05/01/big-story-here",
        "https://www.news.example/world/2024/05/02/second-story",
    ]


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTP://WWW.Example.COM:80/a", "http://www.example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/a/./b/../c", "https://example.com/a/c"),
        ("https://example.com/a/b/", "https://example.com/a/b/"),
        ("https://example.com/a/b", "https://example.com/a/b"),
        ("https://example.com/a#section-2", "https://example.com/a"),
        ("https://example.com/app#!/story/1", "https://example.com/app#!/story/1"),
        (
            "http://www.bbc.co.uk/news/world-middle-east-18229870#sa-ns_mchannel=rss&ns_source=PublicRSS20-sa",
            "http://www.bbc.co.uk/news/world-middle-east-18229870",
        ),
        (
            "http://www.bbc.co.uk/news/uk-1?ns_mchannel=social&ns_source=twitter&ns_campaign=x&ns_linkname=y&ns_fee=0",
            "http://www.bbc.co.uk/news/uk-1",
        ),
        ("https://www.bbc.com/news/a?at_medium=RSS&at_campaign=KARANGA", "https://www.bbc.com/news/a"),
        (
            "http://www.nytimes.com/2012/08/26/us/x.html?partner=rss&emc=rss&smid=tw-share&_r=0&hp",
            "http://www.nytimes.com/2012/08/26/us/x.html",
        ),
        (
            "https://www.nytimes.com/2024/x.html?action=click&pgtype=Homepage&module=a&region=b&clickSource=c",
            "https://www.nytimes.com/2024/x.html",
        ),
        ("https://www.theguardian.com/a?CMP=twt_gu&cmpid=x", "https://www.theguardian.com/a"),
        ("https://e.com/a?utm_source=x&UTM_Medium=y&fbclid=1&gclid=2&WT.mc_id=3&ocid=4", "https://e.com/a"),
        ("https://e.com/a?mc_cid=1&mc_eid=2&ref=home", "https://e.com/a"),
        ("https://e.com/a?z=1&page=2&a=3&utm_source=x", "https://e.com/a?a=3&page=2&z=1"),
        ("https://e.com/search?q=a%20b&flag", "https://e.com/search?flag&q=a%20b"),
        ("https://e.com/caf\u00e9 menu/%e2%82%ac", "https://e.com/caf%C3%A9%20menu/%E2%82%AC"),
        ("https://B\u00fccher.example/", "https://xn--bcher-kva.example/"),
        ("  https://e.com/a  ", "https://e.com/a"),
        ("mailto:desk@news.example", "mailto:desk@news.example"),
        ("not a url", "not a url"),
    ],
)
def test_canonicalize_url(url: str, canonical: str) -> None:
    assert canonicalize_url(url) == canonical
    assert canonicalize_url(canonical) == canonical


def test_same_site_on_a_co_uk_site_stays_within_the_registrable_domain() -> None:
    page = "http://news.bbc.co.uk/1/hi/uk/1.stm"
    assert same_site("http://www.bbc.co.uk/news/uk-1", page)
    assert not same_site("http://evil.co.uk/news/uk-1", page)


def test_url_filter_excludes_matching_urls() -> None:
    url_filter = UrlFilter([r"/live/", r"/video/\d+$"])
    assert url_filter.allows("https://news.example/2024/05/story")
    assert not url_filter.allows("https://news.example/live/2024/05/01")
    assert not url_filter.allows("https://news.example/video/123")
    assert UrlFilter([]).allows("https://news.example/anything")


def test_url_filter_rejects_invalid_patterns_at_configuration_time() -> None:
    with pytest.raises(ValueError, match=r"invalid URL exclusion pattern '\(unclosed'"):
        UrlFilter(["ok", "(unclosed"])


# --- the simulated newsroom's feeds, sitemap and front page -----------------------------------------------


@pytest.fixture(scope="module")
def newsroom_bodies() -> Iterator[tuple[Newsroom, dict[str, httpx.Response]]]:
    with Newsroom() as room:
        room.clock.set(DAY_START + timedelta(hours=3))
        with httpx.Client(base_url=room.base_url, timeout=5) as http:
            paths = ["/rss.xml", "/atom.xml", "/feed.json", "/sitemap.xml", "/"]
            yield room, {path: http.get(path) for path in paths}


def newsroom_article(url: str) -> bool:
    return re.match(ARTICLE_URL_PATTERN, urlsplit(url).path) is not None


@pytest.mark.parametrize("path", ["/rss.xml", "/atom.xml", "/feed.json", "/sitemap.xml", "/"])
def test_every_newsroom_format_lists_the_same_articles(
    newsroom_bodies: tuple[Newsroom, dict[str, httpx.Response]], path: str
) -> None:
    """Formats may name an article by an old or alias path (the fetch's redirect settles it), never twice."""
    room, bodies = newsroom_bodies
    listed = {room.article_for(item.path).path for item in room.script.feed_items(room.offset())}
    response = bodies[path]
    links = discover_all(
        response.content, response.headers["content-type"], str(response.url), newsroom_article
    ).links
    assert_clean(links)
    assert all(link.url.startswith(room.base_url + "/") for link in links)
    articles = [room.article_for(link.url).path for link in links]
    assert len(articles) == len(set(articles)) and set(articles) == listed
    assert len(listed) >= 10


def test_discover_all_returns_the_children_of_a_sitemap_index(feeds: Path) -> None:
    body = (feeds / "trafilatura-sitemap2.xml").read_bytes()
    found = discover_all(body, "application/xml", "http://www.example.com/sitemap.xml")
    assert found.links == [] and len(found.children) == 2
    assert discover_all(body, "application/xml", "http://www.example.com/sitemap.xml").links == []
    feed = discover_all((feeds / "trafilatura-feed2.rss").read_bytes(), None, "http://www.example.com/")
    assert len(feed.links) == 1 and feed.children == []

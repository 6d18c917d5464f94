"""The simulated newsroom: a real HTTP server on 127.0.0.1 whose articles change over scripted time.

Tests, the demo and the benchmarks crawl it instead of the internet. It also knows the truth a correct
crawler must reach (`expected`, `gone_slugs`, `disallowed_paths`) and logs every request it served, so
politeness (rates, robots.txt) can be checked from outside the crawler.

Run it as a separate process with `python -m newsdelta.testing.newsroom --port P`; other processes then
drive its clock through POST /_control/advance?seconds=S and POST /_control/set?at=ISO, let its WebSub hub
verify new subscribers and deliver changed feeds with POST /_control/hub, and read GET /_control/stats and
GET /_control/expected.

Several outlets: start one newsroom per loopback address (host="127.0.0.2", "127.0.0.3", ...), each a
distinct host for per-host politeness.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import signal
import threading
import time
import zlib
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from newsdelta.testing import render
from newsdelta.testing.clock import NewsroomClock
from newsdelta.testing.default_day import DAY_START, default_day
from newsdelta.testing.httpserver import BackgroundServer, Request, Response
from newsdelta.testing.hub import HUB_PATH, NewsroomHub, Topic
from newsdelta.testing.requestlog import RequestLog, RequestRecord
from newsdelta.testing.script import (
    ExpectedVersion,
    FeedItem,
    Replay,
    Revision,
    Script,
    ScriptedArticle,
    replay,
)
from newsdelta.testing.synthetic import SyntheticScript

__all__ = [
    "DAY_START",
    "ExpectedVersion",
    "Newsroom",
    "NewsroomClock",
    "RequestRecord",
    "Revision",
    "Script",
    "ScriptedArticle",
    "SyntheticScript",
    "default_day",
    "main",
]

ARTICLE_URL_PATTERN = r"^/(news|private)/[a-z0-9-]+$"
_SITE_PAGE = re.compile(
    r"/(|robots\.txt|rss\.xml|atom\.xml|feed\.json|sitemap\.xml|sitemaps/\d+\.xml|section/[a-z]+)"
)
# The feeds that declare the newsroom's WebSub hub and that it delivers (sitemaps and pages do not).
HUB_TOPICS = ("/rss.xml", "/atom.xml", "/feed.json")
_ADS = ("Switch energy supplier today", "Holiday deals: save 30%", "New electric SUV: book a test drive")


@dataclass(frozen=True, slots=True)
class _Page:
    body: bytes
    content_type: str
    etag: str
    modified: datetime


def _etag_matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    return etag.removeprefix("W/") in (tag.strip().removeprefix("W/") for tag in header.split(","))


def _not_modified(request: Request, etag: str, modified: datetime) -> bool:
    """RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since when both are sent."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        return _etag_matches(if_none_match, etag)
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False
    return since.tzinfo is not None and modified.replace(microsecond=0) <= since


def _article_etag(article: ScriptedArticle, index: int) -> str:
    """Derived from the revision alone, never from the chrome, so unchanged articles can answer 304."""
    return '"' + hashlib.sha1(f"{article.slug}/{index}".encode()).hexdigest()[:20] + '"'


def _conditional(request: Request, etag: str, modified: datetime, page: Callable[[], _Page]) -> Response:
    """304 when the client's validators still hold; the page is only rendered for a 200."""
    headers = [("ETag", etag), ("Last-Modified", render.http_date(modified)), ("Cache-Control", "max-age=60")]
    if _not_modified(request, etag, modified):
        return Response(304, b"", headers)
    loaded = page()
    return Response(200, loaded.body, [("Content-Type", loaded.content_type), *headers])


def _html(body: str, encoding: str = "utf-8") -> tuple[bytes, str]:
    """Pages in another charset declare it only in their <meta>, as many old sites do."""
    content_type = "text/html; charset=utf-8" if encoding == "utf-8" else "text/html"
    return body.encode(encoding, "xmlcharrefreplace"), content_type


class Newsroom:
    """A scripted news site served over real HTTP; see the module docstring."""

    article_url_pattern = ARTICLE_URL_PATTERN

    def __init__(
        self,
        script: Script | None = None,
        clock: NewsroomClock | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        slow_delay: float = 0.5,
        feed_limit: int | None = None,
        sitemap_page_size: int = 1000,
        page_cache_size: int = 1024,
        websub: bool = True,
    ) -> None:
        self.script = script if script is not None else default_day()
        self.clock = clock if clock is not None else NewsroomClock(self.script.start)
        self.host = host
        self.slow_delay = slow_delay
        self.feed_limit = feed_limit
        self.sitemap_page_size = sitemap_page_size
        self.page_cache_size = page_cache_size
        self._server = BackgroundServer(self.handle, host, port)
        self._base_url: str | None = None
        self._pages: OrderedDict[tuple[str, int], _Page] = OrderedDict()
        self._feeds: dict[str, tuple[int, _Page]] = {}
        self._items: tuple[int, list[FeedItem]] = (-1, [])
        self._failures: Counter[str] = Counter()
        self._churn = random.Random(0)
        self._related_pool = [
            (slug.replace("-", " ").capitalize(), "/news/" + slug)
            for slug in self.script.slugs()[:40]
            if not self.script.article(slug).private
        ]
        self._log = RequestLog(self.script.start)
        # Its feeds declare it; it does nothing until a subscriber asks (newsdelta.testing.hub).
        self.hub = NewsroomHub(lambda: self.base_url, self._topic, self.clock) if websub else None

    @classmethod
    def synthetic(
        cls,
        n_articles: int = 10_000,
        edit_fraction: float = 0.02,
        not_modified_fraction: float = 0.3,
        seed: int = 1,
        *,
        start: datetime = DAY_START,
        **options: Any,
    ) -> Newsroom:
        """A big newsroom for benchmarks: every article in a paged sitemap; RSS, Atom, JSON Feed and the
        front page carry the newest 100 (`feed_limit`), as real outlets' do."""
        options.setdefault("feed_limit", 100)
        script = SyntheticScript(
            start,
            n_articles,
            edit_fraction=edit_fraction,
            not_modified_fraction=not_modified_fraction,
            seed=seed,
        )
        return cls(script, **options)

    # --- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> Self:
        port = self._server.start()
        self._base_url = f"http://{self.host}:{port}"
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("the newsroom is not started")
        return self._base_url

    def url(self, slug_or_path: str) -> str:
        """Absolute URL of an article (by slug) or of any path."""
        if slug_or_path.startswith("/"):
            return self.base_url + slug_or_path
        return self.base_url + self.script.article(slug_or_path).path

    # --- truth ----------------------------------------------------------------------------------------

    def offset(self, at: datetime | None = None) -> float:
        """Seconds since the script's start at `at` (default: the clock's now)."""
        return ((at or self.clock.now()) - self.script.start).total_seconds()

    def article_for(self, url_or_slug: str) -> ScriptedArticle:
        """The article behind a slug, a path or a URL (old paths, aliases and query strings included)."""
        if "/" not in url_or_slug:
            return self.script.article(url_or_slug)
        path = urlsplit(url_or_slug).path
        article = self.script.article_at(path) or self.script.article_at(self.script.redirect_for(path) or "")
        if article is None:
            raise KeyError(url_or_slug)
        return article

    def replay(self, url_or_slug: str, at: datetime | None = None) -> Replay:
        """Versions and flip-flops up to `at` (default: now)."""
        return replay(self.article_for(url_or_slug), self.script.start, self.offset(at))

    def expected(self, url_or_slug: str, at: datetime | None = None) -> list[ExpectedVersion]:
        return list(self.replay(url_or_slug, at).versions)

    def expected_flip_flops(self, url_or_slug: str, at: datetime | None = None) -> int:
        return self.replay(url_or_slug, at).flip_flops

    def gone_slugs(self, at: datetime | None = None) -> list[str]:
        return self.script.gone_slugs(self.offset(at))

    def disallowed_paths(self) -> list[str]:
        """Article paths robots.txt forbids: a polite crawler never requests them."""
        return self.script.private_paths()

    def truth(self, at: datetime | None = None, *, with_paragraphs: bool = True) -> dict[str, Any]:
        """Everything a test needs to judge a crawl, as JSON-ready data (served at /_control/expected).

        Keyed by canonical URL, for the articles published by `at`. For 10,000 synthetic articles this
        takes seconds (every version is hashed), so the server computes it off its event loop."""
        moment = at or self.clock.now()
        offset = self.offset(moment)
        articles: dict[str, Any] = {}
        for article in self.script.articles():
            if article.published_at > offset:
                continue
            result = replay(article, self.script.start, offset)
            articles[self.base_url + article.path] = {
                "slug": article.slug,
                "aliases": [self.base_url + path for path in article.redirect_from],
                "versions": [v.as_json(with_paragraphs=with_paragraphs) for v in result.versions],
                "flip_flops": result.flip_flops,
                "gone": result.gone,
                "disallowed": article.private,
            }
        return {
            "now": render.iso(moment),
            "articles": articles,
            "gone": [url for url, data in articles.items() if data["gone"]],
            "disallowed": [url for url, data in articles.items() if data["disallowed"]],
        }

    # --- request log ----------------------------------------------------------------------------------

    @property
    def request_log(self) -> list[RequestRecord]:
        return self._log.records()

    def requests_for(self, path: str) -> list[RequestRecord]:
        """Requests for one path (a URL's query string and host are ignored)."""
        return self._log.records(path=urlsplit(path).path)

    def reset_log(self) -> None:
        self._log.clear()

    def stats(self, since: float = 0.0, *, with_log: bool = True) -> dict[str, Any]:
        """Request counts per path and, for rate checks, a log of [wall time, virtual time, method, host,
        path, status] since the wall-clock time `since`."""
        log = self._log.records(since) if with_log else []
        counts = self._log.counts()
        return {
            "now": render.iso(self.clock.now()),
            "requests": sum(counts.values()),
            "counts": counts,
            "log": [[r.at, render.iso(r.clock), r.method, r.host, r.path, r.status] for r in log],
        }

    # --- HTTP -----------------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer one request; runs on the server thread."""
        now = self.clock.now()
        if request.path.startswith("/_control/"):
            response = self._control(request, now)
        else:
            response = self._serve(request, now)
            host = request.headers.get("host", "")
            self._log.add(time.time(), now, request.method, host, request.path, response.status)
        response.headers.append(("Date", render.http_date(now)))
        response.headers.append(("Server", "newsdelta-newsroom"))
        return response

    def _serve(self, request: Request, now: datetime) -> Response:
        if request.path == HUB_PATH and self.hub is not None:
            return self.hub.handle(request)
        if request.method not in ("GET", "HEAD"):
            return Response(405, b"method not allowed\n", [("Allow", "GET, HEAD")])
        offset = self.offset(now)
        path = request.path
        article = self.script.article_at(path)
        if article is not None:
            return self._article(request, article, offset, now)
        target = self.script.redirect_for(path)
        if target is not None:
            location = self.base_url + target + ("?" + request.query if request.query else "")
            return Response(301, b"", [("Location", location), ("Content-Type", "text/plain")])
        page = self._site_page(path, offset) if _SITE_PAGE.fullmatch(path) else None
        if page is None:
            body, content_type = _html(render.render_not_found(path))
            return Response(404, body, [("Content-Type", content_type)])
        response = _conditional(request, page.etag, page.modified, lambda: page)
        if self.hub is not None and path in HUB_TOPICS:
            response.headers.append(("Link", self.hub.link_header(self.base_url + path)))
        return response

    def _topic(self, url: str) -> Topic | None:
        """A WebSub topic's content now, for the hub; None for a URL that is not one of its topics."""
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != self.base_url or parts.path not in HUB_TOPICS:
            return None
        page = self._site_page(parts.path, self.offset())
        return None if page is None else (page.body, page.content_type, page.etag)

    def next_change(self) -> datetime | None:
        """When the script next changes what the site shows (what a hub would next deliver); None at its end."""
        offset = self.script.next_change_offset(self.offset())
        return None if offset is None else self.script.start + timedelta(seconds=offset)

    def _article(self, request: Request, article: ScriptedArticle, offset: float, now: datetime) -> Response:
        index = article.revision_index(offset)
        if index is None:
            body, content_type = _html(render.render_not_found(article.path))
            return Response(404, body, [("Content-Type", content_type)])
        if article.is_gone(offset):
            body, content_type = _html(render.render_gone(article))
            return Response(410, body, [("Content-Type", content_type)])
        if self._failures[article.path] < article.fail_first:
            self._failures[article.path] += 1
            return Response(
                503, b"temporarily unavailable\n", [("Retry-After", "1"), ("Content-Type", "text/plain")]
            )
        if article.chrome_churn:
            response = self._churning_article(article, index, now)
        elif article.conditional:
            modified = self._times(article, index)[1]
            response = _conditional(
                request, _article_etag(article, index), modified, lambda: self._article_page(article, index)
            )
        else:
            page = self._article_page(article, index)
            response = Response(200, page.body, [("Content-Type", page.content_type)])
        response.delay = self.slow_delay if article.slow else 0.0
        return response

    def _times(self, article: ScriptedArticle, index: int) -> tuple[datetime, datetime]:
        start = self.script.start
        return start + timedelta(seconds=article.published_at), start + timedelta(
            seconds=article.offsets[index]
        )

    def _article_page(self, article: ScriptedArticle, index: int) -> _Page:
        """Rendered once per (article, revision): the hot path of the benchmarks is a dict lookup."""
        key = (article.slug, index)
        page = self._pages.get(key)
        if page is not None:
            self._pages.move_to_end(key)
            return page
        published, updated = self._times(article, index)
        seed = zlib.crc32(article.slug.encode())
        pool = [link for link in self._related_pool if link[1] != article.path]
        related = tuple(pool[(seed + 7 * k) % len(pool)] for k in range(min(3, len(pool))))
        chrome = render.Chrome(
            related, comments=seed % 300, ad=_ADS[seed % len(_ADS)], pointer=_pointer(article, related)
        )
        html = render.render_article(
            self.base_url, article, article.events[index][1], published, updated, chrome
        )
        body, content_type = _html(html, article.encoding)
        page = _Page(body, content_type, _article_etag(article, index), updated)
        self._pages[key] = page
        if len(self._pages) > self.page_cache_size:
            self._pages.popitem(last=False)
        return page

    def _churning_article(self, article: ScriptedArticle, index: int, now: datetime) -> Response:
        """Fresh chrome and a fresh ETag on every request, as ad-funded sites do; the text never changes."""
        published, updated = self._times(article, index)
        rng = self._churn
        minutes = max(1, int((now - updated).total_seconds() // 60)) + rng.randrange(3)
        request_id = f"{rng.getrandbits(64):016x}"
        related = tuple(rng.sample(self._related_pool, min(3, len(self._related_pool))))
        chrome = render.Chrome(
            related,
            comments=rng.randrange(1000),
            ad=rng.choice(_ADS),
            updated_minutes=minutes,
            request_id=request_id,
            pointer=_pointer(article, related),
        )
        html = render.render_article(
            self.base_url, article, article.events[index][1], published, updated, chrome
        )
        body, content_type = _html(html, article.encoding)
        return Response(200, body, [("Content-Type", content_type), ("ETag", f'W/"{request_id}"')])

    def _site_page(self, path: str, offset: float) -> _Page | None:
        """Feeds, sitemaps, robots.txt and listing pages, cached until the script's next public change."""
        epoch = self.script.epoch(offset)
        cached = self._feeds.get(path)
        if cached is not None and cached[0] == epoch:
            return cached[1]
        made = self._make_site_page(path, self._feed_items(offset, epoch))
        if made is None:
            return None
        body, content_type = made
        modified = self.script.start + timedelta(seconds=self.script.change_offset(epoch))
        page = _Page(body, content_type, '"' + hashlib.sha1(body).hexdigest()[:20] + '"', modified)
        self._feeds[path] = (epoch, page)
        return page

    def _feed_items(self, offset: float, epoch: int) -> list[FeedItem]:
        if self._items[0] != epoch:
            self._items = (epoch, self.script.feed_items(offset))
        return self._items[1]

    def _make_site_page(self, path: str, items: list[FeedItem]) -> tuple[bytes, str] | None:
        base = self.base_url
        listed = items[: self.feed_limit] if self.feed_limit else items
        hub = self.hub.url if self.hub is not None else None
        updated = max((item.updated for item in items), default=self.script.start)
        pages = max(1, -(-len(items) // self.sitemap_page_size))
        if path == "/":
            return _html(render.render_listing(base, render.SITE_NAME, listed))
        if path.startswith("/section/") and path.removeprefix("/section/") in render.SECTIONS:
            section = path.removeprefix("/section/")
            return _html(
                render.render_listing(base, section.title(), [i for i in listed if i.section == section])
            )
        if path == "/robots.txt":
            return render.render_robots(base).encode(), "text/plain; charset=utf-8"
        if path == "/rss.xml":
            rss = render.render_rss(base, listed, updated, hub)
            return rss.encode(), "application/rss+xml; charset=utf-8"
        if path == "/atom.xml":
            atom = render.render_atom(base, listed, updated, hub)
            return atom.encode(), "application/atom+xml; charset=utf-8"
        if path == "/feed.json":
            return render.render_json_feed(base, listed, hub).encode(), "application/feed+json; charset=utf-8"
        if path == "/sitemap.xml":
            xml = (
                render.render_sitemap(base, items)
                if pages == 1
                else render.render_sitemap_index(base, pages, updated)
            )
            return xml.encode(), "application/xml; charset=utf-8"
        page = _sitemap_page_number(path)
        if page is not None and 1 <= page <= pages and pages > 1:
            chunk = items[(page - 1) * self.sitemap_page_size : page * self.sitemap_page_size]
            return render.render_sitemap(base, chunk).encode(), "application/xml; charset=utf-8"
        return None

    def _control(self, request: Request, now: datetime) -> Response:
        query = {name: values[-1] for name, values in parse_qs(request.query).items()}
        action = request.path.removeprefix("/_control/")
        try:
            if action in ("advance", "set"):
                if request.method != "POST":
                    return Response(405, b"use POST\n", [("Allow", "POST")])
                if action == "advance":
                    moved = self.clock.advance(float(query["seconds"]))
                else:
                    moved = self.clock.set(datetime.fromisoformat(query["at"]))
                return _json_response({"now": render.iso(moved)})
            if action == "now":
                return _json_response({"now": render.iso(now), "offset": self.offset(now)})
            if action == "stats":
                since, with_log = float(query.get("since", 0)), query.get("log", "1") != "0"
                return Response(200, deferred=lambda: _json_response(self.stats(since, with_log=with_log)))
            if action == "hub" and self.hub is not None:
                hub = self.hub
                if request.method != "POST":
                    return Response(405, b"use POST\n", [("Allow", "POST")])
                work = {"verified": hub.verify_pending, "sent": hub.publish}
                return Response(200, deferred=lambda: _json_response({k: act() for k, act in work.items()}))
            if action == "expected":
                with_paragraphs = query.get("paragraphs", "1") != "0"
                return Response(
                    200, deferred=lambda: _json_response(self.truth(now, with_paragraphs=with_paragraphs))
                )
        except (KeyError, ValueError) as error:
            return Response(400, f"bad control request: {error}\n".encode())
        return Response(404, b"unknown control endpoint\n")


def _pointer(article: ScriptedArticle, related: tuple[tuple[str, str], ...]) -> tuple[str, str] | None:
    """A "read also" line inside the story of the newsroom's non-English pages (English pages keep the
    scripted day's markup as it was)."""
    return related[0] if article.language != "en" and related else None


def _json_response(data: Any) -> Response:
    return Response(
        200, json.dumps(data, ensure_ascii=False).encode(), [("Content-Type", "application/json")]
    )


def _sitemap_page_number(path: str) -> int | None:
    name = path.removeprefix("/sitemaps/")
    if name == path or not name.endswith(".xml") or not name[:-4].isdigit():
        return None
    return int(name[:-4])


def main(argv: list[str] | None = None) -> None:
    """Serve a newsroom until SIGINT/SIGTERM; prints the base URL first so a parent process can read it."""
    parser = argparse.ArgumentParser(prog="python -m newsdelta.testing.newsroom", description=main.__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--articles", type=int, default=0, help="serve N synthetic articles instead of the day"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--edit-fraction", type=float, default=0.02)
    parser.add_argument("--not-modified-fraction", type=float, default=0.3)
    parser.add_argument(
        "--start", type=datetime.fromisoformat, help="where the clock starts (ISO, with offset)"
    )
    parser.add_argument("--slow-delay", type=float, default=0.5)
    parser.add_argument(
        "--feed-limit",
        type=int,
        default=None,
        help="items in RSS/Atom/JSON feeds and the front page (0: all; synthetic default 100)",
    )
    args = parser.parse_args(argv)
    options: dict[str, Any] = {"host": args.host, "port": args.port, "slow_delay": args.slow_delay}
    if args.feed_limit is not None:
        options["feed_limit"] = args.feed_limit or None
    if args.articles:
        newsroom = Newsroom.synthetic(
            args.articles, args.edit_fraction, args.not_modified_fraction, args.seed, **options
        )
    else:
        newsroom = Newsroom(**options)
    if args.start is not None:
        newsroom.clock.set(args.start)
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    with newsroom:
        print(newsroom.base_url, flush=True)
        stopped.wait()


if __name__ == "__main__":
    main()

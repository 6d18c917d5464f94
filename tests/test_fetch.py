"""Fetcher behaviour against httpx.MockTransport: no sockets, every request counted."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from newsdelta.fetch import (
    Fetcher,
    FetchError,
    RobotsDisallowed,
    decode_text,
    default_user_agent,
    retry_after_seconds,
)
from newsdelta.testing.default_day import DAY_START
from newsdelta.testing.newsroom import Newsroom

UA = default_user_agent("https://newsdelta.example/contact")
Handler = Callable[[httpx.Request], Awaitable[httpx.Response]]


class Site:
    """A scripted site: path → list of responses served in turn (the last one repeats)."""

    def __init__(self, pages: dict[str, list[httpx.Response] | httpx.Response], robots: str | None = None):
        self.pages = {path: v if isinstance(v, list) else [v] for path, v in pages.items()}
        self.robots = robots
        self.hits: Counter[str] = Counter()
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode()
        self.hits[path] += 1
        self.requests.append(request)
        if path == "/robots.txt" and path not in self.pages:
            return httpx.Response(200, text=self.robots) if self.robots is not None else httpx.Response(404)
        served = self.pages.get(path)
        if served is None:
            return httpx.Response(404, text="not here")
        return served.pop(0) if len(served) > 1 else served[0]


def fetcher(handler: Handler, **options: object) -> Fetcher:
    options = {"per_host_delay": 0.0, "backoff_base": 0.001, **options}
    return Fetcher(UA, transport=httpx.MockTransport(handler), **options)  # type: ignore[arg-type]


def html(body: str, **headers: str) -> httpx.Response:
    return httpx.Response(200, text=body, headers={"Content-Type": "text/html; charset=utf-8", **headers})


def test_user_agent_names_the_project_and_contact() -> None:
    assert UA.startswith("newsdelta/") and UA.endswith("(+https://newsdelta.example/contact)")
    assert default_user_agent(None).startswith("newsdelta/")


async def test_sends_user_agent_and_returns_page() -> None:
    site = Site({"/a": html("<p>hello</p>")})
    async with fetcher(site) as f:
        result = await f.get("https://news.example/a")
    assert (result.status, result.text, result.final_url) == (200, "<p>hello</p>", "https://news.example/a")
    assert result.body == b"<p>hello</p>"
    assert site.requests[-1].headers["user-agent"] == UA


async def test_conditional_get_turns_unchanged_page_into_304() -> None:
    last_modified = "Wed, 21 Oct 2026 07:28:00 GMT"

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        if request.headers.get("if-none-match") == '"v1"':
            assert request.headers["if-modified-since"] == last_modified
            return httpx.Response(304)
        return html("<p>v1</p>", ETag='"v1"', **{"Last-Modified": last_modified})

    async with fetcher(handler) as f:
        first = await f.get("https://news.example/a")
        second = await f.get("https://news.example/a", etag=first.etag, last_modified=first.last_modified)
    assert (first.status, first.etag, first.last_modified) == (200, '"v1"', last_modified)
    assert second.not_modified and second.body == b"" and second.text == ""
    assert (second.etag, second.last_modified) == ('"v1"', last_modified)


async def test_retries_503_then_succeeds() -> None:
    site = Site({"/a": [httpx.Response(503), httpx.Response(503), html("ok")]})
    async with fetcher(site, retries=3) as f:
        result = await f.get("https://news.example/a")
    assert result.status == 200 and result.text == "ok"
    assert site.hits["/a"] == 3


async def test_gives_up_with_fetch_error_when_retries_are_spent() -> None:
    site = Site({"/a": httpx.Response(502)})
    async with fetcher(site, retries=2) as f:
        with pytest.raises(FetchError, match="502") as caught:
            await f.get("https://news.example/a")
    assert caught.value.status == 502
    assert site.hits["/a"] == 3


async def test_retries_connect_errors() -> None:
    calls = Counter[str]()

    async def handler(request: httpx.Request) -> httpx.Response:
        calls[request.url.path] += 1
        if request.url.path == "/a" and calls["/a"] == 1:
            raise httpx.ConnectError("connection refused", request=request)
        return html("ok") if request.url.path == "/a" else httpx.Response(404)

    async with fetcher(handler) as f:
        assert (await f.get("https://news.example/a")).text == "ok"
    assert calls["/a"] == 2


async def test_429_with_short_retry_after_is_waited_out() -> None:
    site = Site({"/a": [httpx.Response(429, headers={"Retry-After": "0"}), html("ok")]})
    async with fetcher(site) as f:
        assert (await f.get("https://news.example/a")).status == 200
    assert site.hits["/a"] == 2


async def test_429_with_long_retry_after_raises_for_the_scheduler_instead_of_sleeping() -> None:
    site = Site({"/a": httpx.Response(429, headers={"Retry-After": "120"})})
    started = time.monotonic()
    async with fetcher(site, max_retry_wait=60.0) as f:
        with pytest.raises(FetchError) as caught:
            await f.get("https://news.example/a")
    assert caught.value.retry_after == 120.0 and caught.value.status == 429
    assert site.hits["/a"] == 1
    assert time.monotonic() - started < 1.0


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    in_30s = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert retry_after_seconds("17") == 17.0
    assert 28.0 <= (retry_after_seconds(in_30s) or 0) <= 30.0
    assert retry_after_seconds("Mon, 01 Jan 2001 00:00:00 GMT") == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


async def test_404_and_410_are_results_not_errors() -> None:
    site = Site({"/gone": httpx.Response(410, text="removed")})
    async with fetcher(site) as f:
        gone = await f.get("https://news.example/gone")
        missing = await f.get("https://news.example/missing")
    assert gone.gone and gone.status == 410
    assert missing.gone and missing.status == 404
    assert site.hits["/gone"] == 1 and site.hits["/missing"] == 1


async def test_robots_disallowed_page_is_never_requested() -> None:
    site = Site(
        {"/private/a": html("secret"), "/public": html("ok")},
        robots="User-agent: *\nDisallow: /private\n",
    )
    async with fetcher(site) as f:
        with pytest.raises(RobotsDisallowed) as caught:
            await f.get("https://news.example/private/a")
        assert not caught.value.temporary
        assert (await f.get("https://news.example/public")).text == "ok"
        await asyncio.gather(*(f.get("https://news.example/public") for _ in range(3)))
    assert site.hits["/private/a"] == 0
    assert site.hits["/robots.txt"] == 1


async def test_robots_rules_for_our_agent_apply() -> None:
    site = Site({"/a": html("ok")}, robots="User-agent: newsdelta\nDisallow: /\n\nUser-agent: *\nAllow: /\n")
    async with fetcher(site) as f:
        with pytest.raises(RobotsDisallowed):
            await f.get("https://news.example/a")
    assert site.hits["/a"] == 0


@pytest.mark.parametrize("robots_status", [500, 503, 429])
async def test_robots_server_error_disallows_temporarily(robots_status: int) -> None:
    site = Site({"/robots.txt": httpx.Response(robots_status), "/a": html("ok")})
    async with fetcher(site) as f:
        with pytest.raises(RobotsDisallowed) as caught:
            await f.get("https://news.example/a")
    assert caught.value.temporary and caught.value.retry_after
    assert site.hits["/a"] == 0


async def test_robots_network_error_disallows_temporarily() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            raise httpx.ConnectError("refused", request=request)
        raise AssertionError("the page must not be requested")

    async with fetcher(handler) as f:
        with pytest.raises(RobotsDisallowed) as caught:
            await f.get("https://news.example/a")
    assert caught.value.temporary


async def test_robots_4xx_allows_everything() -> None:
    site = Site({"/robots.txt": httpx.Response(403), "/a": html("ok")})
    async with fetcher(site) as f:
        assert (await f.get("https://news.example/a")).text == "ok"


async def test_robots_can_be_switched_off() -> None:
    site = Site({"/a": html("ok")}, robots="User-agent: *\nDisallow: /\n")
    async with fetcher(site, obey_robots=False) as f:
        assert (await f.get("https://news.example/a")).text == "ok"
    assert site.hits["/robots.txt"] == 0


async def test_body_over_the_cap_is_refused() -> None:
    site = Site({"/big": html("x" * 2000)})
    async with fetcher(site, max_bytes=1000) as f:
        with pytest.raises(FetchError, match="1000-byte cap"):
            await f.get("https://news.example/big")


class Endless(httpx.AsyncByteStream):
    """A body that never ends; counts how many chunks were pulled."""

    def __init__(self) -> None:
        self.chunks = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            self.chunks += 1
            yield b"y" * 1000


async def test_streamed_body_is_aborted_as_soon_as_it_passes_the_cap() -> None:
    stream = Endless()
    site = Site({"/endless": httpx.Response(200, stream=stream)})
    async with fetcher(site, max_bytes=5000) as f:
        with pytest.raises(FetchError, match="cap"):
            await f.get("https://news.example/endless")
    assert stream.chunks == 6


async def test_declared_content_length_over_the_cap_is_refused_unread() -> None:
    stream = Endless()
    site = Site({"/big": httpx.Response(200, headers={"Content-Length": "50000000"}, stream=stream)})
    async with fetcher(site, max_bytes=1000) as f:
        with pytest.raises(FetchError, match="cap"):
            await f.get("https://news.example/big")
    assert stream.chunks == 0


async def test_redirects_are_followed_and_final_url_recorded() -> None:
    site = Site(
        {
            "/old": httpx.Response(301, headers={"Location": "/middle"}),
            "/middle": httpx.Response(302, headers={"Location": "https://www.news.example/new?id=1"}),
            "/new?id=1": html("moved"),
        }
    )
    async with fetcher(site) as f:
        result = await f.get("http://news.example/old")
    assert result.url == "http://news.example/old"
    assert result.final_url == "https://www.news.example/new?id=1"
    assert result.text == "moved"


async def test_redirect_loop_is_an_error() -> None:
    site = Site({"/loop": httpx.Response(302, headers={"Location": "/loop"})})
    async with fetcher(site) as f:
        with pytest.raises(FetchError, match="redirects"):
            await f.get("https://news.example/loop")
    assert site.hits["/loop"] == 11


async def test_redirect_to_a_file_url_is_refused() -> None:
    site = Site({"/a": httpx.Response(302, headers={"Location": "file:///etc/passwd"})})
    async with fetcher(site) as f:
        with pytest.raises(FetchError, match="scheme"):
            await f.get("https://news.example/a")


async def test_redirect_target_is_checked_against_its_own_robots() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            blocked = request.url.host == "other.example"
            return (
                httpx.Response(200, text="User-agent: *\nDisallow: /\n") if blocked else httpx.Response(404)
            )
        if request.url.host == "news.example":
            return httpx.Response(302, headers={"Location": "https://other.example/x"})
        raise AssertionError("a disallowed redirect target must not be requested")

    async with fetcher(handler) as f:
        with pytest.raises(RobotsDisallowed):
            await f.get("https://news.example/a")


async def test_slow_page_times_out_without_retrying() -> None:
    hits = Counter[str]()

    async def handler(request: httpx.Request) -> httpx.Response:
        hits[request.url.path] += 1
        if request.url.path == "/slow":
            await asyncio.sleep(5)
        return httpx.Response(404)

    async with fetcher(handler, timeout=0.1) as f:
        with pytest.raises(FetchError, match="timed out"):
            await f.get("https://news.example/slow")
    assert hits["/slow"] == 1


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "javascript:alert(1)",
        "ftp://news.example/a",
        "data:text/html,<script>alert(1)</script>",
        "http://user:secret@news.example/a",
        "https://news.example/" + "a" * 5000,
        "https://news.example/a b",
        "https://news.example/a\r\nX-Injected: 1",
        "//news.example/a",
        "/relative/path",
        "",
        "http://[::1/",
    ],
)
async def test_hostile_urls_are_refused_before_any_request(url: str) -> None:
    site = Site({})
    async with fetcher(site) as f:
        with pytest.raises(FetchError, match="URL refused"):
            await f.get(url)
    assert not site.requests


async def test_per_host_delay_spaces_request_starts() -> None:
    starts: dict[str, list[float]] = {"a.example": [], "b.example": []}

    async def handler(request: httpx.Request) -> httpx.Response:
        starts[request.url.host].append(time.monotonic())
        return html("ok")

    async with fetcher(handler, per_host_delay=0.2, per_host_concurrency=4, obey_robots=False) as f:
        urls = [f"https://{host}/{i}" for host in starts for i in range(4)]
        await asyncio.gather(*(f.get(url) for url in urls))
    for host_starts in starts.values():
        gaps = [b - a for a, b in itertools.pairwise(host_starts)]
        # Measured in the handler, so event-loop scheduling may shave a little off the limiter's spacing.
        assert len(gaps) == 3 and min(gaps) >= 0.15
    # Hosts are limited independently: b.example did not queue behind a.example.
    assert abs(starts["a.example"][0] - starts["b.example"][0]) < 0.15


async def test_per_host_concurrency_is_capped() -> None:
    in_flight = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.02)
        in_flight -= 1
        return html("ok")

    async with fetcher(handler, per_host_concurrency=2, obey_robots=False) as f:
        await asyncio.gather(*(f.get(f"https://news.example/{i}") for i in range(8)))
    assert peak == 2


async def test_binary_bodies_are_kept_but_not_decoded() -> None:
    site = Site({"/img": httpx.Response(200, content=b"\x89PNG\r\n", headers={"Content-Type": "image/png"})})
    async with fetcher(site) as f:
        result = await f.get("https://news.example/img")
    assert result.body == b"\x89PNG\r\n" and result.text == ""


CP1252_PAGE = '<html><head><meta charset="windows-1252"></head><body>Café “quoted” – 5 €</body></html>'


async def test_windows_1252_page_with_meta_charset_is_decoded() -> None:
    body = CP1252_PAGE.encode("cp1252")
    site = Site({"/a": httpx.Response(200, content=body, headers={"Content-Type": "text/html"})})
    async with fetcher(site) as f:
        result = await f.get("https://news.example/a")
    assert result.text == CP1252_PAGE


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ("caf\xe9 \x93q\x94".encode("latin-1"), "text/html; charset=ISO-8859-1", "café “q”"),
        (
            "<meta charset=utf-8>żółw".encode("iso-8859-2"),
            "text/html; charset=iso-8859-2",
            "<meta charset=utf-8>żółw",
        ),
        (
            b"<meta http-equiv='Content-Type' content='text/html; charset=koi8-r'>\xf0\xd2\xc9",
            None,
            "<meta http-equiv='Content-Type' content='text/html; charset=koi8-r'>При",
        ),
        (
            "<?xml version='1.0' encoding='iso-8859-1'?><rss>£</rss>".encode("latin-1"),
            "application/xml",
            "<?xml version='1.0' encoding='iso-8859-1'?><rss>£</rss>",
        ),
        (b"\xef\xbb\xbfBOM \xc3\xa9", "text/html", "BOM é"),
        ("\ufeffutf16".encode("utf-16-le"), "text/html", "utf16"),
        ("plain utf-8 – ünïcödé".encode(), "text/html", "plain utf-8 – ünïcödé"),
        (
            "<meta charset=x-no-such-charset>é".encode(),
            "text/html; charset=bogus",
            "<meta charset=x-no-such-charset>é",
        ),
    ],
)
def test_charset_precedence(body: bytes, content_type: str | None, expected: str) -> None:
    assert decode_text(body, content_type) == expected


def test_undeclared_legacy_page_is_detected() -> None:
    text = "Le ministre a déclaré mercredi que la réforme des retraites serait examinée à l'Assemblée. " * 5
    assert decode_text(text.encode("cp1252"), "text/html") == text


def test_undecodable_bytes_never_raise() -> None:
    decoded = decode_text(b"ok \xff\xfe\xfa broken", "text/html; charset=utf-8")
    assert decoded.startswith("ok ") and "\ufffd" in decoded
    assert isinstance(decode_text(bytes(range(256)) * 10, None), str)


# --- over real HTTP, against the simulated newsroom on 127.0.0.1 ------------------------------------------


@pytest.fixture
def newsroom() -> Iterator[Newsroom]:
    with Newsroom(slow_delay=0.5) as room:
        room.clock.set(DAY_START + timedelta(hours=9))
        yield room


def polite(**options: object) -> Fetcher:
    return Fetcher(UA, **{"per_host_delay": 0.0, **options})  # type: ignore[arg-type]


async def test_newsroom_misbehaviours_over_real_http(newsroom: Newsroom) -> None:
    async with polite() as f:
        cp1252 = await f.get(newsroom.url("pound-cafe-rally"))
        moved = await f.get(newsroom.url("/news/council-budget-vote-draft"))
        gone = await f.get(newsroom.url("museum-closure"))
        flaky = await f.get(newsroom.url("hospital-waiting-lists"))
        with pytest.raises(RobotsDisallowed):
            await f.get(newsroom.url("embargoed-crime-figures"))
    assert "Pound rallies as café chains report “strong” Christmas" in cp1252.text
    assert moved.final_url == newsroom.url("council-budget-approved") and moved.status == 200
    assert gone.status == 410 and gone.gone
    assert flaky.status == 200
    assert [r.status for r in newsroom.requests_for("/news/hospital-waiting-lists")] == [503, 200]
    assert newsroom.requests_for("/private/embargoed-crime-figures") == []
    assert len(newsroom.requests_for("/robots.txt")) == 1


async def test_newsroom_feed_answers_304_to_a_conditional_get(newsroom: Newsroom) -> None:
    async with polite() as f:
        first = await f.get(newsroom.url("/rss.xml"))
        again = await f.get(newsroom.url("/rss.xml"), etag=first.etag, last_modified=first.last_modified)
    assert first.status == 200 and first.etag and "<rss" in first.text
    assert again.not_modified and again.body == b""


async def test_newsroom_slow_page_times_out(newsroom: Newsroom) -> None:
    async with polite(timeout=0.2) as f:
        with pytest.raises(FetchError, match="timed out"):
            await f.get(newsroom.url("rail-strike-talks"))


async def test_newsroom_sees_requests_spaced_by_the_per_host_delay(newsroom: Newsroom) -> None:
    slugs = ["harbour-bridge-repairs", "minister-expenses-row", "school-funding-gap", "election-poll-slump"]
    async with polite(per_host_delay=0.2, per_host_concurrency=4) as f:
        await asyncio.gather(*(f.get(newsroom.url(slug)) for slug in slugs))
    served = sorted(record.at for record in newsroom.request_log)
    assert len(served) == 5  # robots.txt, then the four pages
    assert min(b - a for a, b in itertools.pairwise(served)) >= 0.14

"""SSRF: newsdelta connects only to addresses the policy allows, checked after resolution.

Two real servers: an "outlet" on 127.0.0.1 and an "internal service" on 127.0.0.2 that counts every request.
With only 127.0.0.1/32 allowed, whatever the outlet hands us (feed items, redirects, robots.txt redirects)
must never reach the internal one, and each refusal must say why.
"""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
from pathlib import Path

import pytest
from click.testing import CliRunner
from crawl_support import fast_fetcher, sqlite_store
from fastapi.testclient import TestClient
from sqlalchemy import select

from newsdelta.cli import cli
from newsdelta.config import Settings
from newsdelta.crawl import CrawlContext, PassStats, run_pass
from newsdelta.crawl.loop import poll_due_feeds
from newsdelta.discovery import canonicalize_url
from newsdelta.fetch import AddressPolicy, AddressRefused
from newsdelta.fetch.addresses import parse_networks
from newsdelta.store.models import Article, Check, Version
from newsdelta.store.repository import add_feed
from newsdelta.testing.httpserver import BackgroundServer, Request, Response
from newsdelta.web.app import create_app

OUTLET_ONLY = AddressPolicy(parse_networks("127.0.0.1/32"))
NOTHING = AddressPolicy()
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ARTICLE = (
    "<html><head><title>{title}</title></head><body><article><h1>{title}</h1>{body}</article></body></html>"
)


class Server:
    """A BackgroundServer answering from a dict of paths, counting every request it receives."""

    def __init__(self, host: str) -> None:
        self.routes: dict[str, Callable[[], Response]] = {}
        self.requests: Counter[str] = Counter()
        self.hosts: list[str] = []
        self._server = BackgroundServer(self._handle, host, 0)
        self.host = host
        self.port = self._server.start()

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def _handle(self, request: Request) -> Response:
        self.requests[request.path] += 1
        self.hosts.append(request.headers.get("host", ""))
        route = self.routes.get(request.path)
        return route() if route else Response(404, b"not here\n")

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    def stop(self) -> None:
        self._server.stop()


def _redirect(to: str) -> Callable[[], Response]:
    return lambda: Response(302, headers=[("Location", to)])


def _page(title: str) -> Callable[[], Response]:
    paragraphs = "".join(
        f"<p>{title}: paragraph {n} of a story long enough to be read as one.</p>" for n in range(6)
    )
    body = ARTICLE.format(title=title, body=paragraphs).encode()
    return lambda: Response(200, body, [("Content-Type", "text/html; charset=utf-8")])


@pytest.fixture
def outlet() -> Iterator[Server]:
    server = Server("127.0.0.1")
    yield server
    server.stop()


@pytest.fixture
def internal() -> Iterator[Server]:
    try:
        server = Server("127.0.0.2")
    except OSError as exc:  # pragma: no cover - every Linux routes 127/8 to lo
        pytest.skip(f"cannot bind 127.0.0.2: {exc}")
    server.routes = {path: _page("internal secret") for path in ("/", "/secret", "/robots.txt", "/admin")}
    yield server
    server.stop()


# --- the policy ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.2", "loopback"),
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("10.1.2.3", "private"),
        ("192.168.0.1", "private"),
        ("172.16.5.4", "private"),
        ("100.64.0.1", "shared (carrier-grade NAT)"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "private"),  # reserved for future use; Python files it under private too
        ("0.0.0.0", "unspecified"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:169.254.169.254", "link-local"),
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("2002:a00:1::", "private"),  # 6to4 of 10.0.0.1
        ("64:ff9b::a00:1", "private"),  # NAT64 of 10.0.0.1
    ],
)
def test_non_public_addresses_are_refused_by_default(address: str, kind: str) -> None:
    reason = NOTHING.refusal(ip_address(address))
    assert reason is not None and f"is a {kind} address" in reason


@pytest.mark.parametrize("address", ["8.8.8.8", "151.101.1.111", "2606:4700::1111", "2002:808:808::"])
def test_public_unicast_addresses_are_allowed(address: str) -> None:
    assert NOTHING.refusal(ip_address(address)) is None


def test_allowed_networks_widen_the_policy_and_nothing_else() -> None:
    policy = AddressPolicy(parse_networks("10.0.0.0/8, 127.0.0.1"))
    assert policy.refusal(ip_address("10.9.9.9")) is None
    assert policy.refusal(ip_address("::ffff:10.9.9.9")) is None  # the same address, IPv4-mapped
    assert policy.refusal(ip_address("127.0.0.1")) is None
    assert policy.refusal(ip_address("127.0.0.2")) is not None
    assert policy.refusal(ip_address("192.168.1.1")) is not None
    with pytest.raises(ValueError, match="not a network"):
        parse_networks("10.0.0.0/8,localhost")


@pytest.mark.parametrize(
    "spelling",
    ["2130706433", "0x7f.1", "017700000001", "0x7f000001", "127.1", "0177.0.0.1", "[::ffff:7f00:1]"],
)
def test_odd_spellings_of_loopback_are_refused_and_canonicalised(spelling: str) -> None:
    with pytest.raises(AddressRefused, match="loopback"):
        NOTHING.check_literal(spelling)
    if not spelling.startswith("["):
        assert canonicalize_url(f"http://{spelling}/x") == "http://127.0.0.1/x"


# --- the fetcher --------------------------------------------------------------------------------------------


async def test_a_redirect_to_a_refused_address_is_not_followed(outlet: Server, internal: Server) -> None:
    outlet.routes["/story"] = _redirect(internal.url("/secret"))
    async with fast_fetcher(address_policy=OUTLET_ONLY, retries=0) as fetcher:
        with pytest.raises(
            AddressRefused, match=r"redirect from .* not followed: .*127\.0\.0\.2 is a loopback"
        ):
            await fetcher.get(outlet.url("/story"))
    assert outlet.requests["/story"] == 1
    assert internal.total == 0


async def test_a_robots_txt_redirect_to_a_refused_address_is_not_followed(
    outlet: Server, internal: Server
) -> None:
    outlet.routes["/robots.txt"] = _redirect(internal.url("/robots.txt"))
    outlet.routes["/story"] = _page("story")
    async with fast_fetcher(address_policy=OUTLET_ONLY, retries=0) as fetcher:
        with pytest.raises(AddressRefused, match=r"robots\.txt of .* not fetched: .*127\.0\.0\.2"):
            await fetcher.get(outlet.url("/story"))
    assert outlet.requests["/robots.txt"] == 1 and outlet.requests["/story"] == 0
    assert internal.total == 0


@pytest.mark.parametrize("spelling", ["2130706433", "0x7f.1", "017700000001", "127.1"])
async def test_odd_spellings_are_refused_before_any_request(outlet: Server, spelling: str) -> None:
    async with fast_fetcher(address_policy=NOTHING) as fetcher:
        with pytest.raises(AddressRefused, match="loopback"):
            await fetcher.get(f"http://{spelling}:{outlet.port}/story")
    assert outlet.total == 0


async def test_names_are_checked_after_resolution(outlet: Server) -> None:
    """localhost is a name: only its resolved addresses can tell that it is refused."""
    async with fast_fetcher(address_policy=NOTHING, retries=0) as fetcher:
        with pytest.raises(AddressRefused, match=r"address refused for localhost: .*loopback"):
            await fetcher.get(f"http://localhost:{outlet.port}/story")
    assert outlet.total == 0


async def test_the_connection_goes_to_the_address_that_was_checked(
    outlet: Server, internal: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name resolving to a refused and an allowed address reaches only the allowed one, by its name."""
    outlet.routes["/story"] = _page("story")

    async def resolver(host: str, port: int, **_: object) -> list[tuple[object, ...]]:
        assert host == "outlet.test"
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.2", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
        ]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", resolver)
    async with fast_fetcher(address_policy=OUTLET_ONLY, obey_robots=False) as fetcher:
        result = await fetcher.get(f"http://outlet.test:{outlet.port}/story")
    assert result.status == 200 and "story" in result.text
    assert outlet.hosts == [f"outlet.test:{outlet.port}"]  # the Host header keeps the name
    assert internal.total == 0


async def test_a_name_resolving_only_to_refused_addresses_is_refused(
    internal: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def resolver(host: str, port: int, **_: object) -> list[tuple[object, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.2", port))]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", resolver)
    async with fast_fetcher(address_policy=OUTLET_ONLY, obey_robots=False, retries=2) as fetcher:
        with pytest.raises(AddressRefused, match=r"address refused for rebound\.test: 127\.0\.0\.2"):
            await fetcher.get(f"http://rebound.test:{internal.port}/secret")
    assert internal.total == 0


# --- the crawl ----------------------------------------------------------------------------------------------


def _rss(*links: str) -> Callable[[], Response]:
    items = "".join(f"<item><title>t</title><link>{link}</link><guid>{link}</guid></item>" for link in links)
    body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>o</title>{items}</channel></rss>'
    return lambda: Response(200, body.encode(), [("Content-Type", "application/rss+xml")])


async def test_the_crawl_refuses_feed_items_and_redirects_to_internal_addresses(
    tmp_path: Path, outlet: Server, internal: Server
) -> None:
    story = outlet.url("/news/2026/03/01/a-real-story")
    moved = outlet.url("/news/2026/03/01/moved-inside")
    inside = internal.url("/news/2026/03/01/secret-story")
    outlet.routes = {
        "/rss.xml": _rss(story, moved, inside),
        "/news/2026/03/01/a-real-story": _page("a real story"),
        "/news/2026/03/01/moved-inside": _redirect(internal.url("/admin")),
    }
    sessions = sqlite_store(tmp_path)
    with sessions.begin() as session:
        add_feed(session, outlet.url("/rss.xml"), "outlet", timedelta(minutes=5), [], START)
    async with fast_fetcher(address_policy=OUTLET_ONLY, retries=0) as fetcher:
        ctx = CrawlContext(sessions=sessions, fetcher=fetcher, clock=lambda: START)
        stats = await run_pass(ctx)
    assert internal.total == 0
    assert stats.outcomes == {"new_version": 1, "error": 2}  # one refusal stops nothing else
    with sessions() as session:
        errors = {
            article.url: article.last_error
            for article in session.scalars(select(Article).where(Article.error_streak > 0))
        }
        details = session.scalars(select(Check.detail).where(Check.outcome == "error")).all()
        assert session.scalar(select(Version.title)) == "a real story"
    assert set(errors) == {moved, inside}  # the redirected article was not renamed to the internal URL
    assert "127.0.0.2 is a loopback address" in (errors[inside] or "")
    assert "not followed" in (errors[moved] or "") and "127.0.0.2" in (errors[moved] or "")
    assert all("address refused" in (detail or "") for detail in details)
    app = create_app(Settings(allowed_networks=OUTLET_ONLY.allowed), sessions, clock=lambda: START)
    with TestClient(app) as client:
        [source] = client.get("/api/health").json()["sources"]
    assert source["errors"] == 2 and source["checks"] == 3


async def test_a_sitemap_index_naming_an_internal_child_reaches_only_the_outlet(
    tmp_path: Path, outlet: Server, internal: Server
) -> None:
    index = (
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{internal.url('/sitemap.xml')}</loc></sitemap>"
        f"<sitemap><loc>{outlet.url('/news-sitemap.xml')}</loc></sitemap></sitemapindex>"
    )
    child = (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{outlet.url('/news/2026/03/01/a-real-story')}</loc></url></urlset>"
    )
    outlet.routes = {
        "/sitemap.xml": lambda: Response(200, index.encode(), [("Content-Type", "application/xml")]),
        "/news-sitemap.xml": lambda: Response(200, child.encode(), [("Content-Type", "application/xml")]),
    }
    sessions = sqlite_store(tmp_path)
    with sessions.begin() as session:
        add_feed(session, outlet.url("/sitemap.xml"), "outlet", timedelta(minutes=5), [], START)
    async with fast_fetcher(address_policy=OUTLET_ONLY, retries=0) as fetcher:
        ctx = CrawlContext(sessions=sessions, fetcher=fetcher, clock=lambda: START)
        await poll_due_feeds(ctx, PassStats(), concurrency=2)
    with sessions() as session:
        assert session.scalars(select(Article.url)).all() == [outlet.url("/news/2026/03/01/a-real-story")]
    assert internal.total == 0


# --- adding URLs ----------------------------------------------------------------------------------------------


def test_track_refuses_an_internal_url_without_a_request(
    tmp_path: Path, outlet: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSDELTA_ALLOWED_NETWORKS", "")
    runner = CliRunner()
    base = ["--data-dir", str(tmp_path)]
    refused = runner.invoke(cli, [*base, "track", outlet.url("/x")])
    assert refused.exit_code == 2 and "127.0.0.1 is a loopback address" in refused.output
    refused = runner.invoke(cli, [*base, "feed", "add", f"http://0x7f.1:{outlet.port}/rss", "--source", "o"])
    assert refused.exit_code == 2 and "loopback" in refused.output
    assert outlet.total == 0
    allowed = runner.invoke(cli, [*base, "--allow-networks", "127.0.0.1/32", "track", outlet.url("/x")])
    assert allowed.exit_code == 0, allowed.output
    bad = runner.invoke(cli, [*base, "--allow-networks", "everything", "track", outlet.url("/x")])
    assert bad.exit_code == 2 and "not a network in CIDR notation" in bad.output


def test_admin_api_refuses_internal_urls(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, admin_token="t" * 32, allowed_networks=())
    app = create_app(settings, sqlite_store(tmp_path))
    headers = {"Authorization": f"Bearer {'t' * 32}"}
    with TestClient(app) as client:
        tracked = client.post(
            "/api/admin/track", json={"url": "http://169.254.169.254/latest/"}, headers=headers
        )
        feed = client.post(
            "/api/admin/feeds", json={"url": "http://[::1]/rss", "source": "x"}, headers=headers
        )
    assert tracked.status_code == 422 and "link-local" in tracked.json()["detail"]
    assert feed.status_code == 422 and "loopback" in feed.json()["detail"]

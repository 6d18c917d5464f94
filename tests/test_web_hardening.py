"""The site against careless configuration and hostile clients: what /admin shows without the token, token
guesses, absolute links that a Host header cannot redirect, and a diff cache bounded in bytes."""

from __future__ import annotations

import gc
import random
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from starlette.requests import Request
from web_support import TOKEN, Demo, admin_login, demo

from newsdelta.cli import cli
from newsdelta.config import Settings
from newsdelta.store.db import open_database
from newsdelta.store.models import Version
from newsdelta.web.admin_session import LIFETIME_SECONDS, new_session, read_session
from newsdelta.web.app import create_app
from newsdelta.web.diffing import DiffCache
from newsdelta.web.fixtures import seed_demo
from newsdelta.web.throttle import FailureWindow, client_key

__all__ = ["demo"]

HIDDEN_URL = "https://www.bbc.co.uk/news/legal"


# --- /admin and the token ---------------------------------------------------------------------------------------


def test_admin_page_shows_nothing_about_hidden_articles_without_the_token(demo: Demo) -> None:
    client = demo.client
    client.post(
        f"/api/admin/articles/{demo.ids.retired}/hide",
        json={"reason": "Court order 12."},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    page = client.get("/admin").text
    for secret in (HIDDEN_URL, "https://www.bbc.co.uk/news/old-story", "Court order 12.", "Hidden now"):
        assert secret not in page, secret
    refused = client.post("/admin/login", data={"token": "wrong"})
    assert refused.status_code == 403 and HIDDEN_URL not in refused.text
    admin_login(client)
    listed = client.get("/admin")
    assert listed.status_code == 200 and listed.headers["cache-control"] == "no-store"
    assert HIDDEN_URL in listed.text and "Court order 12." in listed.text
    assert TOKEN not in listed.text  # the token is never echoed into the page


def test_the_token_is_entered_once_and_a_signed_cookie_stands_for_it(demo: Demo) -> None:
    client = demo.client
    login = client.post("/admin/login", data={"token": TOKEN}, follow_redirects=False)
    assert login.status_code == 303
    cookie = login.headers["set-cookie"]
    for attribute in ("newsdelta_admin=", "HttpOnly", "SameSite=strict", "Path=/admin", "Max-Age=28800"):
        assert attribute.lower() in cookie.lower(), attribute
    assert TOKEN not in cookie
    page = client.get("/admin").text
    assert 'name="token"' not in page  # no form asks for the token again
    assert page.count('name="csrf"') == page.count('method="post"') > 4
    csrf = admin_login(client)
    hide = {"article": demo.ids.retired, "reason": "Court order 12."}
    assert client.post("/admin/hide", data=hide).status_code == 403  # no CSRF field: a forged form
    assert client.post("/admin/hide", data={**hide, "csrf": "f" * 64}).status_code == 403
    other = TestClient(client.app)  # another browser, with the same form but not the cookie
    assert other.post("/admin/hide", data={**hide, **csrf}).status_code == 403
    assert client.post("/admin/hide", data={**hide, **csrf}, follow_redirects=False).status_code == 303
    assert client.get(f"/articles/{demo.ids.retired}").status_code == 410
    out = client.post("/admin/logout", data=csrf, follow_redirects=False)
    assert out.status_code == 303 and 'newsdelta_admin=""' in out.headers["set-cookie"]
    assert client.post(f"/admin/articles/{demo.ids.retired}/unhide", data=csrf).status_code == 403


def test_a_session_cookie_cannot_be_forged_altered_or_kept() -> None:
    cookie, session = new_session(TOKEN, now=1000.0)
    assert read_session(TOKEN, cookie, now=1001.0) == session
    expiry, nonce, signature = cookie.split(".")
    assert read_session(TOKEN, f"{int(expiry) + 3600}.{nonce}.{signature}", now=1001.0) is None
    assert read_session(TOKEN, f"{expiry}.other.{signature}", now=1001.0) is None
    assert read_session("a-new-token", cookie, now=1001.0) is None  # changing the token ends sessions
    assert read_session(TOKEN, cookie, now=1000.0 + LIFETIME_SECONDS) is None
    assert read_session(TOKEN, "garbage", now=1001.0) is None
    assert new_session(TOKEN, now=1000.0)[1].csrf != session.csrf  # each session its own CSRF token


def test_token_guesses_are_limited_per_client(tmp_path: Path) -> None:
    now = [0.0]
    app = create_app(Settings(admin_token=TOKEN), open_database(f"sqlite:///{tmp_path / 'x.sqlite3'}"))
    app.state.token_failures = FailureWindow(limit=10, window=300, clock=lambda: now[0])
    guesser = TestClient(app, client=("203.0.113.7", 5000))
    other = TestClient(app, client=("198.51.100.1", 5000))

    def hide(client: TestClient, token: str) -> int:
        return client.post(
            "/api/admin/articles/1/hide", json={}, headers={"Authorization": f"Bearer {token}"}
        ).status_code

    assert [hide(guesser, f"guess-{n}") for n in range(10)] == [403] * 10
    blocked = guesser.post("/admin/login", data={"token": TOKEN})  # the right token, but too late
    assert blocked.status_code == 429 and blocked.headers["retry-after"] == "300"
    assert "Too many wrong admin tokens" in blocked.text and blocked.headers["content-type"].startswith(
        "text/html"
    )
    api = guesser.post("/api/admin/articles/1/hide", json={}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert api.status_code == 429 and api.json()["detail"].startswith("Too many wrong admin tokens")
    assert hide(other, TOKEN) == 404  # another client is not held back (and article 1 does not exist)
    now[0] = 120.0
    assert guesser.post("/admin/login", data={"token": TOKEN}).headers["retry-after"] == "180"
    now[0] = 300.0  # the first failures leave the window
    assert guesser.post("/admin/login", data={"token": TOKEN}, follow_redirects=False).status_code == 303


def test_the_default_limit_is_ten_guesses_in_five_minutes(demo: Demo) -> None:
    statuses = [demo.client.post("/admin/login", data={"token": "nope"}).status_code for _ in range(11)]
    assert statuses == [403] * 10 + [429]


def _request_from(host: str) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "headers": [], "client": (host, 1)})


def test_clients_are_told_apart_by_address_and_ipv6_hosts_by_their_64() -> None:
    assert client_key(_request_from("203.0.113.7")) == "203.0.113.7"
    assert client_key(_request_from("::ffff:203.0.113.7")) == "203.0.113.7"
    assert client_key(_request_from("2001:db8:1:2:aaaa::1")) == client_key(
        _request_from("2001:db8:1:2:ffff::9")
    )
    assert client_key(_request_from("2001:db8:1:2::1")) != client_key(_request_from("2001:db8:1:3::1"))


def test_the_failure_window_remembers_a_bounded_number_of_clients() -> None:
    window = FailureWindow(limit=1, window=60, max_clients=100, clock=lambda: 0.0)
    for n in range(1000):
        window.failed(f"client-{n}")
    assert window.retry_after("client-999") == 60
    assert window.retry_after("client-0") is None  # forgotten: the oldest go first
    assert len(window._failures) == 100


# --- absolute links ----------------------------------------------------------------------------------------------


def _feed_links(body: bytes) -> list[str]:
    parsed = feedparser.parse(body)
    links = [link.href for link in parsed.feed.links]
    return links + [link.href for entry in parsed.entries for link in entry.links]


def test_links_follow_the_configured_base_url_not_the_host_header(tmp_path: Path, corpus: Path) -> None:
    sessions = open_database(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    ids = seed_demo(sessions, corpus)
    client = TestClient(create_app(Settings(base_url="https://diffs.example.org/"), sessions))
    evil = {"host": "evil.example"}
    for path in (
        "/feed.rss",
        "/feed.atom",
        f"/articles/{ids.guardian}/feed.atom",
        "/search/feed.rss?q=Putin",
    ):
        links = _feed_links(client.get(path, headers=evil).content)
        assert len(links) > 2 and all(link.startswith("https://diffs.example.org/") for link in links), links
        assert "https://diffs.example.org" + path in links  # the feed's self link
    page = client.get(f"/articles/{ids.guardian}?x=1", headers=evil).text
    assert f'<link rel="canonical" href="https://diffs.example.org/articles/{ids.guardian}?x=1">' in page
    spec = client.get("/api/openapi.json", headers=evil).json()
    assert spec["servers"] == [{"url": "https://diffs.example.org"}]


def test_without_a_base_url_links_fall_back_to_the_request(demo: Demo) -> None:
    body = demo.client.get("/feed.atom", headers={"host": "site.example:8080"}).text
    assert 'href="http://site.example:8080/feed.atom"' in body
    assert "servers" not in demo.client.get("/api/openapi.json").json()


@pytest.mark.parametrize(
    "base",
    ["ftp://diffs.example.org", "diffs.example.org", "https://diffs.example.org/?a=1", "http://a:b@x.org"],
)
def test_a_bad_base_url_is_refused_at_start(tmp_path: Path, base: str) -> None:
    with pytest.raises(ValueError, match="base URL"):
        create_app(Settings(base_url=base), open_database(f"sqlite:///{tmp_path / 'x.sqlite3'}"))
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "serve", "--base-url", base])
    assert result.exit_code == 2 and "base URL" in result.output


# --- the diff cache ----------------------------------------------------------------------------------------------


def _long_versions(seed: int, paragraphs: int = 100) -> tuple[Version, Version]:
    """Two versions of a long article (80 words a paragraph) with every third paragraph edited."""
    rng = random.Random(seed)
    words = ["".join(rng.choice("abcdefghijklmnop") for _ in range(rng.randint(2, 9))) for _ in range(4000)]
    old = [" ".join(rng.choice(words) for _ in range(80)) for _ in range(paragraphs)]
    new = [p if i % 3 else p.replace(" ", " edited ", 3) for i, p in enumerate(old)]
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return (
        Version(id=2 * seed, title="Old", paragraphs=old, byline=None, published=at, updated=None),
        Version(id=2 * seed + 1, title="New", paragraphs=new, byline=None, published=at, updated=None),
    )


def test_the_diff_cache_is_bounded_in_bytes() -> None:
    one = DiffCache()
    one.diff(*_long_versions(1))
    cache = DiffCache(max_bytes=int(3.5 * one.bytes))
    for seed in range(1, 9):
        cache.diff(*_long_versions(seed))
        assert cache.bytes <= cache.max_bytes
    assert len(cache) == 3  # the three most recent
    assert cache.diff(*_long_versions(8)) is cache.diff(*_long_versions(8))


def test_a_cached_diffs_size_is_what_it_really_holds() -> None:
    """The estimate against tracemalloc: what the cache keeps alive once the versions themselves are gone."""
    cache = DiffCache()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        cache.diff(*_long_versions(1, paragraphs=60))
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert 0.7 * held < cache.bytes < 1.5 * held, (cache.bytes, held)


def test_the_diff_cache_keeps_recently_used_diffs_and_skips_oversized_ones() -> None:
    first, second, third = (_long_versions(seed, paragraphs=40) for seed in (1, 2, 3))
    one = DiffCache().diff(*first)
    size = DiffCache(max_bytes=2**30)
    size.diff(*first)
    cache = DiffCache(max_bytes=int(size.bytes * 2.5))  # room for two
    assert cache.diff(*first) is cache.diff(*first)
    cache.diff(*second)
    cache.diff(*first)  # now the most recent
    cache.diff(*third)  # evicts the second
    assert len(cache) == 2 and cache.diff(*first) is cache.diff(*first)
    tiny = DiffCache(max_bytes=1000)
    assert tiny.diff(*first) == one and len(tiny) == 0 and tiny.bytes == 0


def test_the_diff_cache_size_is_configured(tmp_path: Path) -> None:
    app = create_app(Settings(diff_cache_mb=8), open_database(f"sqlite:///{tmp_path / 'x.sqlite3'}"))
    assert app.state.diffs.max_bytes == 8 * 2**20

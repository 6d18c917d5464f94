"""WebSub (W3C Recommendation) on the simulated newsroom's hub and the app's real callback route, over HTTP on
127.0.0.1: discovery, verification of intent, signed notifications as change signals, renewal, unsubscription."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_support import free_port, served
from crawl_support import fast_fetcher, sqlite_store
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from newsdelta.actions import remove_feed
from newsdelta.config import Settings
from newsdelta.crawl import CrawlContext, run_pass
from newsdelta.crawl.websub import maintain_subscriptions
from newsdelta.discovery import discover_all
from newsdelta.discovery.websub import HubLinks, hub_links, parse_link_header
from newsdelta.distributed import make_celery
from newsdelta.distributed.scheduler import SchedulerOptions, schedule_once
from newsdelta.distributed.status import status_report
from newsdelta.distributed.tasks import HUB_TASK
from newsdelta.fetch.addresses import AddressPolicy
from newsdelta.schedule import next_check_reason
from newsdelta.store.models import Article, Check, Feed, HubSubscription
from newsdelta.store.repository import add_feed
from newsdelta.testing.drive import crawl_until
from newsdelta.testing.newsroom import Newsroom
from newsdelta.testing.script import Revision, Script, ScriptedArticle
from newsdelta.web.app import create_app

START = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
HOUR = 3600.0
FIRST = Revision("Harbour bridge to close for repairs", ("The bridge closes on Monday.", "Traffic diverts."))
EDITED = Revision(
    "Harbour bridge to close for repairs", ("The bridge closes on Tuesday.", "Traffic diverts.")
)
EDIT_AT = 6 * HOUR + 20 * 60  # between two hourly polls
# Polled hourly: without the hub an edit waits for the backoff or the next poll.
FEED_PERIOD = timedelta(hours=1)


# --- discovery ---------------------------------------------------------------------------------------


def test_hubs_are_found_in_atom_rss_and_json_feeds() -> None:
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<link rel="self" href="/atom.xml"/><link rel="hub" href="https://hub.example/"/>
<entry><id>1</id><link href="https://news.example/2026/03/02/a-story"/></entry></feed>"""
    rss = b"""<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>t</title>
<atom:link rel="hub" href="https://hub.example/rss"/><atom:link rel="self" href="https://news.example/rss"/>
<item><link>https://news.example/2026/03/02/a-story</link></item></channel></rss>"""
    json_feed = (
        b'{"version": "https://jsonfeed.org/version/1.1", "feed_url": "https://news.example/feed.json",'
        b' "hubs": [{"type": "rssCloud", "url": "https://cloud.example/"},'
        b' {"type": "WebSub", "url": "https://hub.example/json"}], "items": []}'
    )
    base = "https://news.example/feeds/x"
    assert discover_all(atom, None, base).hubs == HubLinks(
        ("https://hub.example/",), "https://news.example/atom.xml"
    )
    assert discover_all(rss, None, base).hubs == HubLinks(
        ("https://hub.example/rss",), "https://news.example/rss"
    )
    assert discover_all(json_feed, None, base).hubs == HubLinks(
        ("https://hub.example/json",), "https://news.example/feed.json"
    )
    assert (
        discover_all(
            b"<rss><channel><item><link>https://news.example/a</link></item></channel></rss>", None, base
        ).hubs
        == HubLinks()
    )


def test_link_headers_come_first_and_the_feed_url_is_the_topic_without_a_self_link() -> None:
    declared = HubLinks(("https://body-hub.example/",), "https://news.example/self-in-body")
    header = '<https://hub.example/a>; rel="hub", </feed?x=1,2>; rel="self"; type="application/rss+xml"'
    found = hub_links({"Link": header}, declared, "https://news.example/feed")
    assert found == HubLinks(("https://hub.example/a",), "https://news.example/feed?x=1,2")
    assert hub_links({"content-type": "text/xml"}, declared, "https://news.example/feed") == declared
    assert hub_links({}, HubLinks(), "https://news.example/feed") is None
    hub_only = parse_link_header("<https://hub.example/>; rel=hub", "https://news.example/feed")
    assert hub_only.topic("https://news.example/feed") == "https://news.example/feed"
    assert parse_link_header('<javascript:alert(1)>; rel="hub"', "https://news.example/").hubs == ()


# --- the callback on a real server -------------------------------------------------------------------


@dataclass
class Site:
    url: str
    app: FastAPI

    def use(self, sessions: sessionmaker[Session], newsroom: Newsroom) -> None:
        self.app.state.sessions = sessions
        self.app.state.clock = newsroom.clock.now


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """`newsdelta serve`'s app on a random local port; each test points it at its own store and clock."""
    port = free_port()  # the app must know its public address before it serves
    app = create_app(
        Settings(base_url=f"http://127.0.0.1:{port}"), sqlite_store(tmp_path_factory.mktemp("site"))
    )
    with served(app, port) as url:
        yield Site(url, app)


def _script() -> Script:
    return Script([ScriptedArticle("harbour-bridge", "local", [(0.0, FIRST), (EDIT_AT, EDITED)])], START)


class World:
    """A newsroom with its hub, a store with its Atom feed, the site's callback, and a crawl context."""

    def __init__(self, tmp_path: Path, site: Site, newsroom: Newsroom, *, websub: bool = True) -> None:
        self.newsroom = newsroom
        self.hub = newsroom.hub
        assert self.hub is not None
        self.sessions = sqlite_store(tmp_path)
        self.site = site
        self.websub_base = site.url if websub else None
        site.use(self.sessions, newsroom)
        with self.sessions.begin() as session:
            add_feed(session, newsroom.url("/atom.xml"), "newsroom", FEED_PERIOD, (), START)

    def run(self, coroutine_factory: Any, **fetcher: Any) -> Any:
        async def go() -> Any:
            async with fast_fetcher(**fetcher) as client:
                ctx = CrawlContext(
                    sessions=self.sessions,
                    fetcher=client,
                    clock=self.newsroom.clock.now,
                    websub_base_url=self.websub_base,
                )
                return await coroutine_factory(ctx)

        return asyncio.run(go())

    def subscription(self) -> HubSubscription | None:
        with self.sessions() as session:
            return session.scalars(select(HubSubscription)).one_or_none()

    def article(self) -> Article:
        with self.sessions() as session:
            return session.scalars(select(Article)).one()

    def callback(self) -> str:
        subscription = self.subscription()
        assert subscription is not None and subscription.callback_url is not None
        return subscription.callback_url

    def subscribe(self) -> None:
        """A first pass (poll, subscribe, first check), then the hub verifies."""
        self.run(lambda ctx: run_pass(ctx))
        assert self.hub is not None and self.hub.verify_pending() == 1


@pytest.fixture
def world(tmp_path: Path, site: Site) -> Iterator[World]:
    with Newsroom(_script()) as newsroom:
        yield World(tmp_path, site, newsroom)


def test_a_polled_feed_is_subscribed_to_and_the_hub_verified_intent(world: World) -> None:
    world.run(lambda ctx: run_pass(ctx))
    pending = world.subscription()
    assert pending is not None and pending.state == "pending" and pending.requested_at == START
    assert pending.hub_url == world.newsroom.url("/hub") and pending.topic_url == world.newsroom.url(
        "/atom.xml"
    )
    assert pending.callback_url is not None and pending.callback_url.startswith(world.site.url + "/websub/")
    assert len(pending.callback_token) >= 40 and len(pending.secret) == 64
    # What another process driving the newsroom asks of its hub.
    assert httpx.post(world.newsroom.url("/_control/hub")).json() == {"verified": 1, "sent": 0}
    assert world.hub is not None
    active = world.subscription()
    assert active is not None and active.state == "active" and active.requested_at is None
    assert active.lease_expires_at == START + timedelta(days=10)
    assert active.next_check_at == START + timedelta(days=8)  # renewal at 80% of the lease
    assert world.hub.subscribers(world.newsroom.url("/atom.xml")) == [active.callback_url]


def test_hub_state_is_shown_on_the_source_page_and_by_status(world: World, tmp_path: Path) -> None:
    world.subscribe()
    page = httpx.get(world.site.url + "/sources/newsroom").text
    assert "WebSub hubs" in page and world.newsroom.url("/hub") in page and ">active<" in page
    database = f"sqlite:///{tmp_path / 'newsdelta.sqlite3'}"
    report = status_report(Settings(db_url=database, base_url=world.site.url), now=world.newsroom.clock.now())
    (hub,) = report["websub"]["subscriptions"]
    assert report["websub"]["enabled"] and hub["state"] == "active" and hub["source"] == "newsroom"
    assert hub["lease_expires_at"] == (START + timedelta(days=10)).isoformat()
    assert hub["last_notification_at"] is None
    off = status_report(Settings(db_url=database), now=world.newsroom.clock.now())["websub"]
    assert not off["enabled"] and "NEWSDELTA_BASE_URL" in off["note"]


def test_verification_is_answered_only_for_a_pending_subscription_of_that_topic(world: World) -> None:
    world.run(lambda ctx: run_pass(ctx))
    callback = world.callback()
    topic = world.newsroom.url("/atom.xml")

    def ask(url: str, **params: str) -> httpx.Response:
        query = {"hub.challenge": "c4a11e", "hub.lease_seconds": "600", **params}
        return httpx.get(url, params=query)

    assert (
        ask(callback, **{"hub.mode": "subscribe", "hub.topic": world.newsroom.url("/rss.xml")}).status_code
        == 404
    )
    assert ask(callback, **{"hub.mode": "unsubscribe", "hub.topic": topic}).status_code == 404
    assert (
        ask(
            world.site.url + "/websub/not-a-token", **{"hub.mode": "subscribe", "hub.topic": topic}
        ).status_code
        == 404
    )
    assert world.subscription().state == "pending"  # type: ignore[union-attr]
    answer = ask(callback, **{"hub.mode": "subscribe", "hub.topic": topic})
    assert (answer.status_code, answer.text) == (200, "c4a11e")
    assert world.subscription().lease_expires_at == START + timedelta(seconds=600)  # type: ignore[union-attr]
    # Verified: nothing is pending any more, so a replayed verification is refused.
    assert ask(callback, **{"hub.mode": "subscribe", "hub.topic": topic}).status_code == 404


def test_a_signed_notification_makes_the_article_due_at_once(world: World) -> None:
    world.subscribe()
    planned = START + timedelta(seconds=EDIT_AT + HOUR)  # where the backoff has got to by the edit
    with world.sessions.begin() as session:
        session.scalars(select(Article)).one().next_check_at = planned
    assert world.article().version_count == 1
    world.newsroom.clock.set(START + timedelta(seconds=EDIT_AT))
    assert world.hub is not None and world.hub.publish() == 1
    now = world.newsroom.clock.now()
    article = world.article()
    assert article.next_check_at is not None and article.next_check_at <= now < planned
    assert article.signal_origin == "websub" and article.planned_check_at == planned
    reason = next_check_reason(article, Settings().policy)
    assert reason.kind == "signal" and "WebSub" in reason.detail
    subscription = world.subscription()
    assert (
        subscription is not None
        and subscription.notifications == 1
        and subscription.last_notification_at == now
    )
    # Nothing changed since: the hub has nothing to deliver.
    assert world.hub.publish() == 0


def _post(callback: str, body: bytes, signature: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/atom+xml"}
    if signature is not None:
        headers["X-Hub-Signature"] = signature
    return httpx.post(callback, content=body, headers=headers)


def _sign(secret: str, body: bytes, method: str = "sha256") -> str:
    return f"{method}=" + hmac.new(secret.encode(), body, getattr(hashlib, method)).hexdigest()


def _edited_feed(world: World) -> bytes:
    world.newsroom.clock.set(START + timedelta(seconds=EDIT_AT))
    return httpx.get(world.newsroom.url("/atom.xml")).content


def _untouched(world: World, before: Article, notifications: int) -> None:
    """Nothing from the notification stored: the article's schedule and signal, the subscription's count."""
    after = world.article()
    assert (after.next_check_at, after.signal_at, after.signal_origin) == (
        before.next_check_at,
        before.signal_at,
        before.signal_origin,
    )
    assert world.subscription().notifications == notifications  # type: ignore[union-attr]


def test_a_notification_with_a_bad_or_missing_signature_is_ignored(world: World) -> None:
    world.subscribe()
    before, subscription = world.article(), world.subscription()
    assert subscription is not None and subscription.callback_url is not None
    body = _edited_feed(world)
    forged = _sign("not-the-secret", body)
    for signature in (
        forged,
        None,
        "md5=" + hashlib.md5(body).hexdigest(),
        _sign(subscription.secret, body + b" "),
    ):
        assert _post(subscription.callback_url, body, signature).status_code == 202  # the spec allows 2xx
        _untouched(world, before, 0)
    # Each of the spec's algorithms is accepted with the right secret.
    for method in ("sha1", "sha384", "sha512"):
        assert (
            _post(subscription.callback_url, body, _sign(subscription.secret, body, method)).status_code
            == 202
        )
    assert world.subscription().notifications == 3  # type: ignore[union-attr]
    assert world.article().signal_origin == "websub"


def test_a_notification_for_an_unverified_or_unknown_subscription_is_ignored(world: World) -> None:
    world.run(lambda ctx: run_pass(ctx))  # subscribed, not yet verified
    before, subscription = world.article(), world.subscription()
    assert (
        subscription is not None and subscription.callback_url is not None and subscription.state == "pending"
    )
    body = _edited_feed(world)
    assert _post(subscription.callback_url, body, _sign(subscription.secret, body)).status_code == 202
    _untouched(world, before, 0)
    # An unknown callback is gone (410), which tells a hub to drop it.
    assert (
        _post(world.site.url + "/websub/unknown", body, _sign(subscription.secret, body)).status_code == 410
    )


def test_an_oversized_notification_is_refused_unread(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    world.subscribe()
    subscription = world.subscription()
    assert subscription is not None and subscription.callback_url is not None
    monkeypatch.setattr("newsdelta.web.websub.MAX_NOTIFICATION_BYTES", 100)
    body = _edited_feed(world)
    assert _post(subscription.callback_url, body, _sign(subscription.secret, body)).status_code == 413
    assert world.subscription().notifications == 0  # type: ignore[union-attr]


def test_the_lease_is_renewed_before_it_expires(world: World) -> None:
    world.subscribe()
    first = world.subscription()
    assert first is not None and first.lease_expires_at is not None and first.next_check_at is not None
    world.newsroom.clock.set(first.next_check_at - timedelta(minutes=1))
    assert world.run(maintain_subscriptions) == 0  # not yet
    world.newsroom.clock.set(first.next_check_at)
    assert world.run(maintain_subscriptions) == 1
    assert world.subscription().state == "active"  # type: ignore[union-attr]  # still, while renewing
    assert world.hub is not None and world.hub.verify_pending() == 1
    renewed = world.subscription()
    assert renewed is not None and renewed.callback_token == first.callback_token
    assert renewed.lease_expires_at == first.next_check_at + timedelta(days=10) > first.lease_expires_at


def test_a_removed_feed_is_unsubscribed(world: World) -> None:
    world.subscribe()
    assert world.hub is not None and world.hub.subscribers()
    with world.sessions.begin() as session:
        remove_feed(session, session.scalars(select(Feed)).one().id, world.newsroom.clock.now())
    left = world.subscription()
    assert left is not None and left.mode == "unsubscribe" and left.feed_id is None
    assert world.run(maintain_subscriptions) == 1
    assert world.hub.verify_pending() == 1 and world.hub.verifications[-1][0] == "unsubscribe"
    assert world.subscription() is None and world.hub.subscribers() == []


def test_without_a_public_base_url_the_hub_is_recorded_and_not_asked(tmp_path: Path, site: Site) -> None:
    with Newsroom(_script()) as newsroom:
        world = World(tmp_path, site, newsroom, websub=False)
        world.run(lambda ctx: run_pass(ctx))
        subscription = world.subscription()
        assert subscription is not None and subscription.state == "new" and subscription.requested_at is None
        assert newsroom.requests_for("/hub") == []


def test_a_hub_on_a_refused_address_is_not_contacted(world: World) -> None:
    world.run(lambda ctx: run_pass(ctx))  # polled and subscribed with loopback allowed
    with world.sessions.begin() as session:
        session.scalars(select(HubSubscription)).one().next_check_at = world.newsroom.clock.now()
    requests = len(world.newsroom.requests_for("/hub"))
    assert world.run(maintain_subscriptions, address_policy=AddressPolicy(())) == 1
    assert len(world.newsroom.requests_for("/hub")) == requests
    subscription = world.subscription()
    assert subscription is not None and subscription.error_streak == 1
    assert subscription.last_error is not None and "refus" in subscription.last_error.lower()


def test_the_distributed_scheduler_sends_hub_requests_as_it_sends_polls(tmp_path: Path, site: Site) -> None:
    with Newsroom(_script()) as newsroom:
        world = World(tmp_path, site, newsroom, websub=False)
        world.run(lambda ctx: run_pass(ctx))  # the poll records the hub; this crawler cannot subscribe
        database = f"sqlite:///{tmp_path / 'newsdelta.sqlite3'}"
        settings = Settings(db_url=database, broker_url="memory://", base_url=site.url)
        app = make_celery(settings, clock=newsroom.clock.now)
        options = SchedulerOptions(websub=True)
        stats = schedule_once(app, world.sessions, newsroom.clock.now, options, notify=False)
        assert stats.hub_requests == 1
        claimed = world.subscription()
        assert claimed is not None and claimed.lease_owner is not None
        # What a worker runs for the task the scheduler sent.
        assert app.tasks[HUB_TASK](claimed.id, claimed.lease_owner) is True
        assert newsroom.hub is not None and newsroom.hub.verify_pending() == 1
        assert world.subscription().state == "active"  # type: ignore[union-attr]


# --- end to end ----------------------------------------------------------------------------------------


def _capture_delay(world: World) -> tuple[float, list[tuple[datetime, str]]]:
    async def crawl(ctx: CrawlContext) -> None:
        await crawl_until(ctx, world.newsroom, START + timedelta(hours=9))

    world.run(crawl)
    with world.sessions() as session:
        checks = [
            (at, outcome)
            for at, outcome in session.execute(select(Check.at, Check.outcome).order_by(Check.at))
        ]
    captured = [at for at, outcome in checks if outcome == "new_version"]
    assert len(captured) == 2
    return (captured[1] - START).total_seconds() - EDIT_AT, checks


def test_an_edit_pushed_by_the_hub_is_captured_before_the_next_scheduled_check(
    tmp_path: Path, site: Site
) -> None:
    with Newsroom(_script()) as newsroom:
        pushed_delay, pushed = _capture_delay(World(tmp_path / "push", site, newsroom))
        assert newsroom.hub is not None
        deliveries = newsroom.hub.deliveries
        # One delivery, the edit's (the article was published before the subscription).
        assert [d.status for d in deliveries] == [202]
    with Newsroom(_script()) as newsroom:
        polled_delay, polled = _capture_delay(World(tmp_path / "poll", site, newsroom, websub=False))
    assert pushed_delay == 0.0  # captured the moment the hub delivered
    next_scheduled = min(at for at, _ in polled if (at - START).total_seconds() > EDIT_AT)
    assert polled_delay > 0 and (next_scheduled - START).total_seconds() - EDIT_AT == polled_delay
    # The push costs the one check that captures the edit; the schedule is otherwise the same.
    assert len(pushed) <= len(polled) + 1

"""The simulated newsroom's day with real receivers: one message per matching version, none for the rest,
one digest per hour with changes. Delivery runs inside the crawl's own passes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from crawl_support import fast_fetcher, sqlite_store
from notify_support import MailBox, WebhookReceiver, serve_smtp, serve_webhook
from sqlalchemy import func, select

from newsdelta.crawl import CrawlContext, loop
from newsdelta.notify import add_subscription, deliver
from newsdelta.notify.dispatch import period_of
from newsdelta.store.models import Version
from newsdelta.testing.drive import crawl_until, register_newsroom
from newsdelta.testing.newsroom import Newsroom


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    sessions = sqlite_store(tmp_path_factory.mktemp("notify-day"))
    hooks = {name: WebhookReceiver() for name in ("every", "elsewhere", "hourly")}
    servers = {name: serve_webhook(hook) for name, hook in hooks.items()}
    urls = {name: next(server) for name, server in servers.items()}
    box = MailBox()
    smtp = serve_smtp(box)
    mail_url = next(smtp)
    with Newsroom() as newsroom:
        register_newsroom(sessions, newsroom, period=600)
        now = newsroom.clock.now()
        with sessions.begin() as session:
            rules: dict[str, dict[str, Any]] = {
                "every": {},
                "elsewhere": {"sources": ["elsewhere"]},
                "hourly": {"digest": "hourly"},
            }
            ids = {}
            for name, rule in rules.items():
                subscription = add_subscription(session, urls[name], now, **rule)
                hooks[name].secret = subscription.secret
                ids[name] = subscription.id
            ids["mail"] = add_subscription(session, mail_url, now, kinds=["headline"]).id
        until = newsroom.script.start + timedelta(hours=24)

        async def crawl() -> None:
            async with fast_fetcher() as fetcher:
                ctx = CrawlContext(sessions=sessions, fetcher=fetcher, clock=newsroom.clock.now)
                await crawl_until(ctx, newsroom, until)
            # The last hour's digest goes out once that hour is over.
            await deliver(sessions, until + timedelta(hours=2))

        asyncio.run(crawl())
        with sessions() as session:
            versions = session.scalars(select(Version).order_by(Version.article_id, Version.number)).all()
            stored = [(v.article_id, v.number, v.origin, v.title, v.fetched_at) for v in versions]
        yield {"hooks": hooks, "box": box, "ids": ids, "stored": stored}
    smtp.close()
    for server in servers.values():
        server.close()


def _changes(day: dict[str, Any]) -> list[tuple[int, int, str, str, Any, str]]:
    """Every stored edit or removal by the outlet, with the previous version's title."""
    titles = {(article, number): title for article, number, _, title, _ in day["stored"]}
    return [
        (article, number, origin, title, at, titles[(article, number - 1)])
        for article, number, origin, title, at in day["stored"]
        if number > 0 and origin != "reparse"
    ]


def _ids(subscription: int, changes: list[tuple[Any, ...]]) -> set[str]:
    return {f"newsdelta:{subscription}:{article}:{number}" for article, number, *_ in changes}


def test_every_change_is_one_signed_message(day: dict[str, Any]) -> None:
    changes = _changes(day)
    assert len(changes) > 10 and any(change[2] == "removed" for change in changes)
    hook = day["hooks"]["every"]
    assert hook.forged == 0
    assert set(hook.ids) == _ids(day["ids"]["every"], changes)
    assert sum(hook.ids.values()) == len(changes)


def test_headline_changes_reach_email_and_nothing_else_does(day: dict[str, Any]) -> None:
    headlines = [c for c in _changes(day) if c[2] == "fetch" and c[3] != c[5]]
    assert 0 < len(headlines) < len(_changes(day))
    assert day["box"].ids == dict.fromkeys(_ids(day["ids"]["mail"], headlines), 1)


def test_a_subscription_no_change_matches_gets_nothing(day: dict[str, Any]) -> None:
    assert day["hooks"]["elsewhere"].requests == 0


def test_a_digest_is_one_message_per_hour_with_changes(day: dict[str, Any]) -> None:
    changes = _changes(day)
    hours = {period_of(at, "hourly")[0].isoformat() for *_, at, _ in changes}
    digests = day["hooks"]["hourly"].messages
    assert sorted(message.body["period"]["start"] for message in digests) == sorted(hours)
    listed = [change["id"] for message in digests for change in message.body["changes"]]
    assert sorted(listed) == sorted(_ids(day["ids"]["hourly"], changes))
    assert all(
        message.id == f"newsdelta:{day['ids']['hourly']}:digest:{message.body['period']['start']}"
        for message in digests
    )


class Crash(BaseException):
    """A kill: not an Exception, so the crawl's guard around delivery does not catch it."""


def test_a_crawler_killed_between_storing_and_delivering_still_delivers_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = sqlite_store(tmp_path)
    hook = WebhookReceiver()
    server = serve_webhook(hook)
    url = next(server)

    def changes_stored() -> int:
        with sessions() as session:
            return session.scalar(select(func.count()).where(Version.number > 0)) or 0

    async def killed_once_changes_exist(*args: object, **kwargs: object) -> None:
        if changes_stored():
            raise Crash
        return await real_deliver(*args, **kwargs)

    real_deliver = loop.deliver
    try:
        with Newsroom() as newsroom:
            register_newsroom(sessions, newsroom, period=600)
            with sessions.begin() as session:
                hook.secret = add_subscription(session, url, newsroom.clock.now()).secret
            until = newsroom.script.start + timedelta(hours=4)

            async def crawl() -> None:
                async with fast_fetcher() as fetcher:
                    ctx = CrawlContext(sessions=sessions, fetcher=fetcher, clock=newsroom.clock.now)
                    await crawl_until(ctx, newsroom, until)

            monkeypatch.setattr(loop, "deliver", killed_once_changes_exist)
            with pytest.raises(Crash):
                asyncio.run(crawl())
            stored_before_restart = changes_stored()
            assert stored_before_restart and hook.requests == 0
            monkeypatch.setattr(loop, "deliver", real_deliver)
            asyncio.run(crawl())  # the restart
    finally:
        server.close()
    with sessions() as session:
        expected = {
            f"newsdelta:1:{article}:{number}"
            for article, number in session.execute(
                select(Version.article_id, Version.number).where(Version.number > 0)
            )
        }
    assert len(expected) > stored_before_restart
    assert hook.ids == dict.fromkeys(expected, 1)

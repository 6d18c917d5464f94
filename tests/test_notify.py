"""Notifications on fixture data: rules, at-least-once delivery across crashes, backoff, cards and commands."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from notify_support import MailBox, WebhookReceiver, serve_smtp, serve_webhook
from PIL import Image
from sqlalchemy.orm import Session, sessionmaker
from web_support import TOKEN, Demo, admin_login, demo  # noqa: F401

from newsdelta.cli import cli
from newsdelta.config import Settings
from newsdelta.distributed.celery_app import make_celery
from newsdelta.distributed.scheduler import SchedulerOptions, schedule_once
from newsdelta.distributed.tasks import NOTIFY_TASK
from newsdelta.notify import add_subscription, deliver, delivery_report
from newsdelta.notify import dispatch as dispatch_module
from newsdelta.notify.message import render_body, sample_message
from newsdelta.store.db import open_database
from newsdelta.store.models import Article, Source
from newsdelta.web.fixtures import add_version, new_article

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> sessionmaker[Session]:
    return open_database(f"sqlite:///{tmp_path / 'notify.sqlite3'}")


@pytest.fixture
def receiver() -> Iterator[tuple[WebhookReceiver, str]]:
    hook = WebhookReceiver()
    serving = serve_webhook(hook)
    url = next(serving)
    yield hook, url
    serving.close()


def _article(sessions: sessionmaker[Session], slug: str = "story") -> int:
    with sessions.begin() as session:
        source = session.query(Source).filter_by(name="outlet").one_or_none() or Source(
            name="outlet", created_at=T0
        )
        article = new_article(source, f"https://outlet.example/news/{slug}", T0)
        session.add(article)
        add_version(
            session, article, "Minister resigns", ["The minister resigned on Monday.", "More follows."], T0
        )
        session.flush()
        return article.id


def _edit(
    sessions: sessionmaker[Session], article_id: int, title: str, paragraphs: list[str], at: datetime
) -> None:
    with sessions.begin() as session:
        add_version(session, session.get(Article, article_id), title, paragraphs, at)


def _subscribe(sessions: sessionmaker[Session], hook: WebhookReceiver, url: str, **rules: object) -> int:
    with sessions.begin() as session:
        subscription = add_subscription(session, url, T0, **rules)  # type: ignore[arg-type]
        hook.secret = subscription.secret
        return subscription.id


def test_rules_pick_kinds_sources_terms_and_sizes(
    store: sessionmaker[Session], receiver: tuple[WebhookReceiver, str]
) -> None:
    hook, url = receiver
    article = _article(store)
    _subscribe(store, hook, url, kinds=["headline"], sources=["outlet"], term="minister")
    _edit(store, article, "Minister resigns", ["The minister resigned on Tuesday.", "More follows."], T0)
    _edit(store, article, "Minister quits", ["The minister resigned on Tuesday.", "More follows."], T0)
    _edit(store, article, "Minister quits", ["The minister resigned on Tuesday."], T0)
    asyncio.run(deliver(store, T0))
    assert [m.body["version"]["new"] for m in hook.messages] == [2]
    message = hook.messages[0].body
    assert message["headline"] == {"old": "Minister resigns", "new": "Minister quits"}
    assert message["kinds"] == ["any", "headline"]
    assert message["permalink"].endswith(f"/articles/{article}/diff/1/2")
    assert message["card"].endswith(f"/articles/{article}/diff/1/2.png")
    assert hook.forged == 0


def test_min_change_and_paragraph_removals(
    store: sessionmaker[Session], receiver: tuple[WebhookReceiver, str]
) -> None:
    hook, url = receiver
    article = _article(store)
    _subscribe(store, hook, url, kinds=["paragraphs_removed"], min_change=2)
    _edit(store, article, "Minister resigns", ["The minister resigned on Monday."], T0)  # 2 words removed
    monday = "The minister resigned on Monday."
    _edit(store, article, "Minister resigns", [monday, "Yes.", "Later."], T0)  # nothing removed
    _edit(store, article, "Minister resigns", [monday, "Later."], T0)  # 1 word removed
    asyncio.run(deliver(store, T0))
    assert [m.body["version"]["new"] for m in hook.messages] == [1]
    assert hook.messages[0].body["excerpt"] == [[{"op": "delete", "text": "More follows."}]]


class Crash(BaseException):
    """A kill: not an Exception, so nothing on the way catches it."""


def test_a_crash_between_sending_and_recording_repeats_the_same_id_once(
    store: sessionmaker[Session], receiver: tuple[WebhookReceiver, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    hook, url = receiver
    article = _article(store)
    _subscribe(store, hook, url)
    # Stored, then killed before any delivery: the versions wait past the cursor.
    _edit(store, article, "Minister quits", ["The minister resigned on Monday."], T0)
    _edit(store, article, "Minister quits", ["The minister resigned on Monday.", "Update."], T0)
    real = dispatch_module._delivered
    calls = iter([Crash, None, None])

    def killed_after_sending(*args: object) -> None:
        if next(calls) is Crash:
            raise Crash
        real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(dispatch_module, "_delivered", killed_after_sending)
    with pytest.raises(Crash):
        asyncio.run(deliver(store, T0))
    assert list(hook.ids.values()) == [1]  # received, but the crash came before it was recorded
    with store.begin() as session:  # the crashed process's lease: a restart waits for it to expire
        session.execute(dispatch_module.update(dispatch_module.Subscription).values(lease_until=None))
    asyncio.run(deliver(store, T0 + timedelta(seconds=1)))
    asyncio.run(deliver(store, T0 + timedelta(seconds=2)))
    first = f"newsdelta:1:{article}:1"
    assert hook.ids == {first: 2, f"newsdelta:1:{article}:2": 1}
    repeats = [m.body for m in hook.messages if m.id == first]
    assert repeats[0]["headline"] == repeats[1]["headline"]


def test_a_failing_receiver_gets_the_message_after_backoff(
    store: sessionmaker[Session], receiver: tuple[WebhookReceiver, str]
) -> None:
    hook, url = receiver
    hook.fail_first = 3
    article = _article(store)
    subscription = _subscribe(store, hook, url)
    _edit(store, article, "Minister quits", ["The minister resigned on Monday."], T0)
    attempts = []
    for seconds in (0, 10, 30, 60, 90, 200, 210, 400):
        asyncio.run(deliver(store, T0 + timedelta(seconds=seconds)))
        attempts.append(hook.requests)
        if seconds == 90:
            with store() as session:
                (report,) = delivery_report(session)
            assert report["failure_streak"] == 3 and "HTTP 500" in report["last_error"]
    # Retries 30 s, 60 s and 120 s after each failure; nothing in between, nothing after success.
    assert attempts == [1, 1, 2, 2, 3, 3, 4, 4]
    assert list(hook.ids.values()) == [1]
    with store() as session:
        (report,) = delivery_report(session)
    assert (report["id"], report["failure_streak"], report["pending"]) == (subscription, 0, 0)


def test_health_shows_a_subscription_s_failures(demo: Demo) -> None:  # noqa: F811
    with demo.sessions.begin() as session:
        subscription = add_subscription(session, "http://127.0.0.1:9/hook", T0)
        subscription.failure_streak, subscription.last_error = 2, "the webhook answered HTTP 500"
    page = demo.client.get("/health").text
    assert "the webhook answered HTTP 500" in page and "<td>2</td>" in page
    (row,) = demo.client.get("/api/health").json()["notifications"]
    assert (row["failure_streak"], row["channel"]) == (2, "http://127.0.0.1…")


def test_removal_reaches_email_through_apprise(store: sessionmaker[Session]) -> None:
    box = MailBox()
    serving = serve_smtp(box)
    url = next(serving)
    try:
        article = _article(store)
        with store.begin() as session:
            add_subscription(session, url, T0, kinds=["removed"])
        _edit(store, article, "Minister quits", ["The minister resigned on Monday."], T0)
        with store.begin() as session:
            add_version(session, session.get(Article, article), "Minister quits", [], T0, origin="removed")
        stats = asyncio.run(deliver(store, T0))
    finally:
        serving.close()
    assert stats.sent == 1
    assert box.ids == {f"newsdelta:1:{article}:2": 1}
    (mail,) = box.mails
    assert "outlet: Minister quits" in mail["subject"]
    assert "The page was removed" in box.text(mail)
    assert any(part.get_content_type() == "image/png" for part in mail.walk())


def test_share_card_is_a_cached_png_and_the_diff_page_s_og_image(demo: Demo) -> None:  # noqa: F811
    path = f"/articles/{demo.ids.guardian}/diff/3/4.png"
    response = demo.client.get(path)
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (1200, 675)
    colours = {colour for _, colour in image.getcolors(1 << 20)}
    assert any(r > 150 and g < 80 for r, g, _ in colours) and any(g > 90 and r < 60 for r, g, _ in colours)
    assert demo.client.get(path).content == response.content
    page = demo.client.get(f"/articles/{demo.ids.guardian}/diff/3/4").text
    assert f'<meta property="og:image" content="http://testserver{path}">' in page
    assert demo.client.get(f"/articles/{demo.ids.hidden}/diff/0/1.png").status_code == 410
    assert demo.client.get(f"/articles/{demo.ids.guardian}/diff/3/99.png").status_code == 404


def test_webhook_body_is_in_the_openapi_schema(demo: Demo) -> None:  # noqa: F811
    schema = demo.client.get("/api/openapi.json").json()
    assert set(schema["webhooks"]) == {"change", "digest"}
    assert "X-Newsdelta-Signature" in schema["components"]["schemas"]["ChangeEvent"]["description"]


def test_admin_api_manages_subscriptions(demo: Demo) -> None:  # noqa: F811
    auth = {"authorization": f"Bearer {TOKEN}"}
    body = {"url": "https://hooks.example/x", "kinds": ["headline"], "digest": "daily"}
    assert demo.client.post("/api/admin/subscriptions", json=body).status_code == 403
    created = demo.client.post("/api/admin/subscriptions", json=body, headers=auth).json()
    assert len(created["secret"]) == 64
    listed = demo.client.get("/api/admin/subscriptions", headers=auth).json()
    assert [(row["id"], row["kinds"], row["digest"]) for row in listed] == [
        (created["id"], ["headline"], "daily")
    ]
    bad = demo.client.post("/api/admin/subscriptions", json={"url": "nonsense"}, headers=auth)
    assert bad.status_code == 422
    assert demo.client.delete(f"/api/admin/subscriptions/{created['id']}", headers=auth).status_code == 200
    assert demo.client.get("/api/admin/subscriptions", headers=auth).json() == []


def test_commands_add_list_test_send_and_remove(
    tmp_path: Path, receiver: tuple[WebhookReceiver, str]
) -> None:
    hook, url = receiver
    runner = CliRunner()
    base = ["--data-dir", str(tmp_path)]
    added = runner.invoke(cli, [*base, "notify", "add", url, "--kind", "headline", "--json"])
    assert added.exit_code == 0, added.output
    hook.secret = __import__("json").loads(added.output)["secret"]
    listed = runner.invoke(cli, [*base, "notify", "list", "--json"])
    assert '"kinds": ["headline"]' in listed.output and hook.secret not in listed.output
    assert runner.invoke(cli, [*base, "notify", "add", url, "--kind", "weather"]).exit_code == 2
    tested = runner.invoke(cli, ["notify", "test", url, "--secret", hook.secret])
    assert tested.exit_code == 0, tested.output
    assert hook.messages[-1].body["headline"]["new"].startswith("Test message")
    sent = runner.invoke(cli, [*base, "notify", "send", "--json"])
    assert sent.exit_code == 0 and '"sent": 0' in sent.output
    status = runner.invoke(cli, [*base, "status", "--json"])
    assert '"notifications": [{"id": 1' in status.output
    assert runner.invoke(cli, [*base, "notify", "remove", "1"]).exit_code == 0
    assert runner.invoke(cli, [*base, "notify", "remove", "1"]).exit_code == 1


def test_celery_delivers_in_its_task_when_the_scheduler_asks(
    store: sessionmaker[Session],
    receiver: tuple[WebhookReceiver, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hook, url = receiver
    article = _article(store)
    _subscribe(store, hook, url)
    _edit(store, article, "Minister quits", ["The minister resigned on Monday."], T0)
    settings = Settings(db_url=f"sqlite:///{tmp_path / 'notify.sqlite3'}", broker_url="memory://")
    app = make_celery(settings, clock=lambda: T0)
    requested: list[str] = []
    monkeypatch.setattr(app, "send_task", lambda name, *args, **kwargs: requested.append(name))
    assert schedule_once(app, store, lambda: T0, SchedulerOptions()).notify
    assert requested == [NOTIFY_TASK]
    assert app.tasks[NOTIFY_TASK].apply().get() == {"queued": 1, "sent": 1, "failed": 0}
    assert hook.ids == {f"newsdelta:1:{article}:1": 1}
    assert not schedule_once(app, store, lambda: T0, SchedulerOptions()).notify  # nothing owed any more
    assert requested == [NOTIFY_TASK]


def test_each_channel_gets_deletions_and_insertions_in_its_own_markup() -> None:
    message = sample_message(T0)
    assert "of ~~nothing~~ **every change it subscribes to**." in render_body(message, "markdown")
    html = render_body(message, "html")
    assert '<del style="color:#b3261e">nothing</del> <ins style="color:#1b7a34">every change' in html
    assert "of [-nothing-] {+every change it subscribes to+}." in render_body(message, "text")
    assert "Test message from newsdelta → Test message from newsdelta: it works" in render_body(
        message, "text"
    )
    assert render_body(message, "text").endswith(f"id: {message.id}")


def test_admin_pages_subscribe_and_unsubscribe(demo: Demo) -> None:  # noqa: F811
    form = {"url": "https://hooks.example/desk", "kinds": ["headline", "removed"], "sources": "bbc, guardian"}
    assert demo.client.post("/admin/notifications", data={**form, "token": TOKEN}).status_code == 403
    csrf = admin_login(demo.client)
    assert demo.client.post("/admin/notifications", data={**form, "csrf": "0" * 64}).status_code == 403
    page = demo.client.post("/admin/notifications", data={**form, **csrf})
    assert page.status_code == 200 and "signing secret" in page.text
    with demo.sessions() as session:
        (row,) = delivery_report(session)
    assert (row["kinds"], row["sources"], row["channel"]) == (
        ["headline", "removed"],
        ["bbc", "guardian"],
        "https://hooks.example…",
    )
    assert "headline, removed; bbc, guardian" in demo.client.get("/admin/notifications").text
    gone = demo.client.post(f"/admin/notifications/{row['id']}/delete", data=csrf)
    assert gone.status_code == 200 and "No subscriptions yet" in gone.text

"""Each extension point takes one new module plus one registration line: a toy one of each is registered here
the way a plugin would, and used end to end without touching anything else."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from web_support import Demo, demo

from newsdelta.extract import registry
from newsdelta.extract.declarative import DeclarativeParser, PageFormat
from newsdelta.extract.registry import extract, parser_for, register_outlet_parser
from newsdelta.notify import add_subscription, deliver
from newsdelta.notify import channels as notify_channels
from newsdelta.notify.channels import Outgoing, register_channel
from newsdelta.store.db import open_database
from newsdelta.store.models import Article, Source
from newsdelta.web import views
from newsdelta.web.fixtures import add_version, new_article
from newsdelta.web.views import DiffView, register_view

TOY_PAGE = """<html><head><title>Toy</title></head><body><main class="toy-story">
<h1 class="toy-headline">Toy headline</h1>
<p>First paragraph of the toy story.</p><p>Second paragraph of the toy story.</p>
</main></body></html>"""


class ToyOutlet(DeclarativeParser):
    name = "toy"
    version = 1
    hosts = ("toy.example",)
    article_path = re.compile(r"^/news/\d+$")
    formats = (
        PageFormat(
            name="2026", detect="main.toy-story", paragraphs="main.toy-story > p", title=("h1.toy-headline",)
        ),
    )


__all__ = ["demo"]  # the fixture, imported for pytest


@pytest.fixture
def clean_registries() -> Iterator[None]:
    """Registries are module state (as a plugin's registration is): each test's toy is taken out again."""
    parsers, diff_views = list(registry.REGISTERED_PARSERS), dict(views.DIFF_VIEWS)
    channels = dict(notify_channels.CHANNELS)
    yield
    registry.REGISTERED_PARSERS[:] = parsers
    views.DIFF_VIEWS.clear()
    views.DIFF_VIEWS.update(diff_views)
    notify_channels.CHANNELS.clear()
    notify_channels.CHANNELS.update(channels)


def test_a_registered_outlet_parser_reads_its_hosts_pages(clean_registries: None) -> None:
    toy = register_outlet_parser(ToyOutlet())

    assert parser_for("https://www.toy.example/news/1") is toy
    page = extract(TOY_PAGE, "https://www.toy.example/news/1")
    assert (page.parser, page.title) == ("toy", "Toy headline")
    assert page.paragraphs == ("First paragraph of the toy story.", "Second paragraph of the toy story.")
    assert registry.is_article_url("https://toy.example/sport") is False
    assert parser_for("https://elsewhere.example/news/1") is None


def test_a_registered_diff_view_is_offered_and_rendered(demo: Demo, clean_registries: None) -> None:
    register_view(
        DiffView("count", "Counts", "views/count.html"),
        source='<p class="toy-view">{{ rows | selectattr("kind", "ne", "equal") | list | length }} changed rows</p>',
    )

    html = demo.client.get(f"/articles/{demo.ids.guardian}/diff/3/4?view=count").text
    assert re.search(r'<p class="toy-view">\d+ changed rows</p>', html)
    assert '<strong aria-current="page">Counts</strong>' in html
    side = demo.client.get(f"/articles/{demo.ids.guardian}/diff/3/4").text
    assert 'href="?view=count&changes=all">Counts</a>' in side
    assert demo.client.get(f"/articles/{demo.ids.guardian}/diff/3/4?view=nosuch").status_code == 422


class Inbox:
    """A toy notification channel for `inbox://` URLs: keeps what it is sent."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, Outgoing]] = []

    def check(self, url: str) -> None:
        return None

    async def send(self, url: str, secret: str, message: Outgoing, http: httpx.AsyncClient) -> None:
        self.messages.append((url, message))


def test_a_registered_notification_channel_gets_each_matching_change(
    tmp_path: Path, clean_registries: None
) -> None:
    inbox = register_channel(("inbox",), Inbox())
    assert isinstance(inbox, Inbox)
    sessions = open_database(f"sqlite:///{tmp_path / 'toy.sqlite3'}")
    start = datetime(2026, 11, 30, 9, tzinfo=UTC)
    with sessions.begin() as session:
        article = new_article(Source(name="outlet", created_at=start), "https://outlet.example/news/1", start)
        session.add(article)
        add_version(session, article, "Minister resigns", ["The minister resigned on Monday."], start)
        add_subscription(session, "inbox://desk", start)
    later = start + timedelta(hours=1)
    with sessions.begin() as session:
        edited = session.get(Article, article.id)
        assert edited is not None
        add_version(session, edited, "Minister quits", ["The minister quit on Monday."], later)

    stats = asyncio.run(deliver(sessions, later))

    assert stats.sent == 1
    [(url, message)] = inbox.messages
    assert url == "inbox://desk"
    assert "Minister quits" in message.title and "quit" in message.render("text")
    assert message.payload["article"]["id"] == article.id

"""`newsdelta demo`: the simulated newsroom's scripted day, crawled fast-forward while the web site serves it."""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

import uvicorn
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from newsdelta.config import Settings
from newsdelta.crawl import PassStats
from newsdelta.fetch.addresses import parse_networks
from newsdelta.runtime import make_context, make_fetcher, open_store
from newsdelta.store import queries
from newsdelta.testing.drive import crawl_until, register_newsroom
from newsdelta.testing.newsroom import Newsroom
from newsdelta.vocabulary import Origin
from newsdelta.web.app import create_app

# The simulated newsroom serves on loopback, which the crawler only fetches from when allowed to.
NEWSROOM_NETWORKS = parse_networks("127.0.0.0/8,::1/128")


def start_site(
    settings: Settings, sessions: sessionmaker[Session], port: int, clock: Callable[[], datetime]
) -> uvicorn.Server:
    """Serve the site from a background thread so the crawl can run in the foreground.

    The site shares the newsroom's clock, so "N minutes ago" and the health check speak scripted time.
    """
    app = create_app(settings, sessions, clock=clock)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, name="newsdelta-web", daemon=True).start()
    return server


def _print_new_versions(console: Console, sessions: sessionmaker[Session], since: datetime) -> None:
    with sessions() as session:
        rows = queries.versions_fetched_since(session, since)
    for fetched_at, number, origin, title, article_id in rows:
        label = f"version {number}" if origin == Origin.FETCH else origin
        console.print(f"{fetched_at:%H:%M} article {article_id:>3} {label:<10} {title}", markup=False)


def _summary(console: Console, sessions: sessionmaker[Session], site: str) -> None:
    table = Table("id", "versions", "state", "page")
    with sessions() as session:
        for article in queries.tracked_articles(session):
            table.add_row(
                str(article.id), str(article.version_count), article.state, f"{site}/articles/{article.id}"
            )
    console.print(table)


async def run_demo(
    settings: Settings, console: Console, *, port: int, hours: float, pace: float, keep_serving: bool
) -> None:
    demo_dir = settings.data_dir / "demo"
    shutil.rmtree(demo_dir, ignore_errors=True)  # each demo starts from an empty newsroom and database
    settings = replace(
        settings,
        data_dir=demo_dir,
        db_url=None,
        per_host_delay=0.0,
        allowed_networks=settings.allowed_networks + NEWSROOM_NETWORKS,
    )
    sessions = open_store(settings)
    site = f"http://127.0.0.1:{port}"
    newsroom = Newsroom()
    server = start_site(settings, sessions, port, newsroom.clock.now)
    with newsroom:
        register_newsroom(sessions, newsroom)
        console.print(
            f"newsroom at {newsroom.base_url}, scripted day from {newsroom.clock.now():%Y-%m-%d %H:%M} UTC"
        )
        console.print(f"web site at [bold]{site}[/] (the database is {settings.database_url})")
        last = newsroom.clock.now()

        def report(_: PassStats) -> None:
            nonlocal last
            _print_new_versions(console, sessions, last)
            last = newsroom.clock.now() + timedelta(microseconds=1)

        async with make_fetcher(settings, backoff_base=0.05) as fetcher:
            ctx = make_context(settings, sessions, fetcher, clock=newsroom.clock.now)
            total = await crawl_until(
                ctx, newsroom, newsroom.clock.now() + timedelta(hours=hours), on_pass=report, pace=pace
            )
    console.print(f"checks by outcome: {total.outcome_counts()}")
    _summary(console, sessions, site)
    if keep_serving:
        console.print(f"serving {site} until Ctrl-C")
        while not server.should_exit:
            await asyncio.sleep(0.5)
    server.should_exit = True

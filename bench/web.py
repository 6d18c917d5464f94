"""Web response times on a 10,000-word live blog with 50 versions, on SQLite (target: median < 50 ms), and the
bytes each page takes on the wire with gzip.

Served by uvicorn on 127.0.0.1 and requested over HTTP with keep-alive, so the figures include routing,
queries, the diff and template rendering. Each page's first view in a fresh process is printed (nothing
diffed or cached yet; lists read what changed from the comparisons stored with the versions), then its median
over `--rounds`, then diff pages cold (every request a pair not yet diffed, so the diff engine runs). The peer in the same run is the
standard library's side-by-side view, difflib.HtmlDiff, rendering the same pair of versions.
Share cards (the PNG of a change) are timed on the seed-guardian article (../shared/corpus): cold over every
pair of its versions, warm on v3 → v4, and the drawing alone; `--card PATH` also writes the v3 → v4 card.

    .venv/bin/python bench/web.py [--words 10000] [--versions 50] [--rounds 30] [--card docs/seed-card.png]
"""

from __future__ import annotations

import argparse
import difflib
import os
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from newsdelta.changes.store import backfill
from newsdelta.config import Settings
from newsdelta.notify.card import render_card
from newsdelta.notify.message import ChangeMessage, pair_message
from newsdelta.store.db import open_database
from newsdelta.store.models import Article, Version
from newsdelta.store.queries import version_pair
from newsdelta.web.app import create_app
from newsdelta.web.diffing import DiffCache
from newsdelta.web.fixtures import seed_demo, seed_live_blog

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"


def measure(name: str, calls: list[Callable[[], object]]) -> None:
    """Wall-clock median and p90 per call, and CPU per call of this whole process (server and client).

    The CPU figure barely moves when other processes load the machine; the wall-clock one does.
    """
    samples = []
    cpu_start = time.process_time()
    for call in calls:
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    cpu = (time.process_time() - cpu_start) * 1000 / len(calls)
    ordered = sorted(samples)
    p90 = ordered[max(int(len(ordered) * 0.9) - 1, 0)]
    print(
        f"{name:<44} median {statistics.median(ordered):7.1f} ms   p90 {p90:7.1f} ms   "
        f"CPU {cpu:6.1f} ms   n={len(ordered)}"
    )


def get(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    response.raise_for_status()


def sizes(client: httpx.Client, paths: dict[str, str]) -> None:
    """Bytes of each page as rendered and as sent gzipped (httpx asks for gzip and counts the wire bytes)."""
    for name, path in paths.items():
        response = client.get(path, headers={"accept-encoding": "gzip"})
        response.raise_for_status()
        sent = response.num_bytes_downloaded
        print(
            f"{name:<44} {len(response.content) / 1024:8.1f} KB   sent {sent / 1024:6.1f} KB "
            f"({response.headers.get('content-encoding', 'identity')})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=10_000)
    parser.add_argument("--versions", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--card", type=Path, help="Write the seed-guardian v3 → v4 share card here.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="newsdelta-bench-web-") as folder:
        run(Path(folder), args)


def run(folder: Path, args: argparse.Namespace) -> None:

    sessions = open_database(f"sqlite:///{folder / 'bench.sqlite3'}")
    article = seed_live_blog(sessions, words=args.words, versions=args.versions)
    started = time.perf_counter()
    backfill(sessions)  # each version's comparison, as the crawler stores it with the version
    compared = (time.perf_counter() - started) * 1000 / args.versions
    with sessions() as session:
        versions = session.scalars(
            select(Version).where(Version.article_id == article).order_by(Version.number)
        ).all()
        last = versions[-1]
    print(
        f"live blog: {args.versions} versions, {len(last.text.split()):,} words and "
        f"{len(last.paragraphs)} paragraphs in the last one; SQLite at {folder}; "
        f"comparisons stored with the versions: {compared:.0f} ms each"
    )

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(Settings(), sessions)
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)

    newest = args.versions - 1
    diff_path = f"/articles/{article}/diff/{newest - 1}/{newest}"
    pages = {
        "home page": "/",
        "article page (50-row version table)": f"/articles/{article}",
        "diff page (opens on changes only)": diff_path,
        "diff page, inline + changes only": diff_path + "?view=inline&changes=only",
        "diff page, whole text": diff_path + "?changes=all",
        "version page (with cite panel)": f"/articles/{article}/versions/{newest}",
        "article RSS feed (30 items)": f"/articles/{article}/feed.rss",
        "search page": "/search?q=w17+w42",
        "source's article index": "/sources/liveblog/articles",
        "sources page": "/sources",
    }
    rounds = range(args.rounds)
    print(
        f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs (wall-clock figures suffer from it)"
    )
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:

        def page(path: str) -> Callable[[], None]:
            return lambda: get(client, path)

        page("/static/style.css")()  # the connection, out of the figures
        # First views: a fresh process, nothing diffed or rendered yet (each page's very first request).
        for name, path in pages.items():
            measure(f"{name}, first view", [page(path)])
        for name, path in pages.items():
            measure(name, [page(path) for _ in rounds])
        cold = [page(f"/articles/{article}/diff/{n - 1}/{n}") for n in range(1, args.versions)]
        measure("diff page, cold (each pair diffed once)", cold)
        sizes(client, pages)
        guardian = seed_demo(
            sessions, CORPUS
        ).guardian  # after the pages above, so their figures stay comparable
        pairs = [(old, new) for new in range(6) for old in range(new)]
        cards = [page(f"/articles/{guardian}/diff/{old}/{new}.png") for old, new in pairs]
        measure("share card, cold (drawn), seed-guardian pairs", cards)
        card_path = f"/articles/{guardian}/diff/3/4.png"
        measure("share card, warm (cached), seed-guardian v3 → v4", [page(card_path) for _ in rounds])
        if args.card:
            args.card.write_bytes(client.get(card_path).content)
            print(f"wrote {args.card}")
    server.should_exit = True
    sessions.kw["bind"].dispose()

    message = seed_card_message(sessions, guardian)
    measure("share card drawing alone (render_card), v3 → v4", [lambda: render_card(message) for _ in rounds])

    old, new = versions[-2].paragraphs, versions[-1].paragraphs
    peer = [lambda: difflib.HtmlDiff(wrapcolumn=70).make_table(old, new) for _ in range(5)]
    measure("peer: difflib.HtmlDiff.make_table, same pair", peer)


def seed_card_message(sessions: sessionmaker[Session], article_id: int) -> ChangeMessage:
    """The message the card route draws for seed-guardian v3 → v4."""
    with sessions() as session:
        old, new = version_pair(session, article_id, 3, 4)
        return pair_message(session.get(Article, article_id), old, new, DiffCache().diff(old, new))


if __name__ == "__main__":
    main()

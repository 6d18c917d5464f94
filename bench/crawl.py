"""Crawl cost per article check, newsdelta against the peer diffengine 0.2.7, on one local newsroom.

    .venv/bin/python bench/crawl.py [--articles 10000] [--peer-items 1000] [--peer-budget 60]

The newsroom (`python -m newsdelta.testing.newsroom`, N synthetic articles: 30% answer 304 to a conditional
GET, 2% are edited during the scripted day, the rest serve the same page every time) runs in its own process
pinned to the second core, so its work is not counted; the crawler is pinned to the first core. CPU figures
are the crawler process's own CPU time; "1-core ceiling" is 1 / CPU per check, what one free core would give.

newsdelta runs in this process: `poll_due_feeds` + `check_due_articles` for the first pass, then
`run_pass(ctx, force=True)` (what `newsdelta crawl --once --force` runs) for the re-checks, with a Fetcher at
per-host delay 0, per-host concurrency 16 and 32 checks in flight. It tracks the newsroom's /rss.xml and
/sitemap.xml (the sitemap lists all N articles). Pass 2 re-checks at the same newsroom time (nothing changed),
pass 3 after the newsroom clock moved a day on (the edited 2% changed). Stored bytes per check are the growth
of the SQLite file plus its WAL after a TRUNCATE checkpoint.

diffengine (PyPI 0.2.7, MIT) runs in its own venv through bench/peers/diffengine_pass.py (see there for what
is stubbed: Internet Archive, screenshots, Twitter, and the 1 s sleep per check) and reads the same
/rss.xml. Its feed poll costs one SQLite transaction per item (14-41 ms each on this disk), so the feed is
capped at the newest --peer-items items (0: all N) and each of its passes at --peer-budget seconds: its
checks are sequential, so a time-bounded sample gives its rate. Its venv is created if missing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx

from newsdelta.crawl import CrawlContext, PassStats, run_pass
from newsdelta.crawl.loop import check_due_articles, poll_due_feeds
from newsdelta.fetch import Fetcher
from newsdelta.fetch.client import default_user_agent
from newsdelta.store.db import open_database
from newsdelta.store.repository import add_feed

# The local newsroom serves on loopback, which newsdelta only fetches from when allowed to (SSRF guard).
os.environ.setdefault("NEWSDELTA_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128")

REPO = Path(__file__).resolve().parent.parent
PEER_VENV = REPO / ".bench-venvs" / "diffengine"
PEER_SCRIPT = REPO / "bench" / "peers" / "diffengine_pass.py"
# The versions this bench was run with. diffengine's own pin, htmldiff 0.2, is a GitHub tarball that is not
# on PyPI; the wrapper loads PyPI's 0.1 with its Python 3 fixes. pytest (a runtime pin of it) is not needed.
PEER_PACKAGES = (
    "bleach==6.4.0",
    "Genshi==0.7.12",
    "Jinja2==3.1.6",
    "peewee==4.5.3",
    "pillow==13.0.0",
    "PyYAML==6.0.4",
    "tweepy==4.17.0",
    "requests==2.34.2",
    "selenium==4.51.0",
    "feedparser==6.0.14",
    "readability-lxml==0.9",
    "lxml_html_clean==0.4.6",
    "htmldiff==0.1",
    "html5lib==1.1",
)
CRAWLER_CPU = 0
NEWSROOM_CPU = 1
DAY = 86_400
CONCURRENCY = 32
PER_HOST_CONCURRENCY = 16
UNCHANGED = ("unchanged", "not_modified")


@dataclass(slots=True)
class PassFigures:
    crawler: str
    name: str
    checks: int
    wall: float
    cpu: float
    stored: int
    outcomes: Counter[str] = field(default_factory=Counter)
    note: str = ""

    @property
    def rate(self) -> float:
        return self.checks / self.wall if self.wall else 0.0

    @property
    def cpu_per_check(self) -> float:
        return self.cpu / self.checks if self.checks else 0.0

    @property
    def stored_per_check(self) -> float:
        return self.stored / self.checks if self.checks else 0.0


def cpu_speed() -> float:
    """CPU ms for sum(range(10**6)) on this core, to scale the figures to another machine."""
    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        sum(range(10**6))
        best = min(best, time.process_time() - start)
    return best * 1000


def pin(cpu: int) -> str:
    if not hasattr(os, "sched_setaffinity") or cpu >= (os.cpu_count() or 1):
        return "not pinned (no such core or no sched_setaffinity)"
    os.sched_setaffinity(0, {cpu})
    return f"pinned to core {cpu}"


# --- the newsroom ---------------------------------------------------------------------------------------


@contextmanager
def newsroom_process(articles: int, feed_limit: int) -> Iterator[str]:
    """The newsroom in its own process on the other core; yields its base URL."""
    command = [
        sys.executable,
        "-m",
        "newsdelta.testing.newsroom",
        "--articles",
        str(articles),
        "--feed-limit",
        str(feed_limit),
        "--port",
        "0",
    ]
    process = subprocess.Popen(
        command,
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: pin(NEWSROOM_CPU),
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        if not base_url.startswith("http://"):
            raise RuntimeError(f"the newsroom did not start: {base_url!r}")
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=30)


def control(base_url: str, action: str, **params: str | float) -> dict:
    response = httpx.post(f"{base_url}/_control/{action}", params=params, timeout=60)
    response.raise_for_status()
    return response.json()


def newsroom_now(base_url: str) -> str:
    return httpx.get(f"{base_url}/_control/now", timeout=60).json()["now"]


# --- newsdelta ------------------------------------------------------------------------------------------


def sqlite_bytes(path: Path) -> int:
    """File plus WAL after folding the WAL in: what the database keeps on disk."""
    with sqlite3.connect(path, timeout=60) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())


async def timed(run: Callable[[], Awaitable[PassStats]]) -> tuple[PassStats, float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    stats = await run()
    return stats, time.perf_counter() - wall, time.process_time() - cpu


async def newsdelta_passes(base_url: str, folder: Path, *, profile: Path | None) -> list[PassFigures]:
    database = folder / "newsdelta.sqlite3"
    sessions = open_database(f"sqlite:///{database}")
    ctx = CrawlContext(
        sessions,
        Fetcher(default_user_agent(), per_host_concurrency=PER_HOST_CONCURRENCY, per_host_delay=0.0),
        feed_max_items=10**7,  # the sitemap names every article of the newsroom, all to be tracked at once
    )
    with sessions.begin() as session:
        for path in ("/rss.xml", "/sitemap.xml"):
            # Polled once: a feed falling due again mid-bench would be counted as re-check cost.
            add_feed(session, base_url + path, "newsroom", timedelta(days=1), (), ctx.clock())

    figures: list[PassFigures] = []

    async def measure(name: str, run: Callable[[], Awaitable[PassStats]]) -> PassStats:
        before = sqlite_bytes(database)
        stats, wall, cpu = await timed(run)
        grown = sqlite_bytes(database) - before
        note = f"{stats.feeds_polled} feeds polled in the pass" if stats.feeds_polled and stats.checks else ""
        figures.append(PassFigures("newsdelta", name, stats.checks, wall, cpu, grown, stats.outcomes, note))
        return stats

    async def poll() -> PassStats:
        stats = PassStats()
        await poll_due_feeds(ctx, stats, concurrency=CONCURRENCY)
        return stats

    async def first_checks() -> PassStats:
        stats = PassStats()
        await check_due_articles(ctx, stats, concurrency=CONCURRENCY)
        return stats

    async def recheck() -> PassStats:
        return await run_pass(ctx, concurrency=CONCURRENCY, force=True)

    async with ctx.fetcher:
        polled = await measure("feed poll (rss + sitemap)", poll)
        figures[-1].checks, figures[-1].note = 0, f"{polled.articles_added} articles found"
        await measure("1st pass (all new)", first_checks)
        if profile is None:
            await measure("re-check, unchanged", recheck)
        else:
            await profiled(profile, lambda: measure("re-check, unchanged (profiled)", recheck))
        control(base_url, "advance", seconds=DAY)
        await measure("re-check, +1 day (edits)", recheck)
    return figures


async def profiled(path: Path, run: Callable[[], Awaitable[object]]) -> None:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    await run()
    profiler.disable()
    profiler.dump_stats(path)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


# --- diffengine -----------------------------------------------------------------------------------------


def peer_python(venv: Path) -> Path:
    """diffengine's venv, created on first use; its pins would clash with ours, so it is never in .venv."""
    python = venv / "bin" / "python"
    if python.exists():
        return python
    print(f"creating diffengine's venv at {venv} ...", flush=True)
    pip = [str(python), "-m", "pip", "install", "--quiet"]
    steps = (
        [sys.executable, "-m", "venv", str(venv)],
        [*pip, "--no-deps", "diffengine==0.2.7"],
        [*pip, *PEER_PACKAGES],
    )
    for step in steps:
        if subprocess.run(step, check=False).returncode != 0:
            sys.exit("could not build diffengine's venv; by hand:\n" + "\n".join(map(" ".join, steps)))
    return python


def diffengine_pass(python: Path, home: Path, feed_url: str, budget: float, *extra: str) -> dict:
    command = [
        str(python),
        str(PEER_SCRIPT),
        "--home",
        str(home),
        "--feed",
        feed_url,
        "--budget",
        str(budget),
        "--no-sleep",
        "--cpu",
        str(CRAWLER_CPU),
        *extra,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"diffengine failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def diffengine_passes(python: Path, base_url: str, folder: Path, budget: float) -> list[PassFigures]:
    home, feed = folder / "diffengine-home", base_url + "/rss.xml"
    figures: list[PassFigures] = []

    def record(name: str, result: dict) -> None:
        outcomes = Counter(
            {
                "new_version": result["new_versions"],
                "error": result["errors"],
                "unchanged": result["checks"] - result["new_versions"] - result["errors"],
            }
        )
        note = f"log/diff files +{result['other_growth']:,} B"
        if result.get("first_error"):
            note += f"; first error: {result['first_error'][:80]}"
        figures.append(
            PassFigures(
                "diffengine",
                name,
                result["checks"],
                result["check_wall"],
                result["check_cpu"],
                result["db_growth"],
                outcomes,
                note,
            )
        )

    first = diffengine_pass(python, home, feed, budget, "--poll")
    poll = PassFigures("diffengine", "feed poll (rss)", 0, first["poll_wall"], first["poll_cpu"], 0)
    poll.note = (
        f"{first['new_entries']} entries found; checks sample: {first['checks']} of {first['entries']}"
    )
    figures.append(poll)
    record("1st pass (all new)", first)
    record("re-check, unchanged", diffengine_pass(python, home, feed, budget, "--only-checked", "--force"))
    control(base_url, "advance", seconds=DAY)
    record(
        "re-check, +1 day (edits)", diffengine_pass(python, home, feed, budget, "--only-checked", "--force")
    )
    return figures


# --- report ---------------------------------------------------------------------------------------------


def print_table(rows: list[PassFigures]) -> None:
    header = (
        f"{'crawler':<11}{'pass':<28}{'checks':>7}{'wall s':>9}{'checks/s':>10}"
        f"{'CPU ms/check':>14}{'1-core ceiling/s':>18}{'stored B/check':>16}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        if row.checks == 0:
            print(f"{row.crawler:<11}{row.name:<28}{'':>7}{row.wall:>9.1f}{'':>10}{'':>14}{'':>18}{'':>16}")
        else:
            print(
                f"{row.crawler:<11}{row.name:<28}{row.checks:>7}{row.wall:>9.1f}{row.rate:>10.1f}"
                f"{row.cpu_per_check * 1000:>14.2f}{1 / row.cpu_per_check:>18.1f}{row.stored_per_check:>16.0f}"
            )
    print()
    for row in rows:
        outcomes = ", ".join(f"{name} {count}" for name, count in sorted(row.outcomes.items()))
        details = "; ".join(part for part in (outcomes, row.note) if part)
        print(f"{row.crawler} / {row.name}: {details or '-'}  (CPU {row.cpu:.1f} s)")


def verdict(rows: list[PassFigures]) -> None:
    unchanged = next(r for r in rows if r.crawler == "newsdelta" and r.name.startswith("re-check, unchanged"))
    kept = sum(unchanged.outcomes[name] for name in UNCHANGED)
    print(
        f"\nnewsdelta target (unchanged re-checks): {unchanged.rate:.0f} checks/s measured, "
        f"{1 / unchanged.cpu_per_check:.0f}/s 1-core ceiling (target >= 200); "
        f"{unchanged.stored / max(kept, 1):.0f} B stored per unchanged check (target <= 2048)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument(
        "--peer-items", type=int, default=1000, help="items in /rss.xml for diffengine (0: all articles)"
    )
    parser.add_argument("--peer-budget", type=float, default=60.0, help="seconds per diffengine pass at most")
    parser.add_argument("--no-peer", action="store_true", help="skip diffengine")
    parser.add_argument("--peer-venv", type=Path, default=PEER_VENV)
    parser.add_argument("--profile", type=Path, help="cProfile newsdelta's unchanged pass into this file")
    args = parser.parse_args()

    python = None if args.no_peer else peer_python(args.peer_venv)
    pinned = pin(CRAWLER_CPU)
    folder = Path(tempfile.mkdtemp(prefix="newsdelta-bench-crawl-"))
    feed_limit = min(args.peer_items, args.articles) if args.peer_items else 0
    load = os.getloadavg()
    print(
        f"newsroom: {args.articles:,} synthetic articles (30% answer 304, 2% edited during the day), "
        f"/rss.xml lists {feed_limit or args.articles:,}; newsroom on core {NEWSROOM_CPU}, crawler {pinned}"
    )
    print(
        f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores; "
        f"this core runs sum(range(10**6)) in {cpu_speed():.1f} ms of CPU"
    )
    print(f"data in {folder}\n", flush=True)
    started = time.perf_counter()
    with newsroom_process(args.articles, feed_limit) as base_url:
        start = newsroom_now(base_url)
        rows = asyncio.run(newsdelta_passes(base_url, folder, profile=args.profile))
        if python is not None:
            control(base_url, "set", at=start)
            rows += diffengine_passes(python, base_url, folder, args.peer_budget)
    print_table(rows)
    verdict(rows)
    if python is not None:
        print(
            "diffengine as shipped sleeps 1 s before every check (dropped here, as newsdelta runs at per-host "
            f"delay 0): at most 1 check/s, {args.articles:,} checks >= {args.articles / 3600:.1f} h; its re-checks "
            "were forced (every entry stale), as newsdelta's --force"
        )
    load = os.getloadavg()
    print(
        f"\nload average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
        f"whole bench {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()

"""Fidelity: does the crawl store a version for every real edit and for nothing else?

Run: `.venv/bin/python bench/fidelity.py [--seed N] [--limit N]`. Serves the real pages of
../shared/corpus/extraction-dev/ and outlets/ from a local server with chrome that changes on every request
(newsdelta.testing.chrome: counters, clocks, tickers, "updated N minutes ago", rotating "read more" lines and
most-read lists, in several languages, at random places, with and without class names) and crawls each page
five times through the real crawl loop; before the third check a real edit is made (a word, a sentence, a
paragraph removed, the headline, a correction note). Prints the false-version rate (versions beyond the one
first version and the one edit), the missed-edit rate and the extra requests per check for newsdelta, for
newsdelta without its confirming fetch, and for trafilatura alone and readability-lxml behind the same loop
(a new version whenever the hash of their text changes). Then the cost of the confirming fetch on the
simulated newsroom's scripted day.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("NEWSDELTA_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128")
sys.path.insert(0, str(Path(__file__).parent))

from extraction import readability_lxml, trafilatura_alone
from sqlalchemy import func, select

from newsdelta.crawl import CrawlContext, run_pass
from newsdelta.extract import Extracted, ExtractionError, extract
from newsdelta.extract.generic import GENERIC
from newsdelta.fetch import Fetcher
from newsdelta.store.checklog import SUCCESS_OUTCOMES
from newsdelta.store.db import open_database
from newsdelta.store.models import Check, CheckSpan
from newsdelta.store.repository import get_or_create_source, track_article
from newsdelta.testing.chrome import EDITS, VolatilePage, VolatileSite
from newsdelta.testing.drive import crawl_until, register_newsroom
from newsdelta.testing.httpserver import BackgroundServer
from newsdelta.testing.newsroom import Newsroom

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
CHECKS = 5
EDIT_AT = 2  # the edit is live from the third check on
START = datetime(2026, 3, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Source:
    html: str
    truth: str


def corpus_pages() -> list[Source]:
    """extraction-dev (with its true bodies) and every outlet fixture (with the paragraphs it expects)."""
    pages = []
    truth = json.loads((CORPUS / "extraction-dev" / "ground-truth.json").read_text())
    for page_id, item in sorted(truth.items()):
        html = gzip.decompress((CORPUS / "extraction-dev" / "html" / f"{page_id}.html.gz").read_bytes())
        pages.append(Source(html.decode("utf-8", "replace"), item.get("articleBody", "")))
    expected: dict[str, str] = {}
    for case in json.loads((CORPUS / "outlets" / "expectations.json").read_text()):
        expected.setdefault(case["fixture"], " ".join(dict(case.get("paragraphs") or {}).values()))
    for fixture, text in sorted(expected.items()):
        html = gzip.decompress((CORPUS / "outlets" / fixture).read_bytes())
        pages.append(Source(html.decode("utf-8", "replace"), text))
    return pages


def _peer(read: Callable[[str, str], str]) -> Callable[[str, str], Extracted]:
    """A peer extractor as the crawl sees an extractor: its text, split into paragraphs by line."""

    def extracted(html: str, url: str, *, reading: str | None = None) -> Extracted:
        lines = tuple(line.strip() for line in read(html, url).splitlines() if line.strip())
        if not lines:
            raise ExtractionError("no text")
        return Extracted("", lines, GENERIC.name, GENERIC.version)

    return extracted


SETUPS: dict[str, tuple[Callable[[str, str], Extracted], bool]] = {
    "newsdelta": (extract, True),
    "newsdelta, no confirming fetch": (extract, False),
    "trafilatura alone": (_peer(trafilatura_alone), False),
    "readability-lxml": (_peer(readability_lxml), False),
}


@dataclass
class Figures:
    checks: int = 0
    requests: int = 0
    edits: int = 0
    missed: int = 0
    false_versions: int = 0
    errors: int = 0

    def row(self, name: str, pages: int) -> str:
        return (
            f"{name:32} false versions {self.false_versions:4} ({self.false_versions / pages:6.1%} of pages)"
            f"   missed edits {self.missed:3}/{self.edits} ({self.missed / max(self.edits, 1):6.1%})"
            f"   extra requests/check {(self.requests - self.checks) / max(self.checks, 1):.3f}"
            f"   errors {self.errors}"
        )


async def crawl(setup: str, sources: list[Source], seed: int) -> Figures:
    extractor, confirm = SETUPS[setup]
    pages = [
        VolatilePage(s.html, seed=seed * 100_003 + i, truth=s.truth, edit_kind=EDITS[i % len(EDITS)])
        for i, s in enumerate(sources)
    ]
    site = VolatileSite(pages)
    server = BackgroundServer(site.handle, "127.0.0.1", 0)
    port = server.start()
    sessions = open_database(f"sqlite:///{tempfile.mkdtemp()}/fidelity.sqlite3")
    clock = [START]
    with sessions.begin() as session:
        source = get_or_create_source(session, "fidelity", START)
        ids = {
            track_article(
                session, f"http://127.0.0.1:{port}/p/{i}", source, START, initial_period=timedelta(hours=1)
            )[0].id: i
            for i in range(len(pages))
        }
    try:
        async with Fetcher("newsdelta-bench/0", per_host_delay=0.0, per_host_concurrency=8) as fetcher:
            ctx = CrawlContext(
                sessions=sessions,
                fetcher=fetcher,
                clock=lambda: clock[0],
                extractor=extractor,
                confirm=confirm,
            )
            for check in range(CHECKS):
                for page in pages:
                    page.edited = check >= EDIT_AT
                clock[0] = START + timedelta(hours=check + 1)
                await run_pass(ctx, concurrency=8, force=True)
    finally:
        server.stop()
    return _judge(sessions, {a: pages[i].edit_made for a, i in ids.items()}, site.requests)


def _judge(sessions: object, edited: dict[int, bool], requests: int) -> Figures:
    """One version at the first check and one at the edit's check: anything else is false or missed.

    Read from the check log: a check that stored a version or failed has a row, at its pass's time; every
    successful check is counted in its article's spans."""
    outcomes: dict[int, dict[int, str]] = defaultdict(dict)
    checks: Counter[int] = Counter()
    with sessions() as session:  # type: ignore[operator]
        for article_id, at, outcome in session.execute(select(Check.article_id, Check.at, Check.outcome)):
            outcomes[article_id][round((at - START) / timedelta(hours=1)) - 1] = outcome
            checks[article_id] += outcome not in SUCCESS_OUTCOMES
        spans = select(CheckSpan.article_id, func.sum(CheckSpan.checks)).group_by(CheckSpan.article_id)
        for article_id, count in session.execute(spans):
            checks[article_id] += count
    figures = Figures(requests=requests)
    for article_id, edit_made in edited.items():
        seen = outcomes[article_id]
        figures.checks += checks[article_id]
        figures.errors += list(seen.values()).count("error")
        if checks[article_id] != CHECKS or seen.get(0) != "new_version":
            continue
        versions = [index for index, outcome in seen.items() if outcome in ("new_version", "flipflop")]
        figures.edits += edit_made
        figures.missed += edit_made and EDIT_AT not in versions
        figures.false_versions += len([v for v in versions if v != 0 and (v != EDIT_AT or not edit_made)])
    return figures


async def newsroom_day(confirm: bool) -> int:
    """Requests the simulated newsroom served over its scripted day."""
    sessions = open_database(f"sqlite:///{tempfile.mkdtemp()}/day.sqlite3")
    with Newsroom() as newsroom:
        register_newsroom(sessions, newsroom, period=600)
        async with Fetcher("newsdelta-bench/0", per_host_delay=0.0) as fetcher:
            ctx = CrawlContext(sessions=sessions, fetcher=fetcher, clock=newsroom.clock.now, confirm=confirm)
            await crawl_until(ctx, newsroom, newsroom.script.start + timedelta(hours=24))
        return len(newsroom.request_log)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--limit", type=int, default=0, help="only the first N pages")
    args = parser.parse_args()
    sources = corpus_pages()[: args.limit or None]
    print(
        f"{len(sources)} real pages, {CHECKS} checks each, an edit from check {EDIT_AT + 1}, seed {args.seed}"
    )
    for setup in SETUPS:
        figures = asyncio.run(crawl(setup, sources, args.seed))
        print(figures.row(setup, len(sources)), flush=True)
    plain, confirmed = (asyncio.run(newsroom_day(confirm)) for confirm in (False, True))
    print(
        f"simulated newsroom day: {plain} requests without the confirming fetch, {confirmed} with it "
        f"({(confirmed - plain) / plain:+.1%})"
    )
    print("edit kinds:", dict(Counter(EDITS[i % len(EDITS)] for i in range(len(sources)))))


if __name__ == "__main__":
    main()

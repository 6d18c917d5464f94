"""Fidelity: does the crawl store a version for every real edit and for nothing else?

Run: `.venv/bin/python bench/fidelity.py [--seed N] [--limit N] [--only SETUP] [--pages 2,6] [--show]
[--chrome held-out]`. Serves
the real pages of ../shared/corpus/extraction-dev/ and outlets/ from a local server with chrome
(newsdelta.testing.chrome: counters, live viewer counts, clocks in local formats, stock and weather tickers,
"updated N minutes ago", rotating "read more" lines, most-read lists and blocks of a varying number of lines,
new on every request; and slow chrome — a site-wide "trending" line or weather strip, a page's "updated N
hours ago" — that keeps its value for two checks, so the confirming fetch cannot see it change; in several
languages, at random places — before the headline, between any two paragraphs, inside one, after the last,
outside the article — with and without class names) and crawls each page five times through the real crawl
loop; before the third check a real edit is made (a word, a sentence, a paragraph removed, the headline, a
correction note). Prints the false-version rate (versions beyond the one first version and the one edit), the
missed-edit rate and the extra requests per check for newsdelta, for newsdelta without its confirming fetch,
and for trafilatura alone and readability-lxml behind the same loop (a new version whenever the hash of their
text changes). Then the cost of the confirming fetch on the simulated newsroom's scripted day. `--show` prints
what each wrongly judged page's versions changed. `--chrome held-out` serves a second chrome vocabulary, none of
whose phrases, shapes, tags or places were seen while the masks were developed: whether they generalise.
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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from difflib import SequenceMatcher
from itertools import pairwise
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
from newsdelta.store.models import Check, CheckSpan, Version
from newsdelta.store.repository import get_or_create_source, track_article
from newsdelta.testing.chrome import EDITS, VOCABULARIES, VolatilePage, VolatileSite
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
    wrong: list[int] = field(default_factory=list)  # articles with a false version or a missed edit

    def row(self, name: str, pages: int) -> str:
        return (
            f"{name:32} false versions {self.false_versions:4} ({self.false_versions / pages:6.1%} of pages)"
            f"   missed edits {self.missed:3}/{self.edits} ({self.missed / max(self.edits, 1):6.1%})"
            f"   extra requests/check {(self.requests - self.checks) / max(self.checks, 1):.3f}"
            f"   errors {self.errors}"
        )


async def crawl(
    setup: str, sources: dict[int, Source], seed: int, show: bool = False, vocabulary: str = "default"
) -> Figures:
    """Crawl the pages (by their number in the corpus, which fixes their chrome and edit) under one setup."""
    extractor, confirm = SETUPS[setup]
    numbers = list(sources)
    pages = [
        VolatilePage(
            s.html,
            seed=seed * 100_003 + n,
            truth=s.truth,
            edit_kind=EDITS[n % len(EDITS)],
            vocabulary=vocabulary,
        )
        for n, s in sources.items()
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
        # A generous timeout: the server renders in this process, and a busy machine must not turn into errors.
        async with Fetcher(
            "newsdelta-bench/0", per_host_delay=0.0, per_host_concurrency=8, timeout=120.0
        ) as fetcher:
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
                    page.epoch = check
                clock[0] = START + timedelta(hours=check + 1)
                await run_pass(ctx, concurrency=8, force=True)
    finally:
        server.stop()
    figures = _judge(sessions, {a: pages[i].edit_made for a, i in ids.items()}, site.requests)
    if show:
        _show(sessions, figures.wrong, {a: numbers[i] for a, i in ids.items()})
    return figures


def _show(sessions: object, wrong: list[int], ids: dict[int, int]) -> None:
    """What the stored versions of each wrongly judged page changed: where a mechanism failed."""
    with sessions() as session:  # type: ignore[operator]
        for article_id in wrong:
            versions = session.scalars(
                select(Version).where(Version.article_id == article_id).order_by(Version.number)
            ).all()
            print(f"  page {ids[article_id]}: {len(versions)} versions")
            for old, new in pairwise(versions):
                before = [old.title, old.standfirst or "", *old.paragraphs]
                after = [new.title, new.standfirst or "", *new.paragraphs]
                print(f"    v{new.number}: {_word_changes(' ¶ '.join(before), ' ¶ '.join(after))}")


def _word_changes(old: str, new: str) -> list[str]:
    """The words that differ, with two words of context: what the version changed, in short."""
    a, b = old.split(" "), new.split(" ")
    return [
        f"{' '.join(a[max(i1 - 2, 0) : i2 + 2])!r} -> {' '.join(b[max(j1 - 2, 0) : j2 + 2])!r}"[:300]
        for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
        if op != "equal"
    ]


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
        missed = edit_made and EDIT_AT not in versions
        false = len([v for v in versions if v != 0 and (v != EDIT_AT or not edit_made)])
        figures.edits += edit_made
        figures.missed += missed
        figures.false_versions += false
        if missed or false:
            figures.wrong.append(article_id)
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
    parser.add_argument("--only", choices=SETUPS, help="only this setup, and no newsroom day")
    parser.add_argument("--pages", help="only these pages, by number (as --show names them), e.g. 2,6,15")
    parser.add_argument(
        "--show", action="store_true", help="what each wrongly judged page's versions changed"
    )
    parser.add_argument(
        "--chrome", choices=VOCABULARIES, default="default", help="which chrome vocabulary the pages carry"
    )
    args = parser.parse_args()
    chosen = {int(n) for n in args.pages.split(",")} if args.pages else None
    sources = {
        n: source
        for n, source in enumerate(corpus_pages()[: args.limit or None])
        if chosen is None or n in chosen
    }
    print(
        f"{len(sources)} real pages, {CHECKS} checks each, an edit from check {EDIT_AT + 1}, seed {args.seed}, "
        f"{args.chrome} chrome"
    )
    for setup in [args.only] if args.only else SETUPS:
        show = args.show and setup == "newsdelta"
        figures = asyncio.run(crawl(setup, sources, args.seed, show, args.chrome))
        print(figures.row(setup, len(sources)), flush=True)
    if args.only:
        return
    plain, confirmed = (asyncio.run(newsroom_day(confirm)) for confirm in (False, True))
    print(
        f"simulated newsroom day: {plain} requests without the confirming fetch, {confirmed} with it "
        f"({(confirmed - plain) / plain:+.1%})"
    )
    print("edit kinds:", dict(Counter(EDITS[n % len(EDITS)] for n in sources)))


if __name__ == "__main__":
    main()

"""A version only for a real edit, every real edit a version: real pages with chrome that changes on every
request, crawled through the real crawl loop; checks that raise; evidence re-read with the fetch's charset."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from crawl_support import fast_fetcher, sqlite_store
from lxml import html as lxml_html
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from test_checklog import recording_checks

from newsdelta.crawl import CrawlContext, run_pass
from newsdelta.crawl.check import current_parser
from newsdelta.crawl.context import Extractor
from newsdelta.extract import Extracted, extract
from newsdelta.extract.generic import GENERIC
from newsdelta.extract.registry import decode_html
from newsdelta.fidelity.volatility import (
    SLOT,
    Masks,
    Reading,
    Rule,
    carried_slots,
    paragraph_key,
    stable,
    template_churn,
)
from newsdelta.store.evidence import raw_page_text
from newsdelta.store.evidence_db import DatabaseEvidence
from newsdelta.store.models import Article, Version
from newsdelta.store.queries import source_health
from newsdelta.store.repository import get_or_create_source, track_article
from newsdelta.testing.chrome import EDITS, KINDS, PLACES, ChromeSlot, VolatilePage, VolatileSite
from newsdelta.testing.httpserver import BackgroundServer, Request, Response

START = datetime(2026, 3, 1, tzinfo=UTC)
PAGE_IDS = (
    "04a6711caa7c687592777718866e781e976e0fe684faebe8b3cedcef8cd0ea34",
    "076f4f33bf75059db581bedf36e76fb65e89a8f7752db3339aa3ea11c5122f32",
    "0d46122928b6f468cc4bbc694051d0dbae5702bc75a16dab82a99b58daf150a0",
)
# Every kind of chrome at every place, so no test depends on what a random layout happened to choose.
ALL_CHROME = [
    ChromeSlot(place, kind, variant, tag, cls)
    for index, (place, kind) in enumerate((p, k) for p in PLACES for k in KINDS)
    for variant, tag, cls in [
        (index % len(KINDS[kind]), ("p", "div", "span")[index % 3], (None, "meta")[index % 2])
    ]
]


async def checks_edited_from_the_third(crawl: Any, page: VolatilePage, checks: int) -> list[str]:
    """The outcomes of `checks` checks of one page whose edit appears from the third check on."""
    outcomes = []
    for check in range(checks):
        page.edited = check >= 2
        outcomes.append((await crawl.check_all())[0])
    return outcomes


def _masked_form_of(kept: str, text: str) -> bool:
    """`kept` is `text`, or `text` with something inside it masked (SLOT): its pieces in order, nothing else."""
    if SLOT not in kept:
        return kept == text
    position = 0
    for piece in kept.split(SLOT):
        found = text.find(piece.strip(), position)
        if found < 0:
            return False
        position = found + len(piece.strip())
    return True


def _real_page(corpus: Path, page_id: str) -> tuple[str, str]:
    root = corpus / "extraction-dev"
    truth = json.loads((root / "ground-truth.json").read_text())[page_id]["articleBody"]
    return gzip.decompress((root / "html" / f"{page_id}.html.gz").read_bytes()).decode(), truth


@dataclass
class Crawl:
    """Articles served by a local handler, crawled with forced passes an hour apart."""

    tmp_path: Path
    handler: Callable[[Request], Response]
    count: int
    extractor: Extractor = extract
    sessions: sessionmaker[Session] = field(init=False)
    ids: list[int] = field(default_factory=list)
    now: datetime = START

    def __enter__(self) -> Crawl:
        self.server = BackgroundServer(self.handler, "127.0.0.1", 0)
        port = self.server.start()
        self.sessions = sqlite_store(self.tmp_path)
        with self.sessions.begin() as session:
            source = get_or_create_source(session, "volatile", START)
            for n in range(self.count):
                url = f"http://127.0.0.1:{port}/p/{n}"
                article, _ = track_article(session, url, source, START, initial_period=timedelta(hours=1))
                session.flush()
                self.ids.append(article.id)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    async def check_all(self) -> list[str]:
        """One forced pass; each article's outcome, in article order."""
        self.now += timedelta(hours=1)
        async with fast_fetcher() as fetcher:
            ctx = CrawlContext(
                sessions=self.sessions, fetcher=fetcher, clock=lambda: self.now, extractor=self.extractor
            )
            with recording_checks() as checks:
                await run_pass(ctx, force=True)
        outcomes = {check.article_id: check.outcome for check in checks}
        return [outcomes[i] for i in self.ids]

    def versions(self, index: int = 0) -> list[Version]:
        with self.sessions() as session:
            query = select(Version).where(Version.article_id == self.ids[index]).order_by(Version.number)
            return list(session.scalars(query))

    def article(self, index: int = 0) -> Article:
        with self.sessions() as session:
            return session.get(Article, self.ids[index])  # type: ignore[return-value]


def _volatile_crawl(tmp_path: Path, pages: list[VolatilePage]) -> tuple[Crawl, VolatileSite]:
    site = VolatileSite(pages)
    return Crawl(tmp_path, site.handle, len(pages)), site


# --- the alignment itself -----------------------------------------------------------------------------------


def test_words_that_differ_between_two_fetches_are_masked_and_an_edit_beside_them_still_shows() -> None:
    body = "The storm closed {} roads on Monday and 4,120 readers shared this story"
    first = Reading("Storm", (body.format("12"), "Updated 3 minutes ago", "Read more: cats"))
    second = Reading("Storm", (body.format("12").replace("4,120", "4,131"), "Updated 4 minutes ago"))
    merged = stable(first, second)
    assert merged.reading.paragraphs == (
        f"The storm closed 12 roads on Monday and {SLOT} readers shared this story",
        f"Updated {SLOT} minutes ago",
    )
    masks = Masks(merged.learned)
    later = Reading("Storm", (body.format("12").replace("4,120", "5,007"), "Updated 41 minutes ago"))
    assert masks.apply(later) == merged.reading  # the next check needs no second fetch
    edited = Reading("Storm", (body.format("15").replace("4,120", "5,007"), "Updated 41 minutes ago"))
    assert masks.apply(edited) != merged.reading  # the rule holds the paragraph's words: the edit shows
    confirmed = stable(masks.apply(edited), masks.apply(Reading("Storm", (body.format("15"), "Updated now"))))
    assert (
        confirmed.reading.paragraphs[0]
        == f"The storm closed 15 roads on Monday and {SLOT} readers shared this story"
    )


def test_numbers_inside_a_word_and_lines_of_signs_are_masked_without_phrase_lists() -> None:
    body = "東京都は新しい計画を発表した。"
    merged = stable(
        Reading("T", (body, "14時05分更新", "👁 12,345")), Reading("T", (body, "9時31分更新", "👁 99"))
    )
    assert merged.reading.paragraphs == (body, f"{SLOT}時{SLOT}分更新")
    later = Masks(merged.learned).apply(Reading("T", (body, "23時59分更新", "👁 7")))
    assert later == merged.reading  # the next check needs no second fetch


def test_a_labelled_line_whose_value_changed_in_seconds_is_chrome_whole_even_where_both_fetches_agreed() -> (
    None
):
    body = "The council approved the budget on Monday after a long debate."
    first = Reading("T", (body, "Photo: Ana Souza / Reuters", "Sponsored: Cheap flights today only"))
    second = Reading("T", (body, "Photo: Jan de Vries / AP", "Sponsored: New phones today only"))
    merged = stable(first, second)
    assert merged.reading.paragraphs == (body,)
    # Later values agree on more than their label by chance ("today only"): the learned rule drops them all.
    later = Reading("T", (body, "Photo: Li Wei / AFP", "Sponsored: Garden sale today only"))
    assert Masks(merged.learned).apply(later).paragraphs == (body,)


def test_text_that_replaces_known_chrome_at_its_place_is_chrome_and_a_correction_is_not() -> None:
    body = ("The bridge will close in March.", "Repairs will cost £2m.")
    trending = "Trending: Storm closes harbour"
    known = Masks(boilerplate=frozenset({paragraph_key(trending)}))
    before = (*body, trending)
    churn = template_churn(before, (*body, "Trending: Museum reopens"), known)
    assert Masks(churn).apply(Reading("T", (*body, "Trending: Museum reopens"))).paragraphs == body
    note = "This article was amended on 3 March 2026 to correct the cost."
    assert template_churn(before, (*body, note), known) == ()
    assert template_churn(before, (*body, "Trending: Museum reopens", note), known) == churn


def test_a_template_line_that_changed_slowly_is_chrome_and_prose_whose_number_changed_is_an_edit() -> None:
    body = ("The bridge will close in March.", "Repairs will cost £2m, the council said.")
    before = (body[0], "527 comments", body[1], "Trending: Storm closes harbour")
    now = (body[0], "531 comments", body[1], "Trending: Museum reopens after flood")
    rules = template_churn(before, now, Masks())
    assert Masks(rules).apply(Reading("T", now)) == Masks(rules).apply(Reading("T", before))
    assert Masks(rules).apply(Reading("T", now)).paragraphs == (body[0], f"{SLOT} comments", body[1])
    # A sentence whose number changed, and a line that changed its words, are edits.
    edited = (body[0], "527 comments", "Repairs will cost £3m, the council said.", "Storm closes harbour")
    assert template_churn(before, edited, Masks()) == ()
    # A line known to be volatile that the page no longer renders is chrome; a sentence that went is an edit.
    consent = Rule("slot", r"We use cookies\. Your id: (?:\S+)?", f"We use cookies. Your id: {SLOT}")
    shown = (*body, "We use cookies. Your id: 8f3a")
    gone = template_churn(shown, body, Masks((consent,)))
    assert Masks(gone).apply(Reading("T", shown)).paragraphs == body
    assert template_churn((*body, "Repairs start in May."), body, Masks((consent,))) == ()
    # A line of a label that came beside another line of that label (the same widget twice, out of step).
    doubled = (*before, "Trending: Museum reopens after flood")
    assert (
        Masks(template_churn(before, doubled, Masks())).apply(Reading("T", doubled)).paragraphs == before[:3]
    )


def test_a_slot_stays_a_slot_when_its_paragraph_is_edited_and_the_edit_shows() -> None:
    # Both fetches of the edit's check agreed on "AM": beside the latest version's slot, it is still volatile.
    old = ("Intro.", f"The city will add public housing. {SLOT} ET)")
    edited = "The city will add public housing. Officials said more would follow on Monday."
    rules = carried_slots(old, ("Intro.", f"{edited} {SLOT} AM ET)"))
    assert Masks(rules).apply(Reading("T", ("Intro.", f"{edited} 9:12 PM ET)"))).paragraphs == (
        "Intro.",
        f"{edited} {SLOT} ET)",
    )
    # A word that ends a sentence beside the slot, or a word changed elsewhere, is the edit: nothing is carried.
    assert carried_slots(old, ("Intro.", f"The city will add public housing. {SLOT} Today. ET)")) == ()
    assert carried_slots(old, ("Intro.", f"The city will add housing. {SLOT} ET)")) == ()


# --- real pages through the crawl loop ------------------------------------------------------------------------


async def test_a_real_page_with_chrome_that_changes_on_every_request_checked_five_times_is_one_version(
    corpus: Path, tmp_path: Path
) -> None:
    html, truth = _real_page(corpus, PAGE_IDS[0])
    crawl, site = _volatile_crawl(tmp_path, [VolatilePage(html, seed=1, truth=truth, slots=ALL_CHROME)])
    with crawl:
        outcomes = [(await crawl.check_all())[0] for _ in range(5)]
    assert outcomes == ["new_version"] + ["unchanged"] * 4
    [version] = crawl.versions()
    # Chrome that changes on every request never reaches the record. Slow chrome (the same on both fetches of the
    # first check) may: nothing tells it from text on a first sight without phrase lists, and no later change of
    # it became a version above.
    clean = extract(VolatilePage(html, seed=1, truth=truth, slots=[]).render().decode(), "http://x/p/0")

    # Every paragraph of the article is kept: as it is, with a clock inside it masked, or with the masked
    # remains of chrome glued to it (its words stay, its changing numbers are slots).
    def holds(kept: str, text: str) -> bool:
        return text in kept or _masked_form_of(kept, text)

    assert all(any(holds(kept, text) for kept in version.paragraphs) for text in clean.paragraphs)
    extra = [p for p in version.paragraphs if not any(holds(p, text) for text in clean.paragraphs)]
    assert len(extra) <= sum(slot.kind == "slow" for slot in ALL_CHROME)
    assert site.requests <= 5 + 2  # the confirming fetch is rare: what it learned masks the later checks


@pytest.mark.parametrize("edit", EDITS)
async def test_each_kind_of_real_edit_on_a_page_with_volatile_chrome_is_exactly_one_new_version(
    corpus: Path, tmp_path: Path, edit: str
) -> None:
    html, truth = _real_page(corpus, PAGE_IDS[1])
    page = VolatilePage(html, seed=2, truth=truth, edit_kind=edit, slots=ALL_CHROME)
    crawl, _ = _volatile_crawl(tmp_path, [page])
    with crawl:
        outcomes = await checks_edited_from_the_third(crawl, page, 5)
    assert page.edit_made
    assert outcomes == ["new_version", "unchanged", "new_version", "unchanged", "unchanged"]
    before, after = crawl.versions()
    assert (before.title, before.paragraphs) != (after.title, after.paragraphs)


async def test_a_counter_inside_a_body_paragraph_does_not_hide_an_edit_in_that_paragraph(
    corpus: Path, tmp_path: Path
) -> None:
    html, truth = _real_page(corpus, PAGE_IDS[2])
    counter = ChromeSlot("in_paragraph", "counter", 1, "span", None)  # "Shared N times" inside the paragraph
    page = VolatilePage(html, seed=3, truth=truth, edit_kind="word", slots=[counter])
    crawl, _ = _volatile_crawl(tmp_path, [page])
    with crawl:
        outcomes = await checks_edited_from_the_third(crawl, page, 4)
    assert outcomes == ["new_version", "unchanged", "new_version", "unchanged"]
    before, after = crawl.versions()
    [edited] = [p for p in after.paragraphs if "zeppelin" in p or "balloon" in p]
    assert f"Shared {SLOT} times" in edited  # the counter is masked in the very paragraph that was edited
    assert not any("zeppelin" in p or "balloon" in p for p in before.paragraphs)


async def test_boilerplate_learned_across_a_source_is_a_rebaseline_and_a_correction_stays(
    corpus: Path, tmp_path: Path
) -> None:
    signup = "Reporting for this series was supported by a grant from the Civic Journalism Fund, which had no say over its content."
    pages = []
    for n, page_id in enumerate(PAGE_IDS):
        html, truth = _real_page(corpus, page_id)
        tree = lxml_html.fromstring(html)
        [*_, last] = (p for p in tree.iter("p") if p.text_content().strip() and p.text_content() in truth)
        note = lxml_html.Element("p")
        note.text = signup
        last.addnext(note)
        text = lxml_html.tostring(tree, encoding="unicode")
        pages.append(
            VolatilePage(text, seed=10 + n, truth=truth, edit_kind="correction", slots=ALL_CHROME[:3])
        )
    crawl, _ = _volatile_crawl(tmp_path, pages)
    with crawl:
        assert await crawl.check_all() == ["new_version"] * 3
        assert all(signup in crawl.versions(n)[0].paragraphs for n in range(3))
        # Three articles of the source carry it: from now on it is boilerplate, masked without any new version.
        assert await crawl.check_all() == ["unchanged"] * 3
        pages[0].edited = True
        assert (await crawl.check_all())[0] == "new_version"
    _, corrected = crawl.versions(0)
    assert signup not in corrected.paragraphs
    assert any(p.startswith("This article was amended on") for p in corrected.paragraphs)


# --- one bad page never ends the pass ----------------------------------------------------------------------


def _nested_json_ld(html: str, depth: int = 100_000) -> str:
    block = '{"@type": "NewsArticle", "x": ' + "[" * depth + "]" * depth + "}"
    return html.replace("</head>", f'<script type="application/ld+json">{block}</script></head>', 1)


async def test_a_page_that_makes_the_extractor_raise_is_an_error_check_and_the_pass_goes_on(
    corpus: Path, tmp_path: Path
) -> None:
    html, _ = _real_page(corpus, PAGE_IDS[0])
    bodies = [html, _nested_json_ld(html), html]

    def handler(request: Request) -> Response:
        if not request.path.startswith("/p/"):
            return Response(404)
        body = bodies[int(request.path.removeprefix("/p/"))].encode()
        return Response(200, body, [("Content-Type", "text/html; charset=utf-8")])

    def extractor(page: str, url: str, *, reading: str | None = None) -> Extracted:
        if url.endswith("/p/2"):
            raise RecursionError("maximum recursion depth exceeded")  # as a parser bug would
        return extract(page, url, reading=reading)

    with Crawl(tmp_path, handler, 3, extractor=extractor) as crawl:
        # The deeply nested JSON-LD is skipped, the page read as any other; the raising check is an error.
        assert await crawl.check_all() == ["new_version", "new_version", "error"]
        failed = crawl.article(2)
        assert "RecursionError" in (failed.last_error or "")
        assert failed.error_streak == 1
        assert failed.next_check_at is not None and failed.next_check_at > crawl.now  # backed off
        assert failed.lease_owner is None
        with crawl.sessions() as session:
            [health] = source_health(session, crawl.now)  # what /health shows
        assert (health.checks, health.errors) == (3, 1)


async def test_a_counter_from_a_small_range_that_two_fetches_agree_on_is_confirmed_by_a_third(
    corpus: Path, tmp_path: Path
) -> None:
    # "N min" read, inside the first paragraph: 4, 4 at the first check; 6, 6 (chance), then 2 at the next.
    html, truth = _real_page(corpus, PAGE_IDS[0])
    served = iter((4, 4, 6, 6, 2, 9, 9, 9))

    def handler(request: Request) -> Response:
        if not request.path.startswith("/p/"):
            return Response(404)
        tree = lxml_html.fromstring(html)
        first = next(p for p in tree.iter("p") if len(p.text_content()) > 80 and p.text_content() in truth)
        listen = lxml_html.Element("span")
        listen.text = f" (Listen · {next(served)} min)"
        first.append(listen)
        return Response(200, lxml_html.tostring(tree), [("Content-Type", "text/html; charset=utf-8")])

    with Crawl(tmp_path, handler, 1) as crawl:
        assert await crawl.check_all() == ["new_version"]
        assert await crawl.check_all() == ["unchanged"]  # the third fetch saw the value change
        assert await crawl.check_all() == ["unchanged"]  # and what it learned masks it since
    [version] = crawl.versions()
    assert any("(Listen · 4 min)" in p for p in version.paragraphs)


# --- evidence is re-read as it was fetched -----------------------------------------------------------------


async def test_reparse_of_a_page_served_as_iso_8859_2_reads_the_same_text_as_the_live_fetch(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    html, truth = _real_page(corpus, PAGE_IDS[0])
    # The page keeps its own <meta charset="utf-8">: the server re-encoded it, and the HTTP header wins.
    assert re.search(r"<meta[^>]+charset=.?utf-8", html, flags=re.I)
    opening = truth[:40]
    assert opening in html
    html = html.replace(opening, f"Mieszkańcy Łodzi, Gdańska i Wrocławia: {opening}", 1)
    body = html.encode("iso-8859-2", "xmlcharrefreplace")
    assert decode_html(body) != body.decode("iso-8859-2")  # without the header the bytes read otherwise

    def handler(request: Request) -> Response:
        if not request.path.startswith("/p/"):
            return Response(404)
        return Response(200, body, [("Content-Type", "text/html; charset=iso-8859-2")])

    with Crawl(tmp_path, handler, 1) as crawl:
        assert await crawl.check_all() == ["new_version"]
        [live] = crawl.versions()
        assert any("Mieszkańcy Łodzi" in p for p in live.paragraphs)
        with crawl.sessions() as session:
            again = extract(raw_page_text(DatabaseEvidence(session), live), live.final_url or "")
        assert (again.title, again.paragraphs) == (live.title, tuple(live.paragraphs))
        # A new parser version re-reads the evidence before comparing: the same text, so no reparse version.
        monkeypatch.setattr(GENERIC, "version", GENERIC.version + 1)
        current_parser.cache_clear()
        request.addfinalizer(current_parser.cache_clear)
        assert await crawl.check_all() == ["unchanged"]
    assert [v.origin for v in crawl.versions()] == ["fetch"]


# --- chrome that changes too slowly for the confirming fetch ------------------------------------------------


def _every_paragraph(html: str, url: str, *, reading: str | None = None) -> Extracted:
    """Every <p> of the page, chrome included: the fidelity mechanisms alone, whatever an extractor leaves out."""
    tree = lxml_html.fromstring(html)
    paragraphs = tuple(t for t in (" ".join(p.text_content().split()) for p in tree.iter("p")) if t)
    return Extracted(tree.findtext(".//h1") or "", paragraphs, GENERIC.name, GENERIC.version)


async def test_slow_chrome_is_learned_from_the_source_and_an_edit_beside_it_still_shows(
    corpus: Path, tmp_path: Path
) -> None:
    # A site-wide "Trending: …" line and a per-page "Updated N hours ago": each keeps its value for two
    # checks, so both fetches of a check agree on it; they change at different checks.
    slots = [
        ChromeSlot("after_last", "slow", 0, "p", None, phase=0),
        ChromeSlot("between", "slow", 3, "p", None, phase=1),
    ]
    pages = []
    for n, page_id in enumerate(PAGE_IDS):
        html, truth = _real_page(corpus, page_id)
        pages.append(VolatilePage(html, seed=20 + n, truth=truth, edit_kind="word", slots=slots))
    site = VolatileSite(pages)
    outcomes = []
    with Crawl(tmp_path, site.handle, len(pages), extractor=_every_paragraph) as crawl:
        for check in range(5):
            for page in pages:
                page.epoch = check
            pages[0].edited = check >= 2
            outcomes.append(await crawl.check_all())
    assert [o[0] for o in outcomes] == ["new_version", "unchanged", "new_version", "unchanged", "unchanged"]
    assert [o[1:] for o in outcomes] == [["new_version"] * 2] + [["unchanged"] * 2] * 4
    first, edited = crawl.versions(0)
    assert any(p.startswith("Trending: ") for p in first.paragraphs)
    assert any("zeppelin" in p or "balloon" in p for p in edited.paragraphs)
    # The per-page line is a template of the source: its number masked, the line kept.
    assert f"Updated {SLOT} hours ago" in edited.paragraphs

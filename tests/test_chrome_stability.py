"""The same article fetched twice with different chrome must hash the same; a real edit must not.

Real corpus pages are mutated with lxml the way pages change between fetches: adverts rotate, relative
timestamps tick, related-story lists and comment counts change, a cookie banner comes and goes, inline
scripts carry new state. Each kind is tested alone (so a failure names it) and all together.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import lxml.html
import pytest
from lxml.html import HtmlElement

from newsdelta.extract import Extracted, extract
from newsdelta.extract.generic import GENERIC
from newsdelta.text import normalise, version_hash

# extraction-dev pages of different sites and layouts, read with the generic extractor
DEV_PAGES = ["04a6711c", "921019755f", "360c732d", "70cb2d5b", "8634d121", "776a1c04", "d48aeb9c", "3f65af7b"]
# outlet pages (fixture paths in outlets/), read by whatever parser the registry picks for their URL
OUTLET_PAGES = [
    "guardian/boris-johnson-apologises-2022.html.gz",
    "bbc_news/54528983.html.gz",
    "new_york_times/teacher-union-school-reopening-coronavirus.html.gz",
    "washingtonpost/beto-orourke-quits-2024.html.gz",
    "independent/boris-johnson.html.gz",
    "theintercept/pentagon-missionary.html.gz",
]

Page = tuple[str, str, Callable[[str, str], Extracted]]  # html, url, the extraction to run


def _dev_page(corpus: Path, prefix: str) -> Page:
    root = corpus / "extraction-dev"
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    page_id = next(k for k in truth if k.startswith(prefix))
    html = gzip.decompress((root / "html" / f"{page_id}.html.gz").read_bytes()).decode("utf-8")
    return html, truth[page_id]["url"], GENERIC.parse


def _outlet_page(corpus: Path, fixture: str) -> Page:
    root = corpus / "outlets"
    cases = json.loads((root / "expectations.json").read_text(encoding="utf-8"))
    url = next(c["url"] for c in cases if c["fixture"] == fixture)
    html = gzip.decompress((root / fixture).read_bytes()).decode("utf-8", "replace")
    return html, url, extract


@pytest.fixture(params=[*(f"dev:{p}" for p in DEV_PAGES), *(f"outlet:{p}" for p in OUTLET_PAGES)])
def page(request: pytest.FixtureRequest, corpus: Path) -> Page:
    kind, name = request.param.split(":", 1)
    return _dev_page(corpus, name) if kind == "dev" else _outlet_page(corpus, name)


def hash_of(result: Extracted) -> str:
    return version_hash(result.title, result.paragraphs)


# --- finding the article in the tree ------------------------------------------------------------------------


def article_elements(tree: HtmlElement, paragraphs: tuple[str, ...]) -> list[HtmlElement]:
    """The elements whose text is exactly one of the extracted paragraphs, in document order."""
    wanted = set(paragraphs)
    found = [
        e for e in tree.iter("p", "h2", "h3", "li", "blockquote") if normalise(e.text_content()) in wanted
    ]
    assert len(found) >= 3, "the page's paragraphs were not found in its tree"
    return found


def insert_after(anchor: HtmlElement, markup: str) -> None:
    element = lxml.html.fragment_fromstring(markup)
    element.tail = anchor.tail
    anchor.tail = None
    anchor.addnext(element)


def insert_before(anchor: HtmlElement, markup: str) -> None:
    anchor.addprevious(lxml.html.fragment_fromstring(markup))


# --- the chrome mutations; `variant` picks one of the ways a fetch can differ -------------------------------


def rotate_adverts(tree: HtmlElement, article: list[HtmlElement], variant: int) -> None:
    slots = article[1 :: 3 + variant][: 1 + variant]
    for number, anchor in enumerate(slots):
        insert_after(
            anchor,
            f"<div class='ad-slot ad-container' id='ad-{variant}-{number}' data-campaign='c{variant * 7}'>"
            f"<span class='ad-label'>Advertisement</span>"
            f"<iframe src='https://ads.example.net/serve?slot={number}&amp;v={variant}'></iframe></div>",
        )


def tick_timestamps(tree: HtmlElement, article: list[HtmlElement], variant: int) -> None:
    for element in tree.iter("time"):
        element.text = f"{3 + 17 * variant} minutes ago"
    insert_before(
        article[0], f"<div class='article-meta'><span class='timestamp'>{2 + variant} hours ago</span></div>"
    )
    insert_before(article[0], f"<div class='updated'>Updated {9 + variant:02d}:{7 * variant:02d}</div>")


def change_related_links(tree: HtmlElement, article: list[HtmlElement], variant: int) -> None:
    stories = range(variant * 10, variant * 11 + 3)
    items = "".join(
        f"<li><a href='/news/{n}'>Story number {n} that everyone is reading this afternoon</a></li>"
        for n in stories
    )
    insert_after(
        article[-1], f"<aside class='related-links'><h3>Related stories</h3><ul>{items}</ul></aside>"
    )


def change_counters(tree: HtmlElement, article: list[HtmlElement], variant: int) -> None:
    count = 12 + 335 * variant
    insert_before(article[0], f"<div class='comments-link'><a href='#comments'>{count} comments</a></div>")
    insert_before(
        article[0], f"<div class='stats'><span>{count * 7:,} views</span> <span>{count} shares</span></div>"
    )
    insert_after(article[-1], f"<div class='comment-count'><span>{count} Comments</span></div>")


def toggle_cookie_banner(tree: HtmlElement, article: list[HtmlElement], variant: int) -> None:
    if variant:
        body = tree.find(".//body")
        assert body is not None
        banner = lxml.html.fragment_fromstring(
            "<div id='cookie-consent' class='cookie-banner'><p>We use cookies to give you the best experience on"
            " our website. By continuing to browse you agree to our use of cookies.</p>"
            "<button>Accept all cookies</button><button>Manage settings</button></div>"
        )
        body.insert(0, banner)


def change_scripts(tree: HtmlElement, article: list[HtmlElement], variant: int) -> None:
    for script in tree.iter("script"):
        if script.get("type") != "application/ld+json":
            script.text = f'window.__STATE__ = {{"nonce": "{variant * 7919}", "pageviews": {variant * 41}}};'
    head = tree.find(".//head")
    if head is not None:
        head.append(lxml.html.fragment_fromstring(f"<script>var requestId = 'r{variant}';</script>"))


MUTATIONS = {
    "adverts": rotate_adverts,
    "timestamps": tick_timestamps,
    "related-links": change_related_links,
    "counters": change_counters,
    "cookie-banner": toggle_cookie_banner,
    "scripts": change_scripts,
}


def mutated(html: str, paragraphs: tuple[str, ...], kinds: list[str], variant: int) -> str:
    tree = lxml.html.document_fromstring(html)
    article = article_elements(tree, paragraphs)
    for kind in kinds:
        MUTATIONS[kind](tree, article, variant)
    return lxml.html.tostring(tree, encoding="unicode")


@pytest.mark.parametrize("kinds", [[k] for k in MUTATIONS] + [list(MUTATIONS)], ids=[*MUTATIONS, "all"])
def test_chrome_changes_keep_the_hash(page: Page, kinds: list[str]) -> None:
    html, url, parse = page
    original = parse(html, url)
    first = parse(mutated(html, original.paragraphs, kinds, variant=1), url)
    second = parse(mutated(html, original.paragraphs, kinds, variant=2), url)
    assert first.paragraphs == original.paragraphs
    assert second.paragraphs == original.paragraphs
    assert hash_of(first) == hash_of(second) == hash_of(original)


def add_inline_chrome(tree: HtmlElement, article: list[HtmlElement], variant: int) -> None:
    """Chrome as bare paragraphs among the article's own, with no class to give it away: only their shape
    and markup say what they are (stamps, a label and a link, a counter at the end), so only line clean-up
    after the extractor can remove them. (A bare constant label such as "Advertisement" between two
    paragraphs only words could tell; it does not change between fetches, and the crawl's per-source
    boilerplate memory learns it.)"""
    count = 12 + 335 * variant
    for line in (
        f"Updated {9 + variant:02d}:{7 * variant:02d} GMT",
        f"{2 + variant} hours ago",
        f"{3 + variant} min read",
    ):
        insert_before(article[0], f"<p>{line}</p>")
    insert_after(
        article[2], f"<p>Read more: <a href='/n/{variant}'>Story number {variant} everyone is reading</a></p>"
    )
    insert_after(article[-1], f"<p>{count:,} comments</p>")


@pytest.mark.parametrize("prefix", DEV_PAGES)
def test_chrome_text_among_the_paragraphs_keeps_the_hash(corpus: Path, prefix: str) -> None:
    html, url, parse = _dev_page(corpus, prefix)
    original = parse(html, url)
    for variant in (1, 2):
        tree = lxml.html.document_fromstring(html)
        add_inline_chrome(tree, article_elements(tree, original.paragraphs), variant)
        result = parse(lxml.html.tostring(tree, encoding="unicode"), url)
        assert result.paragraphs == original.paragraphs
        assert hash_of(result) == hash_of(original)


def test_an_edit_to_one_paragraph_changes_the_hash(page: Page) -> None:
    html, url, parse = page
    original = parse(html, url)
    tree = lxml.html.document_fromstring(html)
    article = article_elements(tree, original.paragraphs)
    edited = article[len(article) // 2]
    addition = " The ministry later said the figure had been revised."
    if len(edited):
        edited[-1].tail = (edited[-1].tail or "") + addition
    else:
        edited.text = (edited.text or "") + addition
    result = parse(lxml.html.tostring(tree, encoding="unicode"), url)
    assert hash_of(result) != hash_of(original)
    assert normalise(edited.text_content()) in result.paragraphs


@pytest.mark.parametrize("parse", [extract, GENERIC.parse], ids=["registry", "generic"])
@pytest.mark.parametrize(
    ("capture", "url", "edited"),
    [
        ("7984711", "http://news.bbc.co.uk/1/hi/uk_politics/7984711.stm", True),
        ("6072486", "http://news.bbc.co.uk/1/hi/england/bradford/6072486.stm", False),
    ],
)
def test_real_captures_of_one_article_hash_apart_only_when_edited(
    corpus: Path, parse: Callable[[str, str], Extracted], capture: str, url: str, edited: bool
) -> None:
    """Two real fetches of one BBC page (real-pairs/): one with paragraphs dropped, one unchanged."""
    first, second = (
        gzip.decompress((corpus / "real-pairs" / f"{capture}-{side}.stm.html.gz").read_bytes()).decode(
            "utf-8", "replace"
        )
        for side in "AB"
    )
    assert (hash_of(parse(first, url)) != hash_of(parse(second, url))) is edited

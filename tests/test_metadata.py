"""Dates and bylines: structured data first, then <meta>, htmldate and the page's own markup, in any language.

The corpus tests hold newsdelta to each real page's own JSON-LD (read by the benchmark's separate reader) and
to trafilatura's coverage, on both halves of extraction-dev, as bench/extraction.py reports them.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from newsdelta.extract import extract
from newsdelta.extract.bylines import clean_byline

URL = "https://news.example.org/story/council-budget"
BODY = "".join(
    f"<p>Paragraph {i}. The council approved the budget after a long debate about schools and roads.</p>"
    for i in range(6)
)


def page(head: str = "", byline: str = "", json_ld: Any = None) -> str:
    script = f"<script type='application/ld+json'>{json.dumps(json_ld)}</script>" if json_ld else ""
    return (
        f"<html><head><title>Council budget</title>{head}{script}</head><body>"
        f"<article><h1>Council approves budget</h1>{byline}{BODY}</article></body></html>"
    )


def test_json_ld_graph_author_by_reference_and_dates_of_the_webpage() -> None:
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {
                "@type": "WebPage",
                "datePublished": "2019-11-19T04:50:22+01:00",
                "dateModified": "2019-11-20T08:00Z",
            },
            {"@type": "Article", "headline": "Council approves budget", "author": {"@id": "#kim"}},
            {"@type": "Person", "@id": "#kim", "name": "Kim Lee"},
        ],
    }
    result = extract(page(json_ld=graph), URL)
    assert result.byline == "Kim Lee"
    assert result.published == datetime(2019, 11, 19, 3, 50, 22, tzinfo=UTC)
    assert result.updated == datetime(2019, 11, 20, 8, 0, tzinfo=UTC)


def test_json_ld_author_array_and_a_date_not_in_iso_form() -> None:
    article = {
        "@type": "NewsArticle",
        "author": [{"@type": "Person", "name": "By Ana López"}, "Jo Brown"],
        "datePublished": "19 Nov 2019 07:09 GMT",
    }
    result = extract(page(json_ld=article), URL)
    assert result.byline == "Ana López, Jo Brown"
    assert result.published == datetime(2019, 11, 19, 7, 9, tzinfo=UTC)


def test_placeholder_date_gives_way_to_the_date_in_the_url() -> None:
    article = {"@type": "NewsArticle", "datePublished": "0001-01-01T00:00:00Z"}
    result = extract(page(json_ld=article), "https://news.example.org/2019/11/19/council-budget/")
    assert result.published == datetime(2019, 11, 19, tzinfo=UTC)


def test_meta_tags_give_byline_and_both_times() -> None:
    head = (
        "<meta name='author' content='Kim Lee'>"
        "<meta property='article:published_time' content='2024-05-01T09:00:00+02:00'>"
        "<meta property='article:modified_time' content='2024-05-01T10:30:00+02:00'>"
    )
    result = extract(page(head), URL)
    assert (result.byline, result.published, result.updated) == (
        "Kim Lee",
        datetime(2024, 5, 1, 7, 0, tzinfo=UTC),
        datetime(2024, 5, 1, 8, 30, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("byline", "names"),
    [
        (
            "<p>By <a rel='author' href='/kim'>Kim Lee</a> and <a rel='author' href='/jo'>Jo Brown</a></p>",
            "Kim Lee, Jo Brown",
        ),
        ("<div itemprop='author' itemscope><span itemprop='name'>Kim Lee</span></div>", "Kim Lee"),
        (
            "<div class='byline-section'><span class='author'>Kim Lee and Jo Brown</span>"
            "<span class='publication'>Example News</span><div>Updated 3:45 p.m. May 1, 2024</div></div>",
            "Kim Lee, Jo Brown",
        ),
        (
            "<p class='byline'>Von Max Mustermann und Erika Musterfrau, aktualisiert am 3. Mai 2024</p>",
            "Max Mustermann, Erika Musterfrau",
        ),
        (
            "<p class='byline'>Par Jean Dupont et Marie Curie <time datetime='2024-05-03'>3 mai</time></p>",
            "Jean Dupont, Marie Curie",
        ),
        (
            "<p class='author'>Por Juan Pérez y Ana López | Actualizado 03/05/2024</p>",
            "Juan Pérez, Ana López",
        ),
    ],
    ids=["rel-author", "itemprop", "innermost-hook", "german", "french", "spanish"],
)
def test_byline_markup_in_any_language(byline: str, names: str) -> None:
    assert extract(page(byline=byline), URL).byline == names


@pytest.mark.parametrize(
    "readers",
    [
        "<p class='comment-form-author'><label>Nama Wajib</label><input name='author'></p>",
        "<div class='comment'><blockquote><p>Well said.</p></blockquote><p class='author'>Tim, Hastings</p></div>",
    ],
    ids=["comment-form", "reader-comment"],
)
def test_readers_are_no_byline(readers: str) -> None:
    assert extract(page(byline=readers), URL).byline is None


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("By KIM LEE, Associated Press", ("KIM LEE", "Associated Press")),
        ("Kim Lee | Updated 12:30 PM ET", ("Kim Lee",)),
        ("door Jan de Vries en Piet Jansen", ("Jan de Vries", "Piet Jansen")),
        ("Von Max Mustermann", ("Max Mustermann",)),
        ("Di Maio", ("Di Maio",)),
        ("By Reuters", ("Reuters",)),
        (
            "By David E. Sanger and Choe Sang-Hun",
            ("David E. Sanger", "Choe Sang-Hun"),
        ),  # a surname, not a lead-in: nothing would be left of the name
        ("By", ()),
        ("Updated", ()),
        ("", ()),
    ],
)
def test_byline_text_is_cleaned_to_names(text: str, names: tuple[str, ...]) -> None:
    assert clean_byline(text) == names


# --- real pages: held to their own JSON-LD and to trafilatura ---------------------------------------------


def _load_bench() -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "bench" / "extraction.py"
    spec = importlib.util.spec_from_file_location("bench_extraction_metadata", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def halves(corpus: Path) -> tuple[ModuleType, dict[str, Any]]:
    bench = _load_bench()
    return bench, bench.halves(bench.load_pages())


@pytest.mark.parametrize("half", ["half A", "half B"])
def test_dates_and_bylines_match_json_ld_and_cover_as_much_as_trafilatura(
    halves: tuple[ModuleType, dict[str, Any]], half: str
) -> None:
    bench, split = halves
    ours = bench.score_metadata(split[half], bench.newsdelta_metadata)
    theirs = bench.score_metadata(split[half], bench.trafilatura_metadata)
    assert ours.date_exact == ours.truth_dates
    assert ours.byline_exact == ours.truth_bylines
    assert ours.with_date >= theirs.with_date
    assert ours.with_byline >= theirs.with_byline

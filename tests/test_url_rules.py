"""Outlet URL rules from ../shared/corpus/outlets/url_rules.json: articles accepted, everything else rejected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import CORPUS

from newsdelta.extract import is_article_url, parser_for
from newsdelta.extract.outlets import EXPERIMENTAL_PARSERS, OUTLET_PARSERS
from newsdelta.settings import EXPERIMENTAL_PARSERS as EXPERIMENTAL_SETTING


def _urls(kind: str) -> list[tuple[str, str]]:
    rules_file = CORPUS / "outlets" / "url_rules.json"
    if not rules_file.is_file():
        return []
    rules = json.loads(rules_file.read_text())
    return [(outlet, url) for outlet, lists in rules.items() for url in lists[kind]]


@pytest.mark.parametrize(("outlet", "url"), _urls("valid"))
def test_article_url_is_accepted_by_its_outlet(corpus: Path, outlet: str, url: str) -> None:
    parser = parser_for(url)
    assert parser is not None and parser.name == outlet
    assert is_article_url(url)


@pytest.mark.parametrize(("outlet", "url"), _urls("invalid"))
def test_non_article_url_is_rejected(corpus: Path, outlet: str, url: str) -> None:
    assert not is_article_url(url)


def test_every_outlet_has_url_rules(corpus: Path) -> None:
    outlets = {outlet for outlet, _ in _urls("valid")} & {outlet for outlet, _ in _urls("invalid")}
    assert outlets | set(HANDMADE_RULES) == {parser.name for parser in OUTLET_PARSERS + EXPERIMENTAL_PARSERS}


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/2020/01/01/story",
        "https://notbbc.co.uk/news/world-123",
        "https://bbc.co.uk.evil.com/news/1",
    ],
)
def test_other_hosts_go_to_the_generic_extractor(url: str) -> None:
    assert parser_for(url) is None
    assert is_article_url(url)


def test_host_match_is_by_domain_not_substring() -> None:
    assert parser_for("https://news.bbc.co.uk/1/hi/uk/7995652.stm").name == "bbc_news"  # type: ignore[union-attr]
    assert parser_for("https://amp.theguardian.com/world/2020/jan/01/x").name == "guardian"  # type: ignore[union-attr]


# Hand-written: the corpus has no URL rules for the experimental outlets built from hand-made pages.
HANDMADE_RULES = {
    "reuters": (
        ["https://www.reuters.com/world/europe/port-strike-halts-grain-exports-talks-stall-2024-05-01/"],
        ["https://www.reuters.com/world/", "https://www.reuters.com/pictures/year-in-pictures-2024-12-20/"],
    ),
    "apnews": (
        ["https://apnews.com/article/flooding-river-valley-evacuations-3f1c9e2d7a4b4c8e9f0a1b2c3d4e5f60"],
        [
            "https://apnews.com/hub/flooding",
            "https://apnews.com/video/flooding-3f1c9e2d7a4b4c8e9f0a1b2c3d4e5f60",
        ],
    ),
    "cnn": (
        ["https://www.cnn.com/2024/05/01/world/deep-coral-reef-map-scn/index.html"],
        [
            "https://www.cnn.com/world",
            "https://www.cnn.com/2024/05/01/politics/live-news/election-05-01-24/index.html",
        ],
    ),
    "aljazeera": (
        ["https://www.aljazeera.com/news/2024/5/1/farmers-protest-new-water-rules-in-capital"],
        ["https://www.aljazeera.com/news/", "https://www.aljazeera.com/video/2024/5/1/farmers-protest-video"],
    ),
}


@pytest.mark.parametrize("outlet", HANDMADE_RULES)
def test_handmade_outlet_url_rules(outlet: str, monkeypatch: pytest.MonkeyPatch) -> None:
    valid, invalid = HANDMADE_RULES[outlet]
    monkeypatch.setenv(EXPERIMENTAL_SETTING.env, outlet)
    assert all(parser_for(url).name == outlet for url in valid + invalid)  # type: ignore[union-attr]
    assert all(is_article_url(url) for url in valid)
    assert not any(is_article_url(url) for url in invalid)


@pytest.mark.parametrize("parser", EXPERIMENTAL_PARSERS, ids=[p.name for p in EXPERIMENTAL_PARSERS])
def test_experimental_outlets_are_off_unless_named(parser: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """Parsers never checked against a real page leave their outlet to the generic extractor by default."""
    valid, _ = HANDMADE_RULES[parser.name]  # type: ignore[attr-defined]
    monkeypatch.delenv(EXPERIMENTAL_SETTING.env, raising=False)
    assert parser_for(valid[0]) is None
    monkeypatch.setenv(EXPERIMENTAL_SETTING.env, "all")
    assert parser_for(valid[0]) is parser

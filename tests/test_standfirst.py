"""The standfirst (the summary under the headline): read apart from the body, part of the version's text, an
edit to it a new version shown like the headline's, and its arrival with a new parser a reparse, not an edit."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from test_fidelity import ALL_CHROME, _volatile_crawl, checks_edited_from_the_third

from newsdelta.config import Settings
from newsdelta.crawl.check import current_parser
from newsdelta.extract import extract
from newsdelta.extract import generic as generic_module
from newsdelta.extract.generic import GENERIC, parse_page
from newsdelta.extract.standfirst import find_standfirst
from newsdelta.extract.structured import read_structured
from newsdelta.store.queries import version_kinds
from newsdelta.testing.chrome import ChromeSlot, VolatilePage
from newsdelta.text import version_hash
from newsdelta.web.app import create_app

STANDFIRST = (
    "London mayor Boris Johnson calls award 'bewildering' while Labour leader Ed Miliband describes it as "
    "'disgraceful'"
)


def _guardian(corpus: Path) -> str:
    return gzip.decompress(
        (corpus / "outlets" / "guardian" / "anger-grows-rbs-chiefs-bonus.html.gz").read_bytes()
    ).decode()


def test_the_standfirst_is_read_apart_from_the_body(corpus: Path) -> None:
    page = extract(
        _guardian(corpus), "http://127.0.0.1/p/0"
    )  # not the Guardian's host: the generic extractor
    assert page.standfirst == STANDFIRST
    assert page.paragraphs[0].startswith("Ed Miliband and Boris Johnson have joined the chorus")
    assert STANDFIRST not in page.paragraphs


def test_no_standfirst_hashes_as_versions_stored_before_standfirsts_were_read() -> None:
    paragraphs = ("One paragraph.", "Another one.")
    assert version_hash("Title", paragraphs, "") == version_hash("Title", paragraphs)
    assert version_hash("Title", paragraphs, "A summary") != version_hash("Title", paragraphs)


async def test_an_edit_to_the_standfirst_is_one_new_version_shown_like_the_headline(
    corpus: Path, tmp_path: Path
) -> None:
    page = VolatilePage(_guardian(corpus), seed=5, truth=STANDFIRST, edit_kind="word", slots=ALL_CHROME)
    crawl, _ = _volatile_crawl(tmp_path, [page])
    with crawl:
        outcomes = await checks_edited_from_the_third(crawl, page, 4)
    assert outcomes == ["new_version", "unchanged", "new_version", "unchanged"]
    before, after = crawl.versions()
    assert before.paragraphs == after.paragraphs
    assert before.standfirst.startswith(STANDFIRST)  # with the counter put inside it masked
    assert not after.standfirst.startswith(STANDFIRST)
    with crawl.sessions() as session:
        assert "standfirst" in version_kinds(session, [(crawl.ids[0], 1)])[(crawl.ids[0], 1)]
    with TestClient(create_app(Settings(admin_token="t"), crawl.sessions)) as client:
        diff = client.get(f"/api/articles/{crawl.ids[0]}/diff/0/1").json()
        assert {s["op"] for s in diff["standfirst_spans"]} == {"equal", "delete", "insert"}
        assert diff["summary"].startswith("Standfirst changed")
        assert client.get(f"/api/articles/{crawl.ids[0]}/versions/1").json()["standfirst"] == after.standfirst
        assert "Standfirst in version 1" in client.get(f"/articles/{crawl.ids[0]}/diff/0/1").text


async def test_a_standfirst_first_read_by_a_new_parser_version_is_a_reparse_not_an_edit(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    page = VolatilePage(_guardian(corpus), seed=6, slots=ALL_CHROME[:4])
    crawl, _ = _volatile_crawl(tmp_path, [page])
    request.addfinalizer(current_parser.cache_clear)
    with crawl:
        with monkeypatch.context() as before_standfirsts:  # the parser of before: no standfirst, version 3
            before_standfirsts.setattr(GENERIC, "version", GENERIC.version - 1)
            before_standfirsts.setattr(generic_module, "find_standfirst", lambda *args: "")
            current_parser.cache_clear()
            assert await crawl.check_all() == ["new_version"]
        current_parser.cache_clear()
        # The stored page is re-read by the new parser first (a reparse); the live page then reads the same.
        assert await crawl.check_all() == ["unchanged"]
    assert [(v.origin, v.standfirst) for v in crawl.versions()] == [("fetch", None), ("reparse", STANDFIRST)]


APOLOGY = "PM says failure to leave EU on 31 October is matter of ‘deep regret’ and blames parliament"
# Held-out chrome put right after the standfirst's paragraph, inside its wrapper: a live-updates banner, a
# related list of one to six stories, a share counter; together often longer than the standfirst itself.
BESIDE_THE_STANDFIRST = [
    ChromeSlot("between_any", "counter", 0, "small", None, at=0.0),
    ChromeSlot("between_any", "related", 2, "div", None, at=0.0),
    ChromeSlot("between_any", "live", 1, "p", None, at=0.0),
]


def test_chrome_beside_the_standfirst_is_never_part_of_it(corpus: Path) -> None:
    html = gzip.decompress(
        (corpus / "outlets" / "guardian" / "boris-johnson-apologises.html.gz").read_bytes()
    ).decode()
    assert extract(html, "http://127.0.0.1/p/0").standfirst == APOLOGY
    # The standfirst is the paragraph the chrome goes after (the only long one the truth names).
    page = VolatilePage(
        html, seed=3, truth=APOLOGY, edit_kind="headline", slots=BESIDE_THE_STANDFIRST, vocabulary="held-out"
    )
    for render in range(8):
        page.edited = render % 2 == 1  # with the headline edited too: found either way
        served = page.render().decode()
        assert "Zie ook" in served
        assert extract(served, "http://127.0.0.1/p/0").standfirst == APOLOGY


def test_a_line_the_description_quotes_and_runs_on_past_is_the_texts_start_not_a_standfirst(
    corpus: Path,
) -> None:
    """The description is the article's text cut short, so its subheading agrees with it: whether the body
    extraction kept that subheading (chrome can sway it) must not decide whether it is a standfirst."""
    name = "cc03ddb5ef7d5f1fdb8a87f5e6dfd058a2a70acedf2551655a898dc5c18eb79e"
    html = gzip.decompress((corpus / "extraction-dev" / "html" / f"{name}.html.gz").read_bytes()).decode()
    tree = parse_page(html, "http://127.0.0.1/p/0")
    description = read_structured(tree, "http://127.0.0.1/p/0").description
    assert "Calendário da Stock Car 2018" in description
    body = extract(html, "http://127.0.0.1/p/0").paragraphs
    dates = body.index("Calendário da Stock Car 2018") + 1  # the subheading, then the race dates
    for kept in (body, body[dates:]):  # with and without the lines before the race dates
        assert find_standfirst(tree, description, kept, "Calendário Stock Car 2018") == ""


def test_the_headline_repeated_under_itself_is_no_standfirst_before_or_after_a_headline_edit() -> None:
    headline = "Council approves the new bridge over the river after a long debate"
    html = (
        f"<html><head><meta property='og:description' content='{headline}, and work starts in May'></head>"
        f"<body><h1>{headline}</h1><p class='kicker'>{headline}</p><article><p>{'Body text. ' * 30}</p>"
        "</article></body></html>"
    )
    tree = parse_page(html, "http://127.0.0.1/p/0")
    description = read_structured(tree, "http://127.0.0.1/p/0").description
    for title in (headline, f"{headline} as talks collapse"):
        assert find_standfirst(tree, description, ["Body text. Body text."], title) == ""

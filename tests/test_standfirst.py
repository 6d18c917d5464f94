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
from newsdelta.extract.generic import GENERIC
from newsdelta.store.queries import version_kinds
from newsdelta.testing.chrome import VolatilePage
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

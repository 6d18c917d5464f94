"""An outlet changes its HTML: the generic extractor reads on, the switch is a reparse, /health says so;
a new format rule later switches back the same way. Never an edit the outlet did not make."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from test_crawl_checks import BBC_UNCHANGED, Harness, Site, _capture, _page

from newsdelta.config import Settings
from newsdelta.crawl.check import current_parser
from newsdelta.extract.declarative import PageFormat
from newsdelta.extract.generic import GENERIC
from newsdelta.extract.outlets.bbc import BBC_NEWS
from newsdelta.extract.registry import fallback_name
from newsdelta.store.queries import source_health
from newsdelta.web.app import create_app

# The BBC's 2006 pages are recognised by <meta name="Headline">; the "new template" renames that hook only,
# so the article's text is the same and any new version would be a fake edit.
OLD_HOOK, NEW_HOOK = b'name="Headline"', b'name="HeadlineV2"'


def _new_format_rule() -> PageFormat:
    old = next(f for f in BBC_NEWS.formats if f.name == "2006-comment-markers")
    return dataclasses.replace(
        old,
        name="2026-renamed-hook",
        detect="meta[name=HeadlineV2]",
        title=("meta[name=HeadlineV2]@content",),
    )


async def test_changed_template_is_read_by_the_fallback_as_a_reparse_and_back(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    old_page = _capture(corpus, "6072486-A.stm.html.gz")
    assert OLD_HOOK in old_page
    new_page = old_page.replace(OLD_HOOK, NEW_HOOK)
    site = Site(BBC_UNCHANGED, [_page(old_page)])
    harness = Harness(tmp_path, site)
    assert await harness.check() == "new_version"
    assert harness.article().parser == BBC_NEWS.name

    site.answers = [_page(new_page)]
    assert await harness.check(after=timedelta(minutes=30)) == "unchanged"
    fetched, reparsed = harness.versions()
    assert (reparsed.origin, reparsed.parser, reparsed.parser_version) == (
        "reparse",
        fallback_name(BBC_NEWS),
        GENERIC.version,
    )
    assert reparsed.raw_sha256 == fetched.raw_sha256  # the stored page re-read, not the new one
    assert harness.article().parser == fallback_name(BBC_NEWS)

    with harness.sessions() as session:
        [health] = source_health(session, harness.clock.now)
    assert health.fallback_pages == 1
    with TestClient(create_app(Settings(), harness.sessions, clock=harness.clock)) as client:
        page = client.get("/health").text
        assert "1 page of test read by the fallback in 24 h: the outlet's HTML changed." in page
        assert client.get("/api/health").json()["sources"][0]["fallback_pages"] == 1
    # A day later the fallback is no longer news.
    with harness.sessions() as session:
        [health] = source_health(session, harness.clock.now + timedelta(days=2))
    assert health.fallback_pages == 0

    # A format rule for the new template arrives with a new parser version: the page is fetched in full
    # and read by it, and the stored evidence is re-read by it too, so the switch back is no edit either.
    monkeypatch.setattr(BBC_NEWS, "formats", (*BBC_NEWS.formats, _new_format_rule()))
    monkeypatch.setattr(BBC_NEWS, "version", BBC_NEWS.version + 1)
    current_parser.cache_clear()
    request.addfinalizer(current_parser.cache_clear)
    assert await harness.check(after=timedelta(minutes=30)) == "unchanged"
    assert [v.origin for v in harness.versions()] == ["fetch", "reparse"]
    article = harness.article()
    assert (article.parser, article.parser_version) == (BBC_NEWS.name, BBC_NEWS.version)
    assert article.current_hash == fetched.text_hash  # the outlet parser's reading of the same text

"""A scripted day in the simulated newsroom, crawled once on SQLite and judged against the script's truth."""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from crawl_support import crawl_scripted_day, sqlite_store
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from test_checklog import assert_log_reads_as_its_rows, recording_checks
from warcio.archiveiterator import ArchiveIterator

from newsdelta.config import Settings
from newsdelta.extract import extract
from newsdelta.store.evidence import MAX_DEPTH, read_body
from newsdelta.store.models import Article, ArticleAlias, Check, CheckSpan, RawPage, Version
from newsdelta.store.warc import write_warc
from newsdelta.testing.drive import stored_history
from newsdelta.testing.newsroom import Newsroom
from newsdelta.text import version_hash
from newsdelta.web.app import create_app


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    sessions = sqlite_store(tmp_path_factory.mktemp("day"))
    with Newsroom() as newsroom, recording_checks() as checks:
        totals = crawl_scripted_day(sessions, newsroom)
        return {
            "checks": checks,
            "newsroom": newsroom,
            "sessions": sessions,
            "totals": totals,
            "truth": newsroom.truth(),
            "stored": stored_history(sessions),
            "log": newsroom.request_log,
        }


def _fetched(stored: dict[str, Any]) -> list[tuple[str, tuple[str, ...]]]:
    return [(title, paragraphs) for origin, title, paragraphs in stored["versions"] if origin == "fetch"]


def test_every_published_article_is_tracked_once_under_its_real_url(day: dict[str, Any]) -> None:
    public = {url for url, data in day["truth"]["articles"].items() if not data["disallowed"]}
    assert public <= set(day["stored"])
    assert set(day["stored"]) - public <= set(day["truth"]["disallowed"])
    with day["sessions"]() as session:
        aliases = set(session.scalars(select(ArticleAlias.url)))
    redirected = {alias for data in day["truth"]["articles"].values() for alias in data["aliases"]}
    assert redirected and redirected <= aliases


def test_each_article_has_exactly_the_versions_its_script_made(day: dict[str, Any]) -> None:
    for url, data in day["truth"]["articles"].items():
        expected = [(v["title"], tuple(v["paragraphs"])) for v in data["versions"]]
        assert _fetched(day["stored"].get(url, {"versions": []})) == expected, url


def test_flip_flops_are_events_not_versions(day: dict[str, Any]) -> None:
    flip_flopping = {url: d["flip_flops"] for url, d in day["truth"]["articles"].items() if d["flip_flops"]}
    assert flip_flopping, "the scripted day must contain a flip-flopping headline"
    for url, count in flip_flopping.items():
        assert day["stored"][url]["flip_flops"] == count, url


def test_chrome_that_changes_on_every_request_never_makes_a_version(day: dict[str, Any]) -> None:
    churning = [a for a in day["newsroom"].script.articles() if a.chrome_churn]
    assert churning
    for article in churning:
        url = day["newsroom"].url(article.slug)
        assert len(_fetched(day["stored"][url])) == len(day["truth"]["articles"][url]["versions"])
        assert len(day["newsroom"].requests_for(article.path)) > 3  # it was re-checked, not skipped


def test_deleted_articles_are_marked_gone_with_a_removal_version(day: dict[str, Any]) -> None:
    gone = day["truth"]["gone"]
    assert gone
    for url in gone:
        stored = day["stored"][url]
        assert stored["state"] == "gone"
        assert stored["versions"][-1][0] == "removed"


def test_robots_disallowed_pages_were_never_fetched(day: dict[str, Any]) -> None:
    disallowed = day["newsroom"].disallowed_paths()
    assert disallowed
    for path in disallowed:
        assert day["newsroom"].requests_for(path) == []


def test_unchanged_pages_mostly_cost_a_304(day: dict[str, Any]) -> None:
    outcomes = day["totals"].outcomes
    assert outcomes["not_modified"] > outcomes["new_version"]
    assert outcomes["error"] == 0


def test_every_version_keeps_its_raw_page_as_evidence_that_re_extracts_to_it(day: dict[str, Any]) -> None:
    with day["sessions"]() as session:
        versions = session.scalars(select(Version).where(Version.origin == "fetch")).all()
        assert versions
        for version in versions:
            raw = session.get(RawPage, version.raw_sha256)
            assert raw is not None
            body = read_body(session, raw)
            assert len(body) == raw.size
            again = extract(body, version.final_url)
            assert version_hash(again.title, again.paragraphs) == version.text_hash


def test_every_fetched_version_keeps_its_http_exchange(day: dict[str, Any]) -> None:
    with day["sessions"]() as session:
        versions = session.scalars(select(Version).where(Version.origin == "fetch")).all()
    for version in versions:
        exchange = version.exchange
        assert exchange is not None and version.remote_ip == "127.0.0.1"
        assert exchange["request"]["method"] == "GET"
        assert exchange["request"]["url"] == version.final_url
        sent = {name.lower(): value for name, value in exchange["request"]["headers"]}
        assert sent["user-agent"].startswith("newsdelta-tests/")
        response = exchange["response"]
        assert (response["http_version"], response["status"], response["reason"]) == ("HTTP/1.1", 200, "OK")
        received = {name.lower() for name, _ in response["headers"]}
        assert {"content-type", "date", "server"} <= received


def test_the_exchange_is_shown_on_the_version_page_and_in_the_api(day: dict[str, Any]) -> None:
    with day["sessions"]() as session:
        version = session.scalars(
            select(Version).where(Version.number == 1, Version.origin == "fetch")
        ).first()
        assert version is not None and version.exchange is not None
        path = f"/articles/{version.article_id}/versions/1"
        received = version.exchange["response"]["headers"]
        kept = session.scalar(
            select(func.count()).where(Version.article_id == version.article_id, Version.origin == "fetch")
        )
    with TestClient(create_app(Settings(), day["sessions"])) as client:
        page = client.get(path).text
        api = client.get(f"/api{path}").json()
        warc = client.get(f"/articles/{version.article_id}/evidence.warc.gz")
    assert warc.headers["content-type"] == "application/warc"
    records = list(ArchiveIterator(io.BytesIO(warc.content), check_digests="raise"))
    assert [record.rec_type for record in records].count("response") == kept
    assert "HTTP/1.1 200 OK" in page and "from <code>127.0.0.1</code>" in page
    assert f"{received[0][0]}: {received[0][1]}" in page
    assert api["remote_ip"] == "127.0.0.1"
    assert [tuple(pair) for pair in api["exchange"]["response"]["headers"]] == [tuple(p) for p in received]
    assert api["exchange"]["request"]["method"] == "GET"


def test_the_day_exports_as_a_warc_that_warcio_reads_back(day: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "day.warc.gz"
    with day["sessions"]() as session, out.open("wb") as stream:
        articles = session.scalars(select(Article).order_by(Article.id)).all()
        written = write_warc(session, articles, stream)
        fetched = session.scalars(select(Version).where(Version.origin == "fetch")).all()
        by_sha = {version.raw_sha256: version for version in fetched}
    assert written == len(fetched)
    kinds: list[str] = []
    with out.open("rb") as stream:
        for record in ArchiveIterator(stream, check_digests="raise"):
            kinds.append(record.rec_type)
            if record.rec_type == "metadata":
                reading = json.loads(record.content_stream().read())
                assert by_sha[reading["raw_sha256"]].text_hash == reading["text_hash"]
            if record.rec_type != "response":
                continue
            body = record.content_stream().read()
            version = by_sha[hashlib.sha256(body).hexdigest()]
            digest = "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode()
            assert record.rec_headers.get_header("WARC-Payload-Digest") == digest
            assert record.rec_headers.get_header("WARC-IP-Address") == "127.0.0.1"
            assert record.http_headers.get_statuscode() == "200"
            wire = {"content-length", "content-encoding", "transfer-encoding"}
            received = [
                (f"X-Archive-Orig-{name}" if name.lower() in wire else name, value)
                for name, value in version.exchange["response"]["headers"]
            ]
            assert record.http_headers.headers == [*received, ("Content-Length", str(len(body)))]
    assert kinds.count("response") == kinds.count("request") == kinds.count("metadata") == len(fetched)


def test_later_versions_are_stored_as_short_delta_chains(day: dict[str, Any]) -> None:
    with day["sessions"]() as session:
        pages = {page.sha256: page for page in session.scalars(select(RawPage))}
        firsts = set(session.scalars(select(Version.raw_sha256).where(Version.number == 0)))
    deltas = [page for page in pages.values() if page.codec == "zstd-delta"]
    assert deltas and all(pages[page.base_sha256].size for page in deltas)  # type: ignore[index]
    assert all(page.codec == "zstd" for sha, page in pages.items() if sha in firsts)
    assert max(page.depth for page in pages.values()) <= MAX_DEPTH
    assert sum(len(p.compressed) for p in deltas) < sum(len(p.compressed) for p in pages.values()) / 4


def test_version_numbers_are_dense_from_zero(day: dict[str, Any]) -> None:
    with day["sessions"]() as session:
        for article in session.scalars(select(Article)):
            numbers = session.scalars(
                select(Version.number).where(Version.article_id == article.id).order_by(Version.number)
            ).all()
            assert numbers == list(range(article.version_count))


def test_schedule_backs_off_between_checks(day: dict[str, Any]) -> None:
    """An article that never changed after publication was checked with growing gaps (30 min, ×1.2)."""
    quiet = day["newsroom"].url("city-marathon-results")
    with day["sessions"]() as session:
        article_id = session.scalar(select(Article.id).where(Article.url == quiet))
        times = [check.at for check in day["checks"] if check.article_id == article_id]
        period = session.scalar(select(Article.check_period_seconds).where(Article.id == article_id))
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert gaps[0] == pytest.approx(1800, abs=1)
    assert all(later == pytest.approx(earlier * 1.2, rel=1e-6) for earlier, later in itertools.pairwise(gaps))
    assert period == pytest.approx(gaps[-1] * 1.2, rel=1e-6)


def test_stored_bytes_are_small(day: dict[str, Any], tmp_path: Path) -> None:
    with day["sessions"]() as session:
        checks = session.scalar(select(func.sum(CheckSpan.checks)))
        rows = session.scalar(select(func.count()).select_from(Check))
        raw = session.scalar(select(func.sum(RawPage.size)))
        compressed = session.scalar(select(func.sum(func.length(RawPage.compressed))))
    assert checks > 100
    assert rows < checks / 2  # unchanged and 304 checks are in their spans and counters, not a row each
    assert compressed < raw / 2


def test_the_check_log_answers_the_same_from_spans_and_counters_as_from_rows(
    day: dict[str, Any], tmp_path: Path
) -> None:
    """On a copy of the day's database: "changed between" times, flip-flops, /health and `status` read from
    the spans and counters equal what a row per check said, before and after the rows are pruned
    (tests/test_checklog.py)."""
    copy = tmp_path / "newsdelta.sqlite3"
    engine = day["sessions"].kw["bind"]
    with engine.connect() as connection, sqlite3.connect(copy) as target:
        connection.connection.driver_connection.backup(target)  # type: ignore[union-attr]
    assert_log_reads_as_its_rows(sqlite_store(tmp_path), day["checks"])

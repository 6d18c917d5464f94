"""A scripted day in the simulated newsroom, crawled once on SQLite and judged against the script's truth."""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import json
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from crawl_support import crawl_scripted_day, sqlite_store
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from test_checklog import assert_log_reads_as_its_rows, recording_checks
from warcio.archiveiterator import ArchiveIterator

from newsdelta.cli import cli
from newsdelta.config import Settings
from newsdelta.extract import extract
from newsdelta.store.evidence import MAX_DEPTH, read_body
from newsdelta.store.evidence_db import DatabaseEvidence
from newsdelta.store.evidence_stores import evidence_opener
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
            raw = DatabaseEvidence(session).get(version.raw_sha256)
            assert raw is not None
            body = read_body(DatabaseEvidence(session), raw)
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
        written = write_warc(DatabaseEvidence(session), articles, stream)
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
    """An article that never changed after publication was checked less and less often: under newsdelta's
    learned schedule the hazard falls with age, so the wait for 0.1 expected edits grows."""
    quiet = day["newsroom"].url("city-marathon-results")
    with day["sessions"]() as session:
        article_id = session.scalar(select(Article.id).where(Article.url == quiet))
        times = [check.at for check in day["checks"] if check.article_id == article_id]
        period = session.scalar(select(Article.check_period_seconds).where(Article.id == article_id))
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    # 0.1 expected edits at the hazard learned so far (the prior's 0.6 edits an hour: 10 minutes)
    assert 300 <= gaps[0] <= 1800
    # The hazard learned as the day goes on moves a wait a little either way; the trend is up.
    assert all(gap >= 0.7 * max(gaps[:index]) for index, gap in enumerate(gaps) if index)
    assert gaps[-1] > 4 * gaps[0]
    assert period >= gaps[-1] - 1


def test_stored_bytes_are_small(day: dict[str, Any], tmp_path: Path) -> None:
    with day["sessions"]() as session:
        checks = session.scalar(select(func.sum(CheckSpan.checks)))
        rows = session.scalar(select(func.count()).select_from(Check))
        raw = session.scalar(select(func.sum(RawPage.size)))
        compressed = session.scalar(select(func.sum(func.length(RawPage.compressed))))
    assert checks > 100
    assert rows < checks / 2  # unchanged and 304 checks are in their spans and counters, not a row each
    assert compressed < raw / 2


def _fetched_hashes(sessions: Any) -> dict[str, list[str]]:
    with sessions() as session:
        rows = session.execute(
            select(Article.url, Version.text_hash)
            .join(Version)
            .where(Version.origin == "fetch")
            .order_by(Article.url, Version.number)
        )
        histories: dict[str, list[str]] = {}
        for url, text_hash in rows:
            histories.setdefault(url, []).append(text_hash)
        return histories


def test_importing_the_days_warc_into_an_empty_database_rebuilds_the_same_versions(
    day: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "day.warc.gz"
    with day["sessions"]() as session, out.open("wb") as stream:
        write_warc(DatabaseEvidence(session), session.scalars(select(Article).order_by(Article.id)), stream)
    empty = tmp_path / "empty"
    command = ["--data-dir", str(empty), "import", "warc", str(out), "--json"]
    first = json.loads(CliRunner().invoke(cli, command, catch_exceptions=False).output)
    imported = sqlite_store(empty)
    assert _fetched_hashes(imported) == _fetched_hashes(day["sessions"])
    assert first["outcomes"]["new_version"] == first["captures"] and first["skipped"] == 0
    with imported() as session:
        version = session.scalars(select(Version).where(Version.number == 1)).first()
        assert version is not None and version.exchange is not None and version.remote_ip == "127.0.0.1"
        url = version.article.url
    with day["sessions"]() as session:
        live = session.scalars(
            select(Version).join(Article).where(Article.url == url, Version.number == 1)
        ).one()
    assert version.fetched_at == datetime.fromisoformat(
        live.exchange["received_at"]
    )  # the capture's WARC-Date
    assert version.exchange["response"]["headers"] == live.exchange["response"]["headers"]  # as received
    assert version.exchange["request"]["headers"] == live.exchange["request"]["headers"]
    again = json.loads(CliRunner().invoke(cli, command, catch_exceptions=False).output)
    assert again["already_known"] == again["captures"] == first["captures"] and not again["outcomes"]
    assert _fetched_hashes(imported) == _fetched_hashes(day["sessions"])


def test_a_file_store_keeps_the_same_bytes_and_hashes_as_the_database(
    day: dict[str, Any], tmp_path: Path
) -> None:
    """The day crawled again with NEWSDELTA_EVIDENCE=file://…: the same versions cite the same pages, read
    back byte for byte from the tree (deltas against bases in the tree), and the database keeps none."""
    tree = tmp_path / "evidence"
    opener = evidence_opener(tree.as_uri())
    sessions = sqlite_store(tmp_path)
    with Newsroom(
        port=urlsplit(day["newsroom"].url("/")).port or 0
    ) as newsroom:  # the same URLs in the pages
        crawl_scripted_day(sessions, newsroom, evidence=opener)
    assert _fetched_hashes(sessions) == _fetched_hashes(day["sessions"])
    with sessions() as session, day["sessions"]() as day_session:
        files, database = opener(session), DatabaseEvidence(day_session)
        assert session.scalar(select(func.count()).select_from(RawPage)) == 0
        assert sorted(files.iterate()) == sorted(database.iterate())
        for sha in database.iterate():
            kept, stored = files.get(sha), database.get(sha)
            assert kept is not None and stored is not None
            assert (kept.codec, kept.base_sha256, kept.depth, kept.size) == (
                stored.codec,
                stored.base_sha256,
                stored.depth,
                stored.size,
            )
            body = read_body(files, kept)
            assert body == read_body(database, stored) and hashlib.sha256(body).hexdigest() == sha


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

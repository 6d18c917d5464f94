"""Compact evidence: zstd bodies, deltas against the article's previous body, exact reads, repacking."""

from __future__ import annotations

import gzip
import io
import json
import zlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import zstandard
from click.testing import CliRunner
from crawl_support import crawl_scripted_day, sqlite_store
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from newsdelta.cli import cli
from newsdelta.store.evidence import (
    MAX_DEPTH,
    EvidenceCorrupt,
    StoredPage,
    body_sha256,
    keep_raw_page,
    load_raw_page,
    read_body,
)
from newsdelta.store.evidence_db import DatabaseEvidence
from newsdelta.store.evidence_stores import evidence_opener, register_evidence_store
from newsdelta.store.models import RawPage, Source, Version
from newsdelta.testing.newsroom import Newsroom
from newsdelta.web.fixtures import add_version, new_article

NOW = datetime(2026, 11, 30, tzinfo=UTC)


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    return sqlite_store(tmp_path)


@pytest.fixture
def pair(corpus: Path) -> tuple[bytes, bytes]:
    """Two real captures of one BBC article."""
    return tuple(  # type: ignore[return-value]
        gzip.decompress((corpus / "real-pairs" / f"7984711-{side}.stm.html.gz").read_bytes()) for side in "AB"
    )


def test_a_later_body_is_a_small_delta_that_reads_back_exactly(
    sessions: sessionmaker[Session], pair: tuple[bytes, bytes]
) -> None:
    first, second = pair
    with sessions.begin() as session:
        a = keep_raw_page(DatabaseEvidence(session), first, "text/html", NOW)
        b = keep_raw_page(DatabaseEvidence(session), second, "text/html", NOW, previous=a)
    with sessions() as session:
        store = DatabaseEvidence(session)
        whole, delta = store.get(a), store.get(b)
        assert whole is not None and delta is not None
        assert (whole.codec, whole.depth) == ("zstd", 0)
        assert (delta.codec, delta.base_sha256, delta.depth) == ("zstd-delta", a, 1)
        assert len(whole.compressed) < len(zlib.compress(first, 6))
        assert len(delta.compressed) < 2000 < len(zlib.compress(second, 6))
        assert load_raw_page(store, a) == first and load_raw_page(store, b) == second


def test_chains_restart_with_a_full_copy_every_max_depth_versions(sessions: sessionmaker[Session]) -> None:
    bodies = [
        f"<html><body><p>edit {n}</p>{'<p>same text</p>' * 50}</body></html>".encode() for n in range(20)
    ]
    previous = None
    with sessions.begin() as session:
        for body in bodies:
            previous = keep_raw_page(DatabaseEvidence(session), body, None, NOW, previous=previous)
    with sessions() as session:
        store = DatabaseEvidence(session)
        rows = [store.get(body_sha256(body)) for body in bodies]
        assert [row.depth for row in rows if row] == [n % (MAX_DEPTH + 1) for n in range(20)]
        assert [read_body(store, row) for row in rows if row] == bodies


def test_a_body_that_does_not_match_its_sha256_is_refused(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        sha = keep_raw_page(DatabaseEvidence(session), b"<p>original</p>", None, NOW)
        other = keep_raw_page(DatabaseEvidence(session), b"<p>tampered</p>", None, NOW)
        session.execute(
            update(RawPage)
            .where(RawPage.sha256 == sha)
            .values(compressed=select(RawPage.compressed).where(RawPage.sha256 == other).scalar_subquery())
        )
    with sessions() as session, pytest.raises(EvidenceCorrupt):
        load_raw_page(DatabaseEvidence(session), sha)


def test_repack_turns_zlib_rows_into_zstd_and_deltas_that_read_back_the_same(
    sessions: sessionmaker[Session], pair: tuple[bytes, bytes], tmp_path: Path
) -> None:
    with sessions.begin() as session:
        source = Source(name="bbc", created_at=NOW)
        session.add(source)
        article = new_article(source, "https://www.bbc.co.uk/news/1", NOW)
        session.add(article)
        for n, body in enumerate(pair):
            zlib_page = StoredPage(
                body_sha256(body), "zlib", zlib.compress(body), None, 0, len(body), None, NOW
            )
            DatabaseEvidence(session).put(zlib_page)  # as written before 0007
            add_version(session, article, f"v{n}", [f"p{n}"], NOW, raw=body)
    with sessions() as session:
        before = {row.sha256: len(row.compressed) for row in session.scalars(select(RawPage))}
        assert {row.codec for row in session.scalars(select(RawPage))} == {"zlib"}
        assert [load_raw_page(DatabaseEvidence(session), body_sha256(body)) for body in pair] == list(pair)

    result = CliRunner().invoke(
        cli, ["--data-dir", str(tmp_path), "evidence", "repack", "--json"], catch_exceptions=False
    )
    figures = json.loads(result.output)
    assert figures["repacked"] == 2 and figures["bytes_after"] < figures["bytes_before"] / 2
    assert figures["bytes_before"] == sum(before.values())
    with sessions() as session:
        shas = session.scalars(select(Version.raw_sha256).order_by(Version.number)).all()
        rows = [session.get(RawPage, sha) for sha in shas]
        assert [(row.codec, row.base_sha256) for row in rows if row] == [
            ("zstd", None),
            ("zstd-delta", shas[0]),
        ]
        assert [load_raw_page(DatabaseEvidence(session), sha) for sha in shas if sha] == list(pair)
    again = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "evidence", "repack", "--json"])
    assert json.loads(again.output)["repacked"] == 0

    out = tmp_path / "bbc.warc.gz"  # versions stored before exchanges were kept still export
    export = ["--data-dir", str(tmp_path), "export", "warc", "--source", "bbc", "--out", str(out)]
    assert "wrote 2 versions" in CliRunner().invoke(cli, export, catch_exceptions=False).output
    with out.open("rb") as stream:
        responses = [
            (record.http_headers.get_statuscode(), record.content_stream().read())
            for record in ArchiveIterator(stream, check_digests="raise")
            if record.rec_type == "response"
        ]
    assert responses == [("200", body) for body in pair]


class ToyEvidence:
    """An in-memory evidence store: all a new store needs is these four methods."""

    def __init__(self) -> None:
        self.pages: dict[str, StoredPage] = {}

    def put(self, page: StoredPage, *, replace: bool = False) -> None:
        if replace or page.sha256 not in self.pages:
            self.pages[page.sha256] = page

    def get(self, sha256: str) -> StoredPage | None:
        return self.pages.get(sha256)

    def exists(self, sha256: str) -> bool:
        return sha256 in self.pages

    def iterate(self) -> Iterator[str]:
        return iter(sorted(self.pages))


def test_a_new_store_is_one_registration_line_and_the_crawl_keeps_its_pages_there(tmp_path: Path) -> None:
    toy = ToyEvidence()
    register_evidence_store("toy", lambda url: lambda session: toy)
    sessions = sqlite_store(tmp_path)
    with Newsroom() as newsroom:
        crawl_scripted_day(sessions, newsroom, hours=6, evidence=evidence_opener("toy://"))
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(RawPage)) == 0
        versions = session.scalars(select(Version).where(Version.origin == "fetch")).all()
    assert len(versions) > 10 and {v.raw_sha256 for v in versions} <= set(toy.pages)
    assert any(page.codec == "zstd-delta" for page in toy.pages.values())
    for version in versions:
        assert body_sha256(load_raw_page(toy, version.raw_sha256) or b"") == version.raw_sha256


@pytest.mark.parametrize("kind", ["db", "file"])
def test_both_stores_keep_the_first_page_given_and_replace_only_when_asked(
    kind: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    opener = evidence_opener((tmp_path / "tree").as_uri() if kind == "file" else None)
    body = b"<p>a page</p>" * 20
    whole = StoredPage(
        body_sha256(body), "zstd", zstandard.compress(body), None, 0, len(body), "text/html", NOW
    )
    legacy = replace(whole, codec="zlib", compressed=zlib.compress(body))
    with sessions.begin() as session:
        store = opener(session)
        assert not store.exists(whole.sha256) and list(store.iterate()) == []
        store.put(legacy)
        store.put(whole)  # the same bytes kept already: the first page given stays
        assert store.get(whole.sha256) == legacy
        store.put(whole, replace=True)
    with sessions() as session:
        store = opener(session)
        assert store.exists(whole.sha256) and list(store.iterate()) == [whole.sha256]
        assert store.get(whole.sha256) == whole and load_raw_page(store, whole.sha256) == body
        assert store.get("0" * 64) is None


def test_a_bad_evidence_url_is_refused_when_the_store_is_opened(tmp_path: Path) -> None:
    for url in ("s3://bucket/x", "file://host/x", "file:relative"):
        with pytest.raises(ValueError):
            evidence_opener(url)
    result = CliRunner().invoke(
        cli, ["--data-dir", str(tmp_path), "articles"], env={"NEWSDELTA_EVIDENCE": "nope:"}
    )
    assert result.exit_code == 2 and "NEWSDELTA_EVIDENCE" in result.output


def _warc(path: Path, records: list[tuple[str, str, str, bytes]]) -> None:
    """(URL, WARC-Date, HTTP status line; Content-Type, payload) as response records, in that order."""
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        for url, date, status_and_type, payload in records:
            status, content_type = status_and_type.split(";", 1)
            headers = StatusAndHeaders(status, [("Content-Type", content_type.strip())], protocol="HTTP/1.1")
            record = writer.create_warc_record(
                url,
                "response",
                payload=io.BytesIO(payload),
                http_headers=headers,
                warc_headers_dict={"WARC-Date": date},
            )
            writer.write_record(record)


PAGE = (
    "<html><head><title>{0}</title></head><body><article><p>{0} happened in the city today.</p>"
    "<p>Officials said more would follow.</p></article></body></html>"
)


def test_import_skips_what_is_not_an_html_page_and_survives_broken_records_and_files(tmp_path: Path) -> None:
    good, broken = tmp_path / "good.warc.gz", tmp_path / "broken.warc.gz"
    html = "200 OK; text/html; charset=utf-8"
    _warc(
        good,
        [
            ("http://127.0.0.1/news/a", "2026-01-01T10:00:00Z", html, PAGE.format("Floods").encode()),
            ("http://127.0.0.1/logo.png", "2026-01-02T10:00:00Z", "200 OK; image/png", b"\x89PNG..."),
            ("http://127.0.0.1/news/old", "2026-01-02T10:00:00Z", "301 Moved Permanently; text/html", b""),
            ("http://127.0.0.1/news/a", "the day after", html, PAGE.format("Small floods").encode()),
            ("http://127.0.0.1/news/a", "2026-01-04T10:00:00Z", html, PAGE.format("Big floods").encode()),
        ],
    )
    broken.write_bytes(b"\x1f\x8b\x08\x00" + bytes(range(200)))
    command = ["--data-dir", str(tmp_path / "data"), "import", "warc", str(broken), str(good), "--json"]
    figures = json.loads(CliRunner().invoke(cli, command, catch_exceptions=False).output)
    assert figures["captures"] == 2 and figures["skipped"] == 4  # png, redirect, bad date, broken file
    assert figures["outcomes"] == {"new_version": 2}
    with sqlite_store(tmp_path / "data")() as session:
        titles = session.scalars(select(Version.title).order_by(Version.number)).all()
        times = session.scalars(select(Version.fetched_at).order_by(Version.number)).all()
    assert titles == ["Floods", "Big floods"]
    assert times == [datetime(2026, 1, 1, 10, tzinfo=UTC), datetime(2026, 1, 4, 10, tzinfo=UTC)]

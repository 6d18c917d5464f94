"""Compact evidence: zstd bodies, deltas against the article's previous body, exact reads, repacking."""

from __future__ import annotations

import gzip
import json
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from crawl_support import sqlite_store
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from warcio.archiveiterator import ArchiveIterator

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
from newsdelta.store.models import RawPage, Source, Version
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
            zlib_page = StoredPage(body_sha256(body), "zlib", zlib.compress(body), None, 0, len(body), None, NOW)
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

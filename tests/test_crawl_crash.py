"""`newsdelta crawl` killed with SIGKILL in the middle of a pass, then restarted: nothing lost or duplicated."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from newsdelta.testing.newsroom import Newsroom

ARTICLES = 400


def _cli(data_dir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "newsdelta", "--data-dir", str(data_dir), *args]


def _env() -> dict[str, str]:
    return {**os.environ, "NEWSDELTA_PER_HOST_DELAY": "0"}


def _count(db: Path, query: str) -> int:
    try:
        with sqlite3.connect(db, timeout=30) as connection:
            return connection.execute(query).fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def test_sigkill_mid_pass_then_restart_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    newsroom = Newsroom.synthetic(ARTICLES, edit_fraction=0.0, seed=7)
    newsroom.clock.set(newsroom.script.start + timedelta(days=3))  # every article published
    db = tmp_path / "newsdelta.sqlite3"
    with newsroom:
        subprocess.run(
            _cli(tmp_path, "feed", "add", newsroom.url("/sitemap.xml"), "--source", "synthetic"),
            check=True,
            env=_env(),
        )
        crawler = subprocess.Popen(
            _cli(tmp_path, "crawl", "--once", "--json"), env=_env(), stdout=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 120
        while _count(db, "select count(*) from version") < ARTICLES // 5:
            assert crawler.poll() is None, "the crawl finished before it could be killed: make it bigger"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        crawler.send_signal(signal.SIGKILL)
        crawler.wait()
        stored_at_kill = _count(db, "select count(*) from version")
        leased = _count(db, "select count(*) from article where lease_owner is not null")
        assert 0 < stored_at_kill < ARTICLES
        assert leased > 0, "the kill should have caught checks in flight"

        subprocess.run(
            _cli(tmp_path, "crawl", "--once", "--json"), check=True, env=_env(), stdout=subprocess.DEVNULL
        )

    articles = _count(db, "select count(*) from article")
    assert articles == ARTICLES
    assert _count(db, "select count(*) from version") == ARTICLES
    assert _count(db, "select count(*) from article where version_count != 1") == 0
    assert _count(db, "select count(*) from article where lease_owner is not null") == 0
    assert (
        _count(
            db,
            "select count(*) from version v left join raw_page r on r.sha256 = v.raw_sha256 where r.sha256 is null",
        )
        == 0
    )
    with sqlite3.connect(db) as connection:
        assert connection.execute("pragma integrity_check").fetchone()[0] == "ok"


@pytest.mark.parametrize("flag", ["--force"])
def test_force_rechecks_everything_once_and_finds_nothing_new(tmp_path: Path, flag: str) -> None:
    newsroom = Newsroom.synthetic(50, edit_fraction=0.0, seed=3)
    newsroom.clock.set(newsroom.script.start + timedelta(days=3))
    db = tmp_path / "newsdelta.sqlite3"
    with newsroom:
        subprocess.run(
            _cli(tmp_path, "feed", "add", newsroom.url("/sitemap.xml"), "--source", "s"),
            check=True,
            env=_env(),
        )
        subprocess.run(_cli(tmp_path, "crawl", "--once"), check=True, env=_env(), stdout=subprocess.DEVNULL)
        checks_before = _count(db, "select sum(checks) from check_span")
        rows_before = _count(db, "select count(*) from article_check")
        subprocess.run(
            _cli(tmp_path, "crawl", "--once", flag), check=True, env=_env(), stdout=subprocess.DEVNULL
        )
    assert _count(db, "select sum(checks) from check_span") - checks_before == 50
    assert _count(db, "select count(*) from article_check") == rows_before  # unchanged checks add no row
    assert _count(db, "select count(*) from version") == 50

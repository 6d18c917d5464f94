"""Comparisons are stored with their version, never at its expense, and the backfill repairs what is missing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from newsdelta.changes import store
from newsdelta.store.db import open_database
from newsdelta.store.models import Article, Source, Version, VersionChange, VersionKind

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
BODY = ["The council approved the budget on Monday.", "Spending on roads will rise by 4%."]


def _version(
    article: Article, number: int, title: str, paragraphs: list[str], origin: str = "fetch"
) -> Version:
    return Version(
        article=article,
        number=number,
        origin=origin,
        title=title,
        paragraphs=paragraphs,
        text_hash=f"hash-{number}",
        fetched_at=NOW,
        http_status=200 if origin != "removed" else 410,
    )


def _add(session: Session, version: Version) -> None:
    """What the crawl's store step does: add the version, then record its comparison."""
    session.add(version)
    store.record_changes(session, version)


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    return open_database(f"sqlite:///{tmp_path / 'changes.sqlite3'}")


@pytest.fixture
def article(sessions: sessionmaker[Session]) -> int:
    with sessions.begin() as session:
        row = Article(
            source=Source(name="s", created_at=NOW),
            url="https://example.org/a",
            first_seen_at=NOW,
            state="live",
            check_period_seconds=1800,
            error_streak=0,
            version_count=0,
            hidden=False,
        )
        session.add(row)
        session.flush()
        return row.id


def _kinds(sessions: sessionmaker[Session]) -> dict[int, list[str]]:
    with sessions() as session:
        rows = session.execute(select(Version.number, VersionChange.kinds).join(VersionChange))
        return {number: kinds for number, kinds in rows}


def test_a_failing_comparison_keeps_the_version_and_the_backfill_repairs_it(
    sessions: sessionmaker[Session], article: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("analysis bug")

    with sessions.begin() as session:
        row = session.get_one(Article, article)
        _add(session, _version(row, 0, "Budget approved", BODY))
        monkeypatch.setattr(store, "compare", broken)
        _add(session, _version(row, 1, "Budget approved", [BODY[0], BODY[1].replace("4%", "6%")]))
    monkeypatch.undo()
    assert _kinds(sessions) == {0: []}  # version 1 is stored, its comparison is missing
    assert store.backfill(sessions) == 1
    assert _kinds(sessions) == {0: [], 1: ["number", "unannounced"]}


def test_a_removal_compares_with_the_text_before_it_and_a_return_skips_it(
    sessions: sessionmaker[Session], article: int
) -> None:
    with sessions.begin() as session:
        row = session.get_one(Article, article)
        _add(session, _version(row, 0, "Budget approved", BODY))
        _add(session, _version(row, 1, "Budget approved", [], origin="removed"))
        _add(session, _version(row, 2, "Budget row", BODY))
    with sessions() as session:
        changes = {c.version.number: c for c in session.scalars(select(VersionChange))}
        assert (changes[1].previous_number, changes[1].kinds, changes[1].deletions) == (0, ["removed"], 2)
        assert (changes[2].previous_number, changes[2].kinds) == (0, ["headline"])
        assert set(session.scalars(select(VersionKind.kind))) == {"removed", "headline"}


def test_backfill_recomputes_comparisons_of_an_older_algorithm(
    sessions: sessionmaker[Session], article: int
) -> None:
    with sessions.begin() as session:
        row = session.get_one(Article, article)
        _add(session, _version(row, 0, "Budget approved", BODY))
        _add(session, _version(row, 1, "Budget approved at last", BODY))
        session.execute(update(VersionChange).values(algorithm=0, kinds=["stale"]))
    assert store.backfill(sessions) == 2
    assert _kinds(sessions) == {0: [], 1: ["headline"]}
    assert store.backfill(sessions) == 0

"""The check log: spans answer what the detailed rows answered, pruning keeps what it must, and migration 0009
turns an existing log into spans without losing a row."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from conftest import service_up
from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    Integer,
    String,
    column,
    create_engine,
    delete,
    func,
    insert,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session, sessionmaker

from newsdelta.store import checklog
from newsdelta.store.checklog import SUCCESS_OUTCOMES, CheckRetention, LoggedCheck, RetentionTooShort
from newsdelta.store.db import alembic_config, normalise_db_url, open_database
from newsdelta.store.models import Article, Check, CheckSpan, Source
from newsdelta.store.queries import source_health

START = datetime(2026, 3, 1, tzinfo=UTC)


# -- the answers from the detailed rows, as the readers computed them before spans ---------------------------


def rows_last_seen_before(session: Session, article_id: int, moment: datetime) -> datetime | None:
    found = session.scalar(
        select(func.max(Check.at)).where(
            Check.article_id == article_id, Check.at < moment, Check.outcome.in_(SUCCESS_OUTCOMES)
        )
    )
    return checklog.as_utc(found)


def rows_flipflops(session: Session, article_id: int) -> list[tuple[datetime, int]]:
    rows = session.execute(
        select(Check.at, Check.version_number)
        .where(Check.article_id == article_id, Check.outcome == "flipflop", Check.version_number.is_not(None))
        .order_by(Check.at)
    )
    return [(checklog.as_utc(at), number) for at, number in rows]  # type: ignore[misc]


def rows_last_success(session: Session) -> dict[int, datetime]:
    rows = session.execute(
        select(Article.source_id, func.max(Check.at))
        .join(Check, Check.article_id == Article.id)
        .where(Check.outcome.in_(SUCCESS_OUTCOMES))
        .group_by(Article.source_id)
    )
    return {source_id: checklog.as_utc(at) for source_id, at in rows}  # type: ignore[misc]


def answers(session: Session, moments: dict[int, list[datetime]]) -> dict[str, Any]:
    """Everything the log is read for, from the check log module."""
    return {
        "seen_before": {
            (article_id, moment): checklog.last_seen_before(session, article_id, moment)
            for article_id, at in moments.items()
            for moment in at
        },
        "flipflops": {
            article_id: [(flip.at, flip.back_to) for flip in checklog.flipflops(session, article_id)]
            for article_id in moments
        },
        "flipflopping": checklog.flipflopping(session, list(moments)),
        "last_success": dict(checklog.last_success_by_source(session)),
    }


def row_answers(session: Session, moments: dict[int, list[datetime]]) -> dict[str, Any]:
    flips = {article_id: rows_flipflops(session, article_id) for article_id in moments}
    return {
        "seen_before": {
            (article_id, moment): rows_last_seen_before(session, article_id, moment)
            for article_id, at in moments.items()
            for moment in at
        },
        "flipflops": flips,
        "flipflopping": {article_id for article_id, found in flips.items() if found},
        "last_success": rows_last_success(session),
    }


def version_moments(session: Session) -> dict[int, list[datetime]]:
    """Per article, the moments the reader asks about: when a check first saw each version."""
    moments: dict[int, list[datetime]] = {}
    query = select(Check.article_id, Check.at).where(Check.version_number.is_not(None)).order_by(Check.at)
    for article_id, at in session.execute(query):
        moments.setdefault(article_id, []).append(checklog.as_utc(at))  # type: ignore[arg-type]
    for article_id in session.scalars(select(Article.id)):
        moments.setdefault(article_id, [])
    return moments


def assert_spans_answer_as_rows(sessions: sessionmaker[Session], now: datetime) -> None:
    """Compare the module's answers with the rows' while all rows exist, then once the detailed rows of
    successful checks are gone (and /health, which needs one day of them, after pruning to one day)."""
    with sessions() as session:
        moments = version_moments(session)
        assert any(moments.values())
        expected = row_answers(session, moments)
        assert answers(session, moments) == expected
        health = source_health(session, now)
    assert any(row.checks for row in health)
    one_day = CheckRetention(detail=timedelta(days=1), errors=timedelta(days=1))
    while checklog.prune(sessions, now + timedelta(seconds=1), one_day, batch=50):
        pass
    with sessions() as session:
        assert source_health(session, now) == health
    with sessions.begin() as session:
        session.execute(delete(Check).where(Check.outcome.in_(SUCCESS_OUTCOMES)))
    with sessions() as session:
        assert answers(session, moments) == expected


# -- a log written check by check, on both backends ----------------------------------------------------------


def random_log(articles: list[int], rng: random.Random) -> list[LoggedCheck]:
    """Checks as the crawl writes them: versions, flip-flops back to older ones, unchanged and 304 checks,
    errors and robots refusals, a removal; each article's in time order, articles interleaved."""
    checks: list[LoggedCheck] = []
    for article_id in articles:
        at, versions = START + timedelta(minutes=rng.randrange(60)), 0
        checks.append(LoggedCheck(article_id, at, "new_version", 200, 0))
        versions = 1
        for _ in range(rng.randrange(5, 40)):
            at += timedelta(minutes=rng.randrange(1, 600))
            roll = rng.random()
            if roll < 0.1:
                checks.append(LoggedCheck(article_id, at, "new_version", 200, versions))
                versions += 1
            elif roll < 0.15 and versions > 1:
                checks.append(LoggedCheck(article_id, at, "flipflop", 200, rng.randrange(versions - 1)))
            elif roll < 0.22:
                checks.append(LoggedCheck(article_id, at, "error", 503, detail="HTTP 503"))
            elif roll < 0.24:
                checks.append(LoggedCheck(article_id, at, "robots", detail="disallowed"))
            elif roll < 0.6:
                checks.append(LoggedCheck(article_id, at, "not_modified", 304))
            else:
                checks.append(LoggedCheck(article_id, at, "unchanged", 200))
        if rng.random() < 0.1:
            checks.append(LoggedCheck(article_id, at + timedelta(hours=1), "gone", 410, versions))
    return sorted(checks, key=lambda check: check.at)


def add_articles(session: Session, count: int) -> list[int]:
    source = Source(name="outlet", created_at=START - timedelta(days=2))
    session.add(source)
    articles = [
        Article(
            source=source,
            url=f"https://outlet.example/{n}",
            first_seen_at=START,
            check_period_seconds=1800.0,
        )
        for n in range(count)
    ]
    session.add_all(articles)
    session.flush()
    return [article.id for article in articles]


def write_log(sessions: sessionmaker[Session], seed: int) -> tuple[list[LoggedCheck], datetime]:
    rng = random.Random(seed)
    with sessions.begin() as session:
        log = random_log(add_articles(session, 25), rng)
        for start in range(0, len(log), 64):  # in the crawl's batches, and one by one
            batch = log[start : start + 64]
            if start % 128:
                for check in batch:
                    checklog.log_checks(session.connection(), [check])
            else:
                checklog.log_checks(session.connection(), batch)
    return log, max(check.at for check in log)


def assert_log_round_trip(sessions: sessionmaker[Session]) -> None:
    log, end = write_log(sessions, seed=13)
    with sessions() as session:
        spans = session.scalars(select(CheckSpan).order_by(CheckSpan.id)).all()
        live = sorted((s.article_id, s.first_at, s.last_at, s.checks, s.version_number) for s in spans)
    by_article = sorted(log, key=lambda check: (check.article_id, check.at))
    converted = sorted(
        (s["article_id"], s["first_at"], s["last_at"], s["checks"], s["version_number"])
        for s in checklog.spans_of(by_article)
    )
    assert live == converted
    assert sum(span[3] for span in live) == sum(check.outcome in SUCCESS_OUTCOMES for check in log)
    assert_spans_answer_as_rows(sessions, end)


def test_spans_answer_as_the_detailed_rows_on_sqlite(tmp_path: Path) -> None:
    assert_log_round_trip(open_database(f"sqlite:///{tmp_path / 'log.sqlite3'}"))


@pytest.mark.postgres
@pytest.mark.skipif(not service_up("127.0.0.1", 5432), reason="PostgreSQL is not reachable on 127.0.0.1:5432")
def test_spans_answer_as_the_detailed_rows_on_postgres() -> None:
    from test_postgres_store import create_database, drop_database

    url = create_database()
    sessions = open_database(url, migrate=False)
    try:
        assert_log_round_trip(sessions)
    finally:
        sessions.kw["bind"].dispose()
        drop_database(url)


# -- pruning ----------------------------------------------------------------------------------------------


def test_pruning_keeps_the_window_errors_longer_and_every_span(tmp_path: Path) -> None:
    sessions = open_database(f"sqlite:///{tmp_path / 'prune.sqlite3'}")
    log, end = write_log(sessions, seed=7)
    with sessions() as session:
        spans_before = session.scalar(select(func.sum(CheckSpan.checks)))
    retention = CheckRetention(detail=timedelta(days=1), errors=timedelta(days=3))
    now = end + timedelta(days=2)
    deleted = []
    while found := checklog.prune(sessions, now, retention, batch=100):
        assert found <= 200  # a batch of each kind at a time
        deleted.append(found)
    assert len(deleted) > 1
    with sessions() as session:
        kept = session.execute(select(Check.at, Check.outcome)).all()
        assert session.scalar(select(func.sum(CheckSpan.checks))) == spans_before
    for at, outcome in kept:
        window = retention.detail if outcome in SUCCESS_OUTCOMES else retention.errors
        assert checklog.as_utc(at) >= now - window  # type: ignore[operator]
    expected = [
        c
        for c in log
        if c.at >= now - (retention.detail if c.outcome in SUCCESS_OUTCOMES else retention.errors)
    ]
    assert len(kept) == len(expected)
    assert any(outcome == "error" for _, outcome in kept)


def test_the_log_keeps_at_least_a_day() -> None:
    with pytest.raises(RetentionTooShort):
        CheckRetention(detail=timedelta(hours=12))
    assert CheckRetention.days(7, 90) == CheckRetention()


def test_retention_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from newsdelta.cli import cli
    from newsdelta.config import Settings

    monkeypatch.setenv("NEWSDELTA_CHECK_LOG_DAYS", "2")
    monkeypatch.setenv("NEWSDELTA_CHECK_ERRORS_DAYS", "30")
    assert Settings.from_env().check_retention == CheckRetention.days(2, 30)
    monkeypatch.setenv("NEWSDELTA_CHECK_LOG_DAYS", "0.5")
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "articles"])
    assert result.exit_code == 2
    assert "NEWSDELTA_CHECK_LOG_DAYS" in result.output and "at least 1 day" in result.output


# -- migration 0009 -----------------------------------------------------------------------------------------


OLD_SOURCE = table(
    "source", column("id", Integer), column("name", String), column("created_at", DateTime(True))
)
OLD_ARTICLE = table(
    "article",
    *(column(name, Integer) for name in ("id", "source_id", "version_count", "error_streak")),
    column("url", String),
    column("first_seen_at", DateTime(True)),
    column("state", String),
    column("check_period_seconds", Float),
    column("hidden", Boolean),
)
OLD_CHECK = table(
    "article_check",
    *(column(name, Integer) for name in ("article_id", "http_status", "version_number")),
    column("at", DateTime(True)),
    column("outcome", String),
    column("detail", String),
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_at_0008(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database migrated only as far as 0008, before spans."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    elif not service_up("127.0.0.1", 5432):
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    else:
        from test_postgres_store import create_database, drop_database

        url = create_database()
        engine = create_engine(normalise_db_url(url))
        with engine.begin() as connection:  # back to an empty schema, then up to 0008 only
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    engine = create_engine(normalise_db_url(url))
    config = alembic_config(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0008")
    engine.dispose()
    yield url
    if request.param == "postgresql":
        drop_database(url)


def test_migration_turns_existing_checks_into_spans_and_keeps_every_row(database_at_0008: str) -> None:
    log = random_log([1, 2, 3, 4, 5, 6], random.Random(3))
    engine = create_engine(normalise_db_url(database_at_0008))
    with engine.begin() as connection:
        connection.execute(insert(OLD_SOURCE).values(id=1, name="old", created_at=START - timedelta(days=9)))
        connection.execute(
            insert(OLD_ARTICLE),
            [
                {
                    "id": article_id,
                    "source_id": 1,
                    "url": f"https://old.example/{article_id}",
                    "first_seen_at": START,
                    "state": "live",
                    "check_period_seconds": 1800.0,
                    "version_count": 0,
                    "hidden": False,
                    "error_streak": 0,
                }
                for article_id in range(1, 7)
            ],
        )
        # Not in time order on disk: the conversion orders by article and time itself.
        connection.execute(insert(OLD_CHECK), [check._asdict() for check in reversed(log)])
    engine.dispose()
    sessions = open_database(database_at_0008)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Check)) == len(log)
        spans = session.scalars(select(CheckSpan).order_by(CheckSpan.id)).all()
        got = [
            (s.article_id, s.first_at, s.last_at, s.checks, s.first_outcome, s.version_number) for s in spans
        ]
    by_article = sorted(log, key=lambda check: (check.article_id, check.at))
    expected = [
        (s["article_id"], s["first_at"], s["last_at"], s["checks"], s["first_outcome"], s["version_number"])
        for s in checklog.spans_of(by_article)
    ]
    assert got == expected
    assert_spans_answer_as_rows(sessions, max(check.at for check in log))
    sessions.kw["bind"].dispose()

"""The check log: spans and counters answer what the detailed rows of every check answered, unchanged checks
add no row, pruning keeps what it must, and migration 0009 turns an existing log into spans and counters
without losing a row."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

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
    or_,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session, sessionmaker

import newsdelta.crawl.check
from newsdelta.distributed.status import _source_error_rates
from newsdelta.store import checklog
from newsdelta.store.checklog import (
    SAME_AS_BEFORE,
    SUCCESS_OUTCOMES,
    CheckCounts,
    CheckRetention,
    LoggedCheck,
    RetentionTooShort,
)
from newsdelta.store.db import alembic_config, normalise_db_url, open_database
from newsdelta.store.models import Article, Check, CheckCount, CheckSpan, Source
from newsdelta.store.queries import source_health

START = datetime(2026, 3, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


# -- the answers from a row per check, as the readers computed them before 0009 -----------------------------


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


def rows_counts_since(session: Session, since: datetime) -> dict[int, CheckCounts]:
    failed = func.count().filter(Check.outcome == "error")
    query = (
        select(Article.source_id, func.count(), failed)
        .join(Check, Check.article_id == Article.id)
        .where(Check.at >= since)
        .group_by(Article.source_id)
    )
    return {source_id: CheckCounts(checks, errors) for source_id, checks, errors in session.execute(query)}


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def history(session: Session, moments: dict[int, list[datetime]]) -> dict[str, Any]:
    """What the log is read for that needs its history, from the check log module."""
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


def rows_history(session: Session, moments: dict[int, list[datetime]]) -> dict[str, Any]:
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


def health(session: Session, hours: Sequence[datetime]) -> dict[str, Any]:
    """/health (and /api/health, the sources page) and `status` at whole hours, and the last day's counts from
    moments inside an hour (the counters count from the start of that hour)."""
    return {
        "health": {now: source_health(session, now) for now in hours},
        "status": {now: _source_error_rates(session, now) for now in hours},
        "counts": {
            now: checklog.counts_since(session, now - timedelta(days=1, minutes=-17)) for now in hours
        },
    }


def rows_health(session: Session, hours: Sequence[datetime]) -> dict[str, Any]:
    """The same from a row per check: the readers of before 0009 put in place of the spans and counters."""
    with (
        mock.patch.object(checklog, "counts_since", rows_counts_since),
        mock.patch.object(checklog, "last_success_by_source", rows_last_success),
    ):
        answers = health(session, hours)
    answers["counts"] = {
        now: rows_counts_since(session, floor_hour(now - timedelta(days=1, minutes=-17))) for now in hours
    }
    return answers


def version_moments(log: Sequence[LoggedCheck]) -> dict[int, list[datetime]]:
    """Per article, the moments the reader asks about: when a check first saw each version."""
    moments: dict[int, list[datetime]] = {check.article_id: [] for check in log}
    for check in sorted(log, key=lambda check: check.at):
        if check.version_number is not None:
            moments[check.article_id].append(check.at)
    return moments


def health_hours(log: Sequence[LoggedCheck]) -> list[datetime]:
    """Whole hours every five hours over the log, and the first whole hour after it."""
    first, last = floor_hour(min(c.at for c in log)) + HOUR, floor_hour(max(c.at for c in log)) + HOUR
    return [*(first + 5 * HOUR * n for n in range((last - first) // (5 * HOUR))), last]


def assert_log_consistent(sessions: sessionmaker[Session]) -> None:
    """What holds without knowing every check: each successful check is in one span and one counter, each
    check that tells more than that has its row and its counter (none pruned yet), and flip-flops read the
    same from spans and rows."""
    with sessions() as session:
        counts = select(CheckCount.outcome, func.sum(CheckCount.checks)).group_by(CheckCount.outcome)
        counted = {outcome: count for outcome, count in session.execute(counts)}
        rows = (
            select(Check.outcome, func.count())
            .where(or_(Check.outcome.not_in(SAME_AS_BEFORE), Check.detail.is_not(None)))
            .group_by(Check.outcome)
        )
        detailed = {outcome: count for outcome, count in session.execute(rows)}
        in_spans = session.scalar(select(func.sum(CheckSpan.checks)))
        flips = {
            article_id: [(flip.at, flip.back_to) for flip in checklog.flipflops(session, article_id)]
            for article_id in session.scalars(select(Article.id))
        }
        assert flips == {article_id: rows_flipflops(session, article_id) for article_id in flips}
        assert sum(count for outcome, count in counted.items() if outcome in SUCCESS_OUTCOMES) == in_spans
    for outcome, rows in detailed.items():
        assert counted[outcome] == rows if outcome not in SAME_AS_BEFORE else counted[outcome] >= rows


def assert_log_reads_as_its_rows(
    sessions: sessionmaker[Session], log: Sequence[LoggedCheck]
) -> dict[str, Any]:
    """Read the log from its spans and counters now, after pruning to one day and once no successful check's
    row is left; then put in its place a row for every check (the log before 0009) and read that the old
    way: the answers are the same (and returned)."""
    assert_log_consistent(sessions)
    moments, hours = version_moments(log), health_hours(log)
    with sessions() as session:
        answers = history(session, moments) | health(session, hours)
    one_day = CheckRetention(detail=timedelta(days=1), errors=timedelta(days=1))
    while checklog.prune(sessions, hours[-1], one_day, batch=50):
        pass
    with sessions() as session:
        pruned = health(session, hours[-1:])
    with sessions.begin() as session:
        session.execute(delete(Check).where(Check.outcome.in_(SUCCESS_OUTCOMES)))
    with sessions() as session:
        without_rows = history(session, moments)
    with sessions.begin() as session:
        session.execute(delete(Check))
        session.execute(insert(Check), [check._asdict() for check in log])
    with sessions() as session:
        expected = rows_history(session, moments) | rows_health(session, hours)
        assert rows_health(session, hours[-1:]) == pruned
    assert any(moments.values()) and any(row.checks for row in expected["health"][hours[-1]])
    assert answers == expected
    assert without_rows == rows_history_of(expected)
    return expected


def assert_errors_counted(answers: dict[str, Any]) -> None:
    assert any(row["errors"] for rows in answers["status"].values() for row in rows)


def rows_history_of(answers: dict[str, Any]) -> dict[str, Any]:
    return {key: answers[key] for key in ("seen_before", "flipflops", "flipflopping", "last_success")}


@contextmanager
def recording_checks() -> Iterator[list[LoggedCheck]]:
    """Every check the crawl logs in this process, as a row per check would have kept it."""
    recorded: list[LoggedCheck] = []
    log_checks = checklog.log_checks

    def log_and_record(connection: Any, checks: Sequence[LoggedCheck]) -> None:
        log_checks(connection, checks)
        recorded.extend(checks)

    with mock.patch.object(newsdelta.crawl.check, "log_checks", log_and_record):
        yield recorded


# -- a log written check by check, on both backends ----------------------------------------------------------


def random_log(articles: list[int], rng: random.Random) -> list[LoggedCheck]:
    """Checks as the crawl writes them: versions, flip-flops back to older ones, unchanged and 304 checks,
    errors and robots refusals, a note, a removal; each article's in time order, articles interleaved."""
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
            elif roll < 0.26:
                checks.append(LoggedCheck(article_id, at, "unchanged", 200, detail="rebaselined"))
            elif roll < 0.6:
                checks.append(LoggedCheck(article_id, at, "not_modified", 304))
            else:
                checks.append(LoggedCheck(article_id, at, "unchanged", 200))
        if rng.random() < 0.1:
            checks.append(LoggedCheck(article_id, at + timedelta(hours=1), "gone", 410, versions))
    return sorted(checks, key=lambda check: check.at)


def add_articles(session: Session, count: int) -> list[int]:
    sources = [Source(name=name, created_at=START - timedelta(days=2)) for name in ("outlet", "wire")]
    session.add_all(sources)
    articles = [
        Article(
            source=sources[n % 2],
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
    log, _ = write_log(sessions, seed=13)
    with sessions() as session:
        spans = session.scalars(select(CheckSpan).order_by(CheckSpan.id)).all()
        live = sorted((s.article_id, s.first_at, s.last_at, s.checks, s.version_number) for s in spans)
        # An unchanged or 304 check without a note is in its span and counter only.
        rows = session.scalars(select(Check.outcome).where(Check.detail.is_(None))).all()
    by_article = sorted(log, key=lambda check: (check.article_id, check.at))
    converted = sorted(
        (s["article_id"], s["first_at"], s["last_at"], s["checks"], s["version_number"])
        for s in checklog.spans_of(by_article)
    )
    assert live == converted
    assert sum(span[3] for span in live) == sum(check.outcome in SUCCESS_OUTCOMES for check in log)
    assert rows and not set(rows) & set(SAME_AS_BEFORE)
    assert_errors_counted(assert_log_reads_as_its_rows(sessions, log))


def test_spans_and_counters_answer_as_a_row_per_check_on_sqlite(tmp_path: Path) -> None:
    assert_log_round_trip(open_database(f"sqlite:///{tmp_path / 'log.sqlite3'}"))


@pytest.mark.postgres
@pytest.mark.skipif(not service_up("127.0.0.1", 5432), reason="PostgreSQL is not reachable on 127.0.0.1:5432")
def test_spans_and_counters_answer_as_a_row_per_check_on_postgres() -> None:
    from test_postgres_store import create_database, drop_database

    url = create_database()
    sessions = open_database(url, migrate=False)
    try:
        assert_log_round_trip(sessions)
    finally:
        sessions.kw["bind"].dispose()
        drop_database(url)


# -- pruning ----------------------------------------------------------------------------------------------


def test_pruning_keeps_the_window_errors_longer_every_span_and_the_window_of_counters(tmp_path: Path) -> None:
    sessions = open_database(f"sqlite:///{tmp_path / 'prune.sqlite3'}")
    log, end = write_log(sessions, seed=7)
    with sessions() as session:
        spans_before = session.scalar(select(func.sum(CheckSpan.checks)))
    retention = CheckRetention(detail=timedelta(days=1), errors=timedelta(days=3))
    now = end + timedelta(hours=12)
    deleted = []
    while found := checklog.prune(sessions, now, retention, batch=100):
        assert found <= 200  # a batch of each kind at a time
        deleted.append(found)
    assert len(deleted) > 1
    with sessions() as session:
        kept = session.execute(select(Check.at, Check.outcome)).all()
        assert session.scalar(select(func.sum(CheckSpan.checks))) == spans_before
        hours = session.scalars(select(CheckCount.hour)).all()
    first_hour = checklog.hour_of(now - retention.detail)  # the counters count from the start of an hour
    assert set(hours) == {checklog.hour_of(c.at) for c in log if checklog.hour_of(c.at) >= first_hour}
    for at, outcome in kept:
        window = retention.detail if outcome in SUCCESS_OUTCOMES else retention.errors
        assert checklog.as_utc(at) >= now - window  # type: ignore[operator]
    expected = [
        c
        for c in log
        if c.at >= now - (retention.detail if c.outcome in SUCCESS_OUTCOMES else retention.errors)
        and (c.outcome not in SAME_AS_BEFORE or c.detail is not None)
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


def test_migration_turns_existing_checks_into_spans_and_counters_and_keeps_every_row(
    database_at_0008: str,
) -> None:
    log = random_log([1, 2, 3, 4, 5, 6], random.Random(3))
    engine = create_engine(normalise_db_url(database_at_0008))
    with engine.begin() as connection:
        connection.execute(
            insert(OLD_SOURCE),
            [{"id": n, "name": f"old{n}", "created_at": START - timedelta(days=9)} for n in (1, 2)],
        )
        connection.execute(
            insert(OLD_ARTICLE),
            [
                {
                    "id": article_id,
                    "source_id": 1 + article_id % 2,
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
    assert_errors_counted(assert_log_reads_as_its_rows(sessions, log))
    sessions.kw["bind"].dispose()

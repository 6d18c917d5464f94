"""The check log: every reader and writer of `article_check` and `check_span` goes through here.

A detailed row per check (`article_check`) grows faster than the evidence, so it is kept only for a window
(errors and robots refusals longer); what the log is for outlives it in one `check_span` row per run of
consecutive successful checks that saw the same version: first and last seen, how many checks, first and last
outcome. A check that stores or returns to a version (new_version, flipflop, reparsed, a removal) opens a span;
every other successful check extends the article's latest one. Readers answer from the spans wherever the
answer needs history, so it does not depend on whether detailed rows still exist; the last day's counts read
the detailed rows, which `CheckRetention` never prunes sooner than a day.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from newsdelta.store.models import Article, Check, CheckSpan

# Outcomes of checks that reached the page: until the next of them, the text they saw was still there.
SUCCESS_OUTCOMES = ("new_version", "unchanged", "not_modified", "flipflop", "reparsed", "gone")
HEALTH_WINDOW = timedelta(days=1)


class RetentionTooShort(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class CheckRetention:
    """How long detailed rows are kept: successful checks `detail`, errors and robots refusals `errors`."""

    detail: timedelta = timedelta(days=7)
    errors: timedelta = timedelta(days=90)

    def __post_init__(self) -> None:
        if self.detail < HEALTH_WINDOW or self.errors < HEALTH_WINDOW:
            raise RetentionTooShort("at least 1 day (health counts the last 24 hours' checks)")

    @classmethod
    def days(cls, detail: float, errors: float) -> CheckRetention:
        return cls(timedelta(days=detail), timedelta(days=errors))


@dataclass(frozen=True, slots=True)
class Flipflop:
    """A check that found the text of an older version again (an A/B headline test, a reverted edit)."""

    at: datetime
    back_to: int


class LoggedCheck(NamedTuple):
    """One check as the log stores it."""

    article_id: int
    at: datetime
    outcome: str
    http_status: int | None = None
    version_number: int | None = None
    detail: str | None = None


def as_utc(value: datetime | str | None) -> datetime | None:
    """Aggregates bypass the column type, so SQLite hands back naive datetimes (or strings) here."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# -- writing ------------------------------------------------------------------------------------------------


def log_checks(connection: Connection, checks: Sequence[LoggedCheck]) -> None:
    """Write checks (in time order) to the detailed log and to their articles' spans."""
    if not checks:
        return
    connection.execute(insert(Check), [check._asdict() for check in checks])
    for check in checks:
        if check.outcome not in SUCCESS_OUTCOMES:
            continue
        if check.version_number is not None or not _extend_span(connection, check):
            connection.execute(insert(CheckSpan).values(_new_span(check)))


def _latest_span_id(article_id: int) -> Any:
    return (
        select(CheckSpan.id)
        .where(CheckSpan.article_id == article_id)
        .order_by(CheckSpan.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _extend_span(connection: Connection, check: LoggedCheck) -> bool:
    extended = connection.execute(
        update(CheckSpan)
        .where(CheckSpan.id == _latest_span_id(check.article_id))
        .values(
            last_at=check.at,
            checks=CheckSpan.checks + 1,
            last_outcome=check.outcome,
            last_status=check.http_status,
        )
    )
    return bool(extended.rowcount)


def _new_span(check: LoggedCheck) -> dict[str, Any]:
    return {
        "article_id": check.article_id,
        "version_number": check.version_number,
        "first_at": check.at,
        "last_at": check.at,
        "checks": 1,
        "first_outcome": check.outcome,
        "last_outcome": check.outcome,
        "last_status": check.http_status,
    }


def spans_of(checks: Iterable[LoggedCheck]) -> Iterator[dict[str, Any]]:
    """The spans a log of checks makes, for checks ordered by article then time: what `log_checks` writes
    one check at a time, computed over a whole log (the migration converts existing rows with it)."""
    span: dict[str, Any] | None = None
    for check in checks:
        if check.outcome not in SUCCESS_OUTCOMES:
            continue
        if span is not None and span["article_id"] == check.article_id and check.version_number is None:
            span.update(last_at=check.at, last_outcome=check.outcome, last_status=check.http_status)
            span["checks"] += 1
            continue
        if span is not None:
            yield span
        span = _new_span(check)
    if span is not None:
        yield span


def prune(
    sessions: sessionmaker[Session], now: datetime, retention: CheckRetention, *, batch: int = 5000
) -> int:
    """Delete at most `batch` expired detailed rows of each kind, oldest first; returns how many went.

    Small batches keep the transaction short: the crawl calls this once a pass and the scheduler once a
    minute, so a backlog (the rows of a database just migrated to spans) drains over passes."""
    with sessions.begin() as session:
        return _prune(session, now, retention, batch)


def _prune(session: Session, now: datetime, retention: CheckRetention, batch: int) -> int:
    kinds = (
        (Check.outcome.in_(SUCCESS_OUTCOMES), now - retention.detail),
        (Check.outcome.not_in(SUCCESS_OUTCOMES), now - retention.errors),
    )
    deleted = 0
    for kind, cutoff in kinds:
        expired = select(Check.id).where(Check.at < cutoff, kind).order_by(Check.at).limit(batch)
        ids = list(session.scalars(expired))
        if ids:
            deleted += session.connection().execute(delete(Check).where(Check.id.in_(ids))).rowcount
    return deleted


# -- reading ------------------------------------------------------------------------------------------------


def last_seen_before(session: Session, article_id: int, moment: datetime) -> datetime | None:
    """The last check before `moment` that reached the page: until then the previous text was still there.

    Exact from the spans alone at the moment a check first saw a version (every version's `fetched_at`);
    inside a span, the detailed rows narrow it while they are kept, else the span's first check answers."""
    ended = session.scalar(
        select(func.max(CheckSpan.last_at)).where(
            CheckSpan.article_id == article_id, CheckSpan.last_at < moment
        )
    )
    within = session.scalar(
        select(func.max(CheckSpan.first_at)).where(
            CheckSpan.article_id == article_id, CheckSpan.first_at < moment, CheckSpan.last_at >= moment
        )
    )
    detailed = None
    if within is not None:
        detailed = session.scalar(
            select(func.max(Check.at)).where(
                Check.article_id == article_id, Check.at < moment, Check.outcome.in_(SUCCESS_OUTCOMES)
            )
        )
    known = [as_utc(found) for found in (ended, within, detailed) if found is not None]
    return max(known) if known else None  # type: ignore[type-var]


def flipflops(session: Session, article_id: int) -> list[Flipflop]:
    """Checks that found an older version's text again, oldest first (the crawler stores no new version)."""
    query = (
        select(CheckSpan.first_at, CheckSpan.version_number)
        .where(
            CheckSpan.article_id == article_id,
            CheckSpan.first_outcome == "flipflop",
            CheckSpan.version_number.is_not(None),
        )
        .order_by(CheckSpan.first_at, CheckSpan.id)
    )
    return [Flipflop(as_utc(at), number) for at, number in session.execute(query)]  # type: ignore[arg-type]


def flipflopping(session: Session, article_ids: Sequence[int]) -> set[int]:
    """Which of these articles ever flipped back to an older version's text: one query for a whole list."""
    if not article_ids:
        return set()
    query = select(CheckSpan.article_id).where(
        CheckSpan.article_id.in_(article_ids), CheckSpan.first_outcome == "flipflop"
    )
    return set(session.scalars(query.distinct()))


def flipflop_counts(session: Session) -> dict[int, int]:
    """Per article, how many checks found an older version's text again."""
    query = (
        select(CheckSpan.article_id, func.count())
        .where(CheckSpan.first_outcome == "flipflop")
        .group_by(CheckSpan.article_id)
    )
    return {article_id: count for article_id, count in session.execute(query)}


class CheckCounts(NamedTuple):
    checks: int
    errors: int

    @property
    def error_rate(self) -> float:
        return self.errors / self.checks if self.checks else 0.0


NO_CHECKS = CheckCounts(0, 0)


def counts_since(session: Session, since: datetime) -> dict[int, CheckCounts]:
    """Per source id: checks and failed checks since `since` (no further back than the detailed rows go)."""
    failed = func.count().filter(Check.outcome == "error")
    query = (
        select(Article.source_id, func.count(), failed)
        .join(Check, Check.article_id == Article.id)
        .where(Check.at >= since)
        .group_by(Article.source_id)
    )
    return {source_id: CheckCounts(checks, errors) for source_id, checks, errors in session.execute(query)}


def last_success_by_source(session: Session) -> Mapping[int, datetime]:
    """Per source id: when a check last reached one of its articles' pages."""
    query = (
        select(Article.source_id, func.max(CheckSpan.last_at))
        .join(CheckSpan, CheckSpan.article_id == Article.id)
        .group_by(Article.source_id)
    )
    return {source_id: as_utc(at) for source_id, at in session.execute(query)}  # type: ignore[misc]

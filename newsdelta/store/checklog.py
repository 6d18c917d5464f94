"""The check log: every reader and writer of `article_check`, `check_span` and `check_count` goes through here.

A row per check grows faster than the evidence, and most checks (unchanged, 304) tell nothing but "still the
same". So such a check adds no row: it extends its article's `check_span` in place (one row per run of
consecutive successful checks that saw the same version: first and last seen, how many checks, first and
last outcome) and adds one to its source's `check_count` for the hour and outcome. Checks that tell more (a
new version, a flip-flop, a re-read, a removal, an error or robots refusal, a note) also get an `article_check`
row, kept for a window (errors longer). A check that stores or returns to a version opens a span; every other
successful check extends the article's latest one. History (the reader's "changed between", flip-flops, a
source's last success) is read from the spans, the last day's counts (/health, `status`) from the counters,
so neither depends on which detailed rows are still kept.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Connection, case, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from newsdelta.store.models import Article, Check, CheckCount, CheckSpan

# Outcomes of checks that reached the page: until the next of them, the text they saw was still there.
SUCCESS_OUTCOMES = ("new_version", "unchanged", "not_modified", "flipflop", "reparsed", "gone")
# Outcomes whose checks, without a note, say no more than their span and counter: they get no detailed row.
SAME_AS_BEFORE = ("unchanged", "not_modified")
HEALTH_WINDOW = timedelta(days=1)


class RetentionTooShort(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class CheckRetention:
    """How long detailed rows are kept: successful checks' and the hourly counters `detail`, errors' and robots
    refusals' `errors`."""

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
    """Write checks (in time order) to their articles' spans, their sources' counters and, when they tell
    more than those, the detailed log."""
    if not checks:
        return
    detailed = [check._asdict() for check in checks if _tells_more(check)]
    if detailed:
        connection.execute(insert(Check), detailed)
    for check in checks:
        if check.outcome not in SUCCESS_OUTCOMES:
            continue
        if check.version_number is not None or not _extend_span(connection, check):
            connection.execute(insert(CheckSpan).values(_new_span(check)))
    _count(connection, checks)


def _tells_more(check: LoggedCheck) -> bool:
    return check.outcome not in SAME_AS_BEFORE or check.detail is not None


def hour_of(moment: datetime) -> int:
    """The counters' hour: whole hours since 1970-01-01 00:00 UTC."""
    return int(moment.timestamp() // 3600)


def _count(connection: Connection, checks: Sequence[LoggedCheck]) -> None:
    """Add the checks to their sources' hourly counters: one upsert per (hour, source, outcome) of the batch,
    in key order, so concurrent writers lock shared counters in the same order."""
    articles = {check.article_id for check in checks}
    query = select(Article.id, Article.source_id).where(Article.id.in_(articles))
    sources = {article_id: source_id for article_id, source_id in connection.execute(query)}
    tally = Counter(
        (hour_of(check.at), sources[check.article_id], check.outcome)
        for check in checks
        if check.article_id in sources
    )
    if not tally:
        return
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    upsert = dialect.insert(CheckCount)
    connection.execute(
        upsert.on_conflict_do_update(
            index_elements=[CheckCount.hour, CheckCount.source_id, CheckCount.outcome],
            set_={"checks": CheckCount.checks + upsert.excluded.checks},
        ),
        [
            {"hour": hour, "source_id": source_id, "outcome": outcome, "checks": count}
            for (hour, source_id, outcome), count in sorted(tally.items())
        ],
    )


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
    """Delete at most `batch` expired detailed rows of each kind, oldest first, and the counters of the hours
    before the window (a few rows per source and hour); returns how many detailed rows went.

    Small batches keep the transaction short: the crawl calls this once a pass and the scheduler once a
    minute, so a backlog (the rows of a database just migrated to spans) drains over passes."""
    with sessions.begin() as session:
        return _prune(session, now, retention, batch)


def _prune(session: Session, now: datetime, retention: CheckRetention, batch: int) -> int:
    kinds = (
        (Check.outcome.in_(SUCCESS_OUTCOMES), now - retention.detail),
        (Check.outcome.not_in(SUCCESS_OUTCOMES), now - retention.errors),
    )
    connection = session.connection()
    deleted = 0
    for kind, cutoff in kinds:
        expired = select(Check.id).where(Check.at < cutoff, kind).order_by(Check.at).limit(batch)
        ids = list(session.scalars(expired))
        if ids:
            deleted += connection.execute(delete(Check).where(Check.id.in_(ids))).rowcount
    # The hour the cutoff falls in stays: `counts_since` counts from the start of an hour.
    connection.execute(delete(CheckCount).where(CheckCount.hour < hour_of(now - retention.detail)))
    return deleted


# -- reading ------------------------------------------------------------------------------------------------


def last_seen_before(session: Session, article_id: int, moment: datetime) -> datetime | None:
    """The last check before `moment` that reached the page: until then the previous text was still there.

    Exact from the spans alone at the moment a check first saw a version (every version's `fetched_at`);
    inside a span, detailed rows still kept (unchanged checks logged before 0009) narrow it, else the span's
    first check answers."""
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
    """Per source id: checks and failed checks from the start of the hour `since` falls in (the counters' unit),
    no further back than the detail window."""
    failed = func.sum(case((CheckCount.outcome == "error", CheckCount.checks), else_=0))
    query = (
        select(CheckCount.source_id, func.sum(CheckCount.checks), failed)
        .where(CheckCount.hour >= hour_of(since))
        .group_by(CheckCount.source_id)
    )
    return {
        source_id: CheckCounts(int(checks), int(errors))
        for source_id, checks, errors in session.execute(query)
    }


def last_success_by_source(session: Session) -> Mapping[int, datetime]:
    """Per source id: when a check last reached one of its articles' pages."""
    query = (
        select(Article.source_id, func.max(CheckSpan.last_at))
        .join(CheckSpan, CheckSpan.article_id == Article.id)
        .group_by(Article.source_id)
    )
    return {source_id: as_utc(at) for source_id, at in session.execute(query)}  # type: ignore[misc]

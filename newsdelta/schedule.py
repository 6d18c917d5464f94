"""When to look again: named re-check policies for articles, a fixed period for feeds, a backoff for errors.

A policy keeps one number per article in `Article.check_period_seconds`, its own state: News Sniffer's backoff
keeps the current period, NewsDiffs' step table and the fixed period keep how long the article has gone unchanged
(grown by each unchanged check's wait, reset on change). Whatever the policy, a change signal from a feed or
sitemap brings a check forward (newsdelta.crawl.signals). Pick one with `--schedule` / NEWSDELTA_SCHEDULE.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


class Policy(Protocol):
    """What the crawl asks of a schedule; `initial` is a new article's state, `retire_after` shown to readers."""

    @property
    def name(self) -> str: ...
    @property
    def initial(self) -> timedelta: ...
    @property
    def retire_after(self) -> timedelta: ...
    def period_after(self, period: timedelta, *, changed: bool) -> timedelta: ...
    def next_check(self, now: datetime, period: timedelta) -> datetime | None: ...
    def error_delay(self, error_streak: int) -> timedelta: ...


@dataclass(frozen=True, slots=True)
class ErrorBackoff:
    """Doubling delay after consecutive errors, so a broken page never hot-loops; shared by every policy."""

    error_initial: timedelta = timedelta(minutes=5)
    error_max: timedelta = timedelta(hours=12)

    def error_delay(self, error_streak: int) -> timedelta:
        doublings: int = 2 ** min(max(error_streak - 1, 0), 32)
        delay = self.error_initial * doublings
        return min(delay, self.error_max)


@dataclass(frozen=True, slots=True)
class BackoffPolicy(ErrorBackoff):
    """Check soon after a change, then less and less often; give up once nothing changed for long.

    The defaults are News Sniffer's: first check at once, then every 30 minutes, the period growing ×1.2 after
    each unchanged check and resetting on change; once the period passes 40 days the article is retired.
    """

    name: str = "newssniffer"
    initial: timedelta = timedelta(minutes=30)
    growth: float = 1.2
    retire_after: timedelta = timedelta(days=40)

    def period_after(self, period: timedelta, *, changed: bool) -> timedelta:
        return self.initial if changed else period * self.growth

    def next_check(self, now: datetime, period: timedelta) -> datetime | None:
        """None means retired: the period has grown past `retire_after`."""
        return None if period > self.retire_after else now + period


# NewsDiffs' scraper (get_update_delay): the wait by time since the article last changed.
NEWSDIFFS_STEPS = (
    (3 * HOUR, timedelta(minutes=15)),
    (DAY, HOUR),
    (7 * DAY, 3 * HOUR),
    (30 * DAY, 3 * DAY),
    (360 * DAY, 30 * DAY),
)


@dataclass(frozen=True, slots=True)
class QuietPolicy(ErrorBackoff):
    """The wait depends on how long the article has been quiet (the state); retired once quiet that long.

    `steps` are (quiet for less than, wait) in increasing order; the default is NewsDiffs' table.
    """

    name: str = "newsdiffs"
    steps: tuple[tuple[timedelta, timedelta], ...] = NEWSDIFFS_STEPS
    initial: timedelta = timedelta(0)

    @property
    def retire_after(self) -> timedelta:
        return self.steps[-1][0]

    def wait(self, quiet: timedelta) -> timedelta | None:
        return next((wait for under, wait in self.steps if quiet < under), None)

    def period_after(self, period: timedelta, *, changed: bool) -> timedelta:
        """The quiet time after a check: none after a change, else grown by the wait just spent."""
        return timedelta(0) if changed else period + (self.wait(period) or timedelta(0))

    def next_check(self, now: datetime, period: timedelta) -> datetime | None:
        wait = self.wait(period)
        return None if wait is None else now + wait


def fixed_policy(
    period: timedelta = timedelta(minutes=30), retire_after: timedelta = 40 * DAY
) -> QuietPolicy:
    """The same wait until the article has been quiet for `retire_after`."""
    return QuietPolicy(name="fixed", steps=((retire_after, period),))


POLICY_NAMES = ("newssniffer", "newsdiffs", "fixed")


class UnknownSchedule(ValueError):
    """A schedule name (--schedule, NEWSDELTA_SCHEDULE) that names no policy."""


def policy_named(
    name: str,
    *,
    first: timedelta | None = None,
    growth: float | None = None,
    retire_after: timedelta | None = None,
) -> Policy:
    """A policy by name; `first` is News Sniffer's first period or the fixed period."""
    if name == "newssniffer":
        default = BackoffPolicy()
        return BackoffPolicy(
            initial=first or default.initial,
            growth=growth or default.growth,
            retire_after=retire_after or default.retire_after,
        )
    if name == "newsdiffs":
        return QuietPolicy()
    if name == "fixed":
        return fixed_policy(first or timedelta(minutes=30), retire_after or 40 * DAY)
    raise UnknownSchedule(f"unknown schedule {name!r}; choose one of {', '.join(POLICY_NAMES)}")


class ScheduledArticle(Protocol):
    """The article columns that say why its next check is when it is (an `Article` row has them)."""

    next_check_at: datetime | None
    planned_check_at: datetime | None
    signal_at: datetime | None
    signal_origin: str | None
    last_checked_at: datetime | None
    error_streak: int
    check_period_seconds: float


@dataclass(frozen=True, slots=True)
class NextCheckReason:
    """`kind`: new, signal, error, backoff or retired; `detail` says it in a sentence for readers."""

    kind: str
    detail: str


def next_check_reason(article: ScheduledArticle, policy: Policy) -> NextCheckReason:
    """Why the article's next check is when it is: what `history --json` and the article page show."""
    state = timedelta(seconds=article.check_period_seconds)
    signal = article.signal_at
    if article.planned_check_at is not None or (
        signal is not None and article.last_checked_at is not None and signal > article.last_checked_at
    ):
        teller = "its feed's WebSub hub" if article.signal_origin == "websub" else "a feed or sitemap"
        return NextCheckReason("signal", f"{teller} says it changed at {signal:%Y-%m-%d %H:%M} UTC")
    if article.next_check_at is None:
        return NextCheckReason("retired", f"unchanged for longer than the {policy.name} schedule checks")
    if article.last_checked_at is None:
        return NextCheckReason("new", "newly found: checked at once")
    if article.error_streak:
        return NextCheckReason("error", f"waiting after {article.error_streak} failed check(s) in a row")
    if isinstance(policy, BackoffPolicy):
        return NextCheckReason("backoff", f"{policy.name} schedule: every {_span(state)} for now")
    return NextCheckReason("backoff", f"{policy.name} schedule: unchanged for {_span(state)}")


def _span(span: timedelta) -> str:
    minutes = span.total_seconds() / 60
    if minutes < 120:
        return f"{minutes:.0f} min"
    return f"{minutes / 60:.1f} h" if minutes < 2880 else f"{minutes / 1440:.1f} days"

"""When to look again: News Sniffer's backoff for articles, a fixed period for feeds, a backoff for errors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """Check soon after a change, then less and less often; give up once nothing changed for long.

    The defaults are News Sniffer's: first check at once, then every 30 minutes, the period growing ×1.2 after
    each unchanged check and resetting on change; once the period passes 40 days the article is retired.
    """

    initial: timedelta = timedelta(minutes=30)
    growth: float = 1.2
    retire_after: timedelta = timedelta(days=40)
    error_initial: timedelta = timedelta(minutes=5)
    error_max: timedelta = timedelta(hours=12)

    def period_after(self, period: timedelta, *, changed: bool) -> timedelta:
        return self.initial if changed else period * self.growth

    def next_check(self, now: datetime, period: timedelta) -> datetime | None:
        """None means retired: the period has grown past `retire_after`."""
        return None if period > self.retire_after else now + period

    def error_delay(self, error_streak: int) -> timedelta:
        """Doubling delay after consecutive errors, so a broken page never hot-loops."""
        delay = self.error_initial * (2 ** min(max(error_streak - 1, 0), 32))
        return min(delay, self.error_max)

"""Times as readers say them ("about 9 hours later"), with the exact UTC time always one hover away.

The wording follows Rails' distance_of_time_in_words, which News Sniffer's pages used, so old links and
screenshots read the same.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR
MONTH = 30 * DAY
YEAR = 365 * DAY


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def distance(delta: timedelta) -> str:
    seconds = abs(delta.total_seconds())
    minutes = round(seconds / MINUTE)
    if seconds < 30:
        return "less than a minute"
    if minutes < 45:
        return _plural(max(minutes, 1), "minute")
    if minutes < 90:
        return "about 1 hour"
    if seconds < DAY - 30:
        return f"about {round(seconds / HOUR)} hours"
    if seconds < 42 * HOUR:
        return "1 day"
    if seconds < MONTH - 30:
        return _plural(round(seconds / DAY), "day")
    if seconds < 45 * DAY:
        return "about 1 month"
    if seconds < 60 * DAY:
        return "about 2 months"
    if seconds < YEAR:
        return _plural(round(seconds / MONTH), "month")
    years, rest = divmod(seconds, YEAR)
    if rest < 3 * MONTH:
        return f"about {_plural(int(years), 'year')}"
    if rest < 9 * MONTH:
        return f"over {_plural(int(years), 'year')}"
    return f"almost {_plural(int(years) + 1, 'year')}"


def ago(moment: datetime, now: datetime) -> str:
    return f"{distance(now - moment)} ago"


def later(earlier: datetime, moment: datetime) -> str:
    return f"{distance(moment - earlier)} later"


def utc(moment: datetime | None, zone: tzinfo | None = None) -> str:
    """A full timestamp, in UTC unless the reader chose a `zone`; callers decide what to say when there is
    none (never an empty date)."""
    if moment is None:
        return ""
    if zone is None:
        return moment.strftime("%-d %B %Y, %H:%M UTC")
    return moment.astimezone(zone).strftime("%-d %B %Y, %H:%M %Z")


def iso(moment: datetime | None) -> str:
    return "" if moment is None else moment.isoformat(timespec="seconds").replace("+00:00", "Z")

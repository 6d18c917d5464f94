"""Retry-After, read defensively: the header is written by servers we do not control.

A value is delta-seconds or an HTTP date (RFC 9110 §10.2.3). Whatever it says, the wait is clamped to
[0, MAX_RETRY_AFTER]: "999999999999999999999999" or a date in year 9999 must neither overflow the scheduler's
date arithmetic nor park an article forever. Anything unreadable is ignored (None), never raised.
"""

from __future__ import annotations

import email.utils
import re
from datetime import UTC, datetime

# One day: long enough to honour any real outage or rate limit, short enough that no article is lost.
MAX_RETRY_AFTER = 24 * 3600.0
_DELTA_SECONDS = re.compile(r"[0-9]+")  # ASCII digits only: str.isdigit() accepts "²", which float() rejects


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait, within [0, MAX_RETRY_AFTER]; None when the header is absent or unreadable."""
    value = (value or "").strip()
    if not value:
        return None
    if _DELTA_SECONDS.fullmatch(value):
        return min(float(value), MAX_RETRY_AFTER)  # a huge number is inf, never an error
    try:
        when = email.utils.parsedate_to_datetime(value)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
    return min(MAX_RETRY_AFTER, max(0.0, seconds))

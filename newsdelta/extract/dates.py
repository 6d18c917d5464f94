"""Reading the many ways outlets write a date into one timezone-aware UTC datetime.

Pages write dates as ISO strings, "2010/06/06 13:48:45", "Friday 20 March 2015 17.38 GMT", "22nd October 2014,
08:56:26" or epoch milliseconds; a date without a zone is in the outlet's own zone, never the server's.
A page that states no date in its structured data gets htmldate's reading of it (URL, markup, text), then
the first `<time datetime>` of its own markup. `parse_date` reads machine-written values (structured data,
`datetime` attributes), which outlets in every language write as ISO or English; dates written in a page's
own language are htmldate's to read.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

from dateutil import parser as dateutil_parser
from htmldate import find_date

logging.getLogger("htmldate").setLevel(logging.WARNING)

# Zone abbreviations outlets print; dateutil does not know them and would otherwise drop them silently.
_ZONES = {
    "UTC": UTC,
    "GMT": UTC,
    "BST": timezone(timedelta(hours=1)),
    "CET": timezone(timedelta(hours=1)),
    "CEST": timezone(timedelta(hours=2)),
    "EST": timezone(timedelta(hours=-5)),
    "EDT": timezone(timedelta(hours=-4)),
    "MSK": timezone(timedelta(hours=3)),
}
_EPOCH_SECONDS = re.compile(r"^\d{9,10}$")
_EPOCH_MILLIS = re.compile(r"^\d{12,13}$")
# "2014-01-18T05:43-500": a three-digit offset the Washington Post writes for -05:00.
_SHORT_OFFSET = re.compile(r"([+-])(\d{3})$")
# An ISO timestamp inside other text (The Intercept wraps its meta date in escaped HTML).
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?")
# "17.38" is the Guardian's way of writing 17:38.
_DOTTED_TIME = re.compile(r"\b(\d{1,2})\.(\d{2})\b(?!\.\d)")


def parse_date(text: str | None, default_tz: tzinfo = UTC) -> datetime | None:
    """The instant the text names, in UTC; None when it names no date (never guesses today's date)."""
    if not text or not (text := text.strip()):
        return None
    if _EPOCH_SECONDS.match(text):
        return datetime.fromtimestamp(int(text), tz=UTC)
    if _EPOCH_MILLIS.match(text):
        return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
    text = _SHORT_OFFSET.sub(r"\g<1>0\2", text)
    if iso := _ISO.search(text):
        text = iso.group()
    cleaned = _DOTTED_TIME.sub(r"\1:\2", text.replace("Sept.", "Sep."))
    try:
        parsed: datetime = dateutil_parser.parse(cleaned, fuzzy=True, tzinfos=_ZONES, default=_NO_DAY)
    except (ValueError, OverflowError):
        return None
    if parsed.year == _NO_DAY.year:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=default_tz)
    moment: datetime = parsed.astimezone(UTC)
    return moment


# A sentinel default: a text that yields no year is not a date.
_NO_DAY = datetime(1, 1, 1)
# Before the web's first news sites: a CMS placeholder ("0001-01-01T00:00:00Z"), not a publication date.
EARLIEST_PLAUSIBLE = datetime(1990, 1, 1, tzinfo=UTC)


def plausible(moment: datetime | None) -> datetime | None:
    """The datetime, unless it is a placeholder from before the web."""
    return moment if moment is not None and moment >= EARLIEST_PLAUSIBLE else None


def guess_published(tree: Any, url: str | None = None) -> datetime | None:
    """The publication day htmldate reads off a page with no stated date (its URL, markup, text), else the
    first `<time datetime>`. htmldate gives a day: it is stored as that day's midnight UTC."""
    today = datetime.now(UTC).date().isoformat()
    day = find_date(tree, extensive_search=True, original_date=True, url=url, max_date=today)
    if day:
        return plausible(datetime.fromisoformat(day).replace(tzinfo=UTC))
    return next(filter(None, (plausible(parse_date(t.get("datetime"))) for t in tree.iter("time"))), None)

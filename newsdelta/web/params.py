"""The site's path and query parameters, typed once with the bounds the store can take.

Anything outside them is a 422 (a readable page, or FastAPI's error shape under /api/) instead of reaching
the database: an id past PostgreSQL's 32-bit INTEGER columns is an error there (past 64 bits, in SQLite's
driver too), a NUL byte is refused by PostgreSQL and by XML, and a time that cannot be expressed in UTC
overflows Python's datetime.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator

# Ids and version numbers are INTEGER columns: 32 bits on PostgreSQL, the narrower backend.
MAX_ID = 2**31 - 1
# Printable text: no C0 control characters (tab, newline and carriage return aside) and no DEL.
PRINTABLE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
# What the HTML error page says instead of pydantic's message, which quotes the regex above.
READABLE_ERRORS = {"string_pattern_mismatch": "control characters are not allowed"}

ArticleId = Annotated[int, Path(ge=1, le=MAX_ID, description="The article's id")]
FeedId = Annotated[int, Path(ge=1, le=MAX_ID, description="The feed's id")]
VersionNumber = Annotated[int, Path(ge=0, le=MAX_ID, description="0-based version number")]
SourcePath = Annotated[str, Path(max_length=64, pattern=PRINTABLE, description="The source's name")]
SourceQuery = Annotated[str | None, Query(max_length=64, pattern=PRINTABLE, description="Only this source")]
SearchText = Annotated[str, Query(max_length=200, pattern=PRINTABLE, description="Words to find")]


def as_utc(moment: datetime) -> datetime:
    """A time without an offset is read as UTC; one too early (or late) to express in UTC is clamped to the
    earliest (latest) UTC time, which selects the same rows."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        extreme = datetime.min if moment.year == datetime.min.year else datetime.max
        return extreme.replace(tzinfo=UTC)


UtcTime = Annotated[datetime, AfterValidator(as_utc)]

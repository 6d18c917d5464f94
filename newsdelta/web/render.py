"""The Jinja2 environment: autoescaping templates and the few filters they need."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, available_timezones

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from newsdelta.diff import render_spans_html
from newsdelta.vocabulary import ArticleState, Origin
from newsdelta.web import humanize
from newsdelta.web.deps import page_url, site_url


def highlight(text: str, terms: Sequence[str]) -> Markup:
    """Escape `text` and wrap the search words in <mark>."""
    if not terms:
        return escape(text)
    pattern = re.compile("|".join(re.escape(term) for term in terms), re.IGNORECASE)
    out: list[Markup] = []
    last = 0
    for match in pattern.finditer(text):
        out += [escape(text[last : match.start()]), Markup("<mark>%s</mark>") % match.group()]
        last = match.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


def outbound(url: str | None) -> str:
    """An href for a stored URL: only http(s), so a `javascript:` URL that slipped into the store cannot run."""
    return url if url and url.lower().startswith(("https://", "http://")) else "#"


# The reader's time zone, an IANA name set by the control on /time-zone; UTC without it.
ZONE_COOKIE = "tz"


def reader_zone(request: Request) -> ZoneInfo | None:
    """The zone the reader chose, or None for UTC (also for a name this machine's tz database lacks)."""
    name = request.cookies.get(ZONE_COOKIE, "")
    return ZoneInfo(name) if name in _KNOWN_ZONES else None


_KNOWN_ZONES = frozenset(available_timezones())
ZONES = sorted(_KNOWN_ZONES)


@pass_context
def clock(context: Context, moment: datetime | None) -> str:
    """A full timestamp in the reader's zone (UTC by default): the `utc` filter of every template."""
    return humanize.utc(moment, reader_zone(context["request"]))


@pass_context
def when(context: Context, moment: datetime | None, now: datetime | None = None) -> Markup:
    """A <time> element: "N minutes ago" within a day, the date otherwise; the full time on hover."""
    if moment is None:
        return Markup("unknown")
    now = now or datetime.now(UTC)
    recent = abs((now - moment).total_seconds()) < humanize.DAY
    full = clock(context, moment)
    label = humanize.ago(moment, now) if recent else full
    return Markup('<time datetime="%s" title="%s">%s</time>') % (humanize.iso(moment), full, label)


templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.filters.update(
    {
        "utc": clock,
        "iso": humanize.iso,
        "when": when,
        "highlight": highlight,
        "outbound": outbound,
        "spans": render_spans_html,
    }
)
templates.env.globals.update(
    {
        "later": humanize.later,
        "ArticleState": ArticleState,
        "Origin": Origin,
        "origin_labels": {origin: origin.label for origin in Origin},
        "page_url": page_url,
        "reader_zone": reader_zone,
        "site_url": site_url,
    }
)

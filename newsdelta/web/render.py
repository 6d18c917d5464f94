"""The Jinja2 environment: autoescaping templates and the few filters they need."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from newsdelta.diff import render_spans_html
from newsdelta.web import humanize
from newsdelta.web.deps import page_url, site_url

ORIGIN_LABELS = {
    "fetch": "",
    "reparse": "re-read by a newer parser (not an edit by the outlet)",
    "removed": "the page was removed",
}


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


def when(moment: datetime | None, now: datetime | None = None) -> Markup:
    """A <time> element: "N minutes ago" within a day, the UTC date otherwise; full UTC time on hover."""
    if moment is None:
        return Markup("unknown")
    now = now or datetime.now(UTC)
    recent = abs((now - moment).total_seconds()) < humanize.DAY
    label = humanize.ago(moment, now) if recent else humanize.utc(moment)
    return Markup('<time datetime="%s" title="%s">%s</time>') % (
        humanize.iso(moment),
        humanize.utc(moment),
        label,
    )


templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.filters.update(
    {
        "utc": humanize.utc,
        "iso": humanize.iso,
        "when": when,
        "highlight": highlight,
        "outbound": outbound,
        "spans": render_spans_html,
    }
)
templates.env.globals.update({"later": humanize.later, "origin_labels": ORIGIN_LABELS, "page_url": page_url, "site_url": site_url})

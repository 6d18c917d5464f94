"""Spans to HTML. Article text is hostile input: every character of it goes through markupsafe.escape."""

from __future__ import annotations

from collections.abc import Iterable

from markupsafe import Markup, escape

from newsdelta.diff.model import Side, Span, side_spans

_TAGS = {"delete": "del", "insert": "ins"}


def render_spans_html(spans: Iterable[Span], side: Side = "both") -> Markup:
    """Escaped HTML of one column ("old", "new") or of the inline view ("both"), edits in <del>/<ins>."""
    parts = []
    for span in side_spans(spans, side):
        text = escape(span.text)
        tag = _TAGS.get(span.op)
        parts.append(text if tag is None else Markup(f"<{tag}>{text}</{tag}>"))
    return Markup("").join(parts)

"""The diff engine: what changed between two versions, aligned by paragraph, then by word.

Pure functions over text in, frozen values out (see `model`), so the web pages, feeds and API render
the same diff and can cache it.
"""

from newsdelta.diff.html import render_spans_html
from newsdelta.diff.model import (
    Counts,
    FieldChange,
    Row,
    RowKind,
    Side,
    Span,
    VersionDiff,
    VersionText,
    side_spans,
    side_text,
)
from newsdelta.diff.paragraphs import diff_paragraphs
from newsdelta.diff.versions import diff_versions
from newsdelta.diff.words import diff_words

__all__ = [
    "Counts",
    "FieldChange",
    "Row",
    "RowKind",
    "Side",
    "Span",
    "VersionDiff",
    "VersionText",
    "diff_paragraphs",
    "diff_versions",
    "diff_words",
    "render_spans_html",
    "side_spans",
    "side_text",
]

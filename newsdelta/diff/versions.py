"""The diff of two whole versions: headline, metadata and body, with counts for summaries."""

from __future__ import annotations

from collections import Counter

from newsdelta.diff.model import Counts, FieldChange, FieldValue, Row, VersionDiff, VersionText
from newsdelta.diff.paragraphs import diff_paragraphs
from newsdelta.diff.words import diff_words


def diff_versions(old: VersionText, new: VersionText) -> VersionDiff:
    rows = tuple(diff_paragraphs(old.paragraphs, new.paragraphs))
    return VersionDiff(
        title_spans=None if old.title == new.title else tuple(diff_words(old.title, new.title)),
        byline=_field_change(old.byline, new.byline),
        published=_field_change(old.published, new.published),
        updated=_field_change(old.updated, new.updated),
        rows=rows,
        counts=count_rows(rows),
        standfirst_spans=None
        if old.standfirst == new.standfirst
        else tuple(diff_words(old.standfirst, new.standfirst)),
    )


def count_rows(rows: tuple[Row, ...]) -> Counts:
    """Paragraph tallies; a move is counted once, at the row where the paragraph left."""
    kinds = Counter(
        "moved" if row.moved_to is not None else row.kind for row in rows if row.moved_from is None
    )
    return Counts(
        equal=kinds["equal"],
        changed=kinds["changed"],
        inserted=kinds["inserted"],
        deleted=kinds["deleted"],
        moved=kinds["moved"],
    )


def _field_change(old: FieldValue, new: FieldValue) -> FieldChange | None:
    return None if old == new else FieldChange(old, new)

"""Stored versions into the diff engine, and the diff into what the diff page shows.

Versions never change once stored, so a diff between two of them is cached by their ids: the 50-version live
blog's pages and feeds diff each pair once, not on every request.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from newsdelta.diff import Row, Span, VersionDiff, VersionText, diff_versions, side_text
from newsdelta.diff.model import Counts, Op, summary_line
from newsdelta.store.models import Version
from newsdelta.store.queries import StoredComparison, stored_comparisons, versions_by_number


class DiffCache:
    """A thread-safe LRU of diffs keyed by (old version id, new version id), bounded by the memory they hold.

    A count of entries bounds nothing: one pair of long live blogs makes a diff of tens of megabytes. Each
    diff's size is estimated when it is stored; the least recently used ones go once the total passes
    `max_bytes`, and a diff larger than that on its own is computed for its request but not kept.
    """

    def __init__(self, max_bytes: int = 64 * 2**20) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._items: OrderedDict[tuple[int, int], tuple[VersionDiff, int]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def diff(self, old: Version, new: Version) -> VersionDiff:
        key = (old.id, new.id)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key][0]
        result = diff_versions(version_text(old), version_text(new))
        size = diff_size(result)
        if size > self.max_bytes:
            return result
        with self._lock:
            if key not in self._items:
                self._items[key] = (result, size)
                self.bytes += size
            while self.bytes > self.max_bytes:
                _, (_, evicted) = self._items.popitem(last=False)
                self.bytes -= evicted
        return result


def diff_size(diff: VersionDiff) -> int:
    """Bytes the diff holds, near enough: its rows, spans and their strings (what grows with the text)."""
    spans = [
        *(diff.title_spans or ()),
        *(diff.standfirst_spans or ()),
        *(span for row in diff.rows for span in row.spans),
    ]
    return (
        sys.getsizeof(diff)
        + sys.getsizeof(diff.rows)
        + sum(sys.getsizeof(row) + sys.getsizeof(row.spans) for row in diff.rows)
        + sum(sys.getsizeof(span) + sys.getsizeof(span.text) for span in spans)
    )


def version_text(version: Version) -> VersionText:
    return VersionText(
        title=version.title,
        standfirst=version.standfirst or "",
        paragraphs=tuple(version.paragraphs),
        byline=version.byline,
        published=version.published,
        updated=version.updated,
    )


@dataclass(frozen=True, slots=True)
class ChangeNote:
    """What one new version changed, in a line: the lists, the feeds and the article's history all say it."""

    summary: str
    old_title: str | None  # both set only when the headline changed
    new_title: str | None
    words: int  # words deleted plus words inserted: the size of the change
    keys: tuple[KeyChange, ...] = ()  # the first few key changes, for feed items

    @property
    def title_changed(self) -> bool:
        return self.new_title is not None


# Key changes a feed item shows: enough to tell what changed without opening the diff.
FEED_KEYS = 5
FIRST_VERSION = ChangeNote("First version seen", None, None, 0)


def change_words(diff: VersionDiff) -> int:
    """Words deleted and inserted in the body, a paragraph moved whole counting as none."""
    return sum(
        len(span.text.split())
        for row in diff.rows
        if row.kind != "moved"
        for span in row.spans
        if span.op != "equal"
    )


def describe(
    db: Session, diffs: DiffCache, changes: Iterable[tuple[int, int]], *, with_keys: bool = False
) -> dict[tuple[int, int], ChangeNote]:
    """A ChangeNote per (article id, number) of `changes`, against its predecessor.

    Lists take it from the comparison stored with the version (newsdelta.changes: counts in sentences), so a
    50-version live blog's history needs no diff at all; versions without one, and feed items, which show the
    key changes' words (`with_keys`), are diffed (cached)."""
    wanted = dict.fromkeys(changes)  # in order, once: an article's latest change may also be in its period
    versions = versions_by_number(
        db, [(a, n) for a, number in wanted if number for n in (number - 1, number)]
    )
    stored = (
        {} if with_keys else stored_comparisons(db, [versions[key].id for key in wanted if key in versions])
    )
    notes = {}
    for key in wanted:
        article_id, number = key
        old = versions.get((article_id, number - 1))
        if number == 0 or old is None or key not in versions:
            notes[key] = FIRST_VERSION
            continue
        new = versions[key]
        comparison = stored.get(new.id)
        if comparison is not None and comparison.previous_number == old.number:
            notes[key] = stored_note(old, new, comparison)
            continue
        result = diffs.diff(old, new)
        keys = tuple(key_changes(result.rows, limit=FEED_KEYS)) if with_keys else ()
        notes[key] = ChangeNote(
            result.summary(),
            old.title if result.title_changed else None,
            new.title if result.title_changed else None,
            change_words(result),
            keys,
        )
    return notes


# Kinds of change (newsdelta.changes) that are a field of the version, as the summary line names them.
FIELD_CLAUSES = (
    ("byline", "byline changed"),
    ("published_date", "publication date changed"),
    ("updated_date", "update time changed"),
)


def stored_note(old: Version, new: Version, comparison: StoredComparison) -> ChangeNote:
    titled = old.title != new.title and new.origin != "removed"
    clauses = ["Headline changed"] if titled else []
    clauses += [clause for kind, clause in FIELD_CLAUSES if kind in comparison.kinds]
    counts = Counts(
        changed=comparison.edits,
        inserted=comparison.additions,
        deleted=comparison.deletions,
        moved=comparison.refactors,
    )
    return ChangeNote(
        summary_line(clauses, counts, "sentence"),
        old.title if titled else None,
        new.title if titled else None,
        comparison.size_words,
    )


@dataclass(frozen=True, slots=True)
class Fold:
    """A run of unchanged paragraphs folded away in "changes only" mode, kept to be opened in place."""

    rows: tuple[Row, ...]
    kind: str = "fold"

    @property
    def count(self) -> int:
        return len(self.rows)


def changes_only(rows: tuple[Row, ...], context: int = 1) -> Iterator[Row | Fold]:
    """Rows with runs of equal paragraphs folded, keeping `context` paragraphs either side of a change."""
    keep = [row.kind != "equal" for row in rows]
    near = [
        any(keep[j] for j in range(max(i - context, 0), min(i + context + 1, len(rows))))
        for i in range(len(rows))
    ]
    folded: list[Row] = []
    for row, shown in zip(rows, near, strict=True):
        if shown:
            if folded:
                yield Fold(tuple(folded))
                folded = []
            yield row
        else:
            folded.append(row)
    if folded:
        yield Fold(tuple(folded))


# Diffs of more paragraphs than this open on "changes only": a live blog's two edits are not lost in its text.
LONG_ARTICLE_PARAGRAPHS = 40


def default_changes(rows: tuple[Row, ...]) -> Literal["all", "only"]:
    return "only" if len(rows) > LONG_ARTICLE_PARAGRAPHS else "all"


@dataclass(frozen=True, slots=True)
class KeyChange:
    """One line of the "key changes" digest above a diff (and in feed items), linking to its row (`anchor`):
    the removed or added text, or an edited paragraph's deleted and inserted words in a little context."""

    label: str
    anchor: str
    spans: tuple[Span, ...]


# Unchanged words kept either side of an edit in the digest: enough to find the place, not the paragraph.
CONTEXT_WORDS = 3


def _clip(op: Op, text: str, limit: int = 200) -> Span:
    return Span(op, text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …")


def _context(text: str, before: bool, after: bool) -> str:
    """Unchanged text between edits, cut to CONTEXT_WORDS words on each side that touches one."""
    words = text.split()
    if len(words) <= CONTEXT_WORDS * (before + after) + 1:
        return text
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()) :]
    head = lead + " ".join(words[:CONTEXT_WORDS]) + " …" if before else "…"
    tail = " " + " ".join(words[-CONTEXT_WORDS:]) + trail if after else ""
    return head + tail


def _edits(row: Row) -> tuple[Span, ...]:
    """An edited row's deleted and inserted words with a little unchanged text around them."""
    last = len(row.spans) - 1
    return tuple(
        _clip(span.op, span.text)
        if span.op != "equal"
        else Span("equal", _context(span.text, before=index > 0, after=index < last))
        for index, span in enumerate(row.spans)
    )


def key_changes(rows: Iterable[Row], limit: int = 12) -> list[KeyChange]:
    """Removed, added and edited paragraphs in text order, the first `limit` of them (moves are not edits)."""
    found = []
    for row in rows:
        if row.kind == "deleted" and row.old_index is not None:
            text = side_text(row.spans, "old")
            found.append(KeyChange("Removed", f"o{row.old_index + 1}", (_clip("delete", text),)))
        elif row.kind == "inserted" and row.new_index is not None:
            text = side_text(row.spans, "new")
            found.append(KeyChange("Added", f"p{row.new_index + 1}", (_clip("insert", text),)))
        elif row.kind == "changed" and row.new_index is not None:
            found.append(KeyChange("Edited", f"p{row.new_index + 1}", _edits(row)))
        if len(found) == limit:
            break
    return found


@dataclass(frozen=True, slots=True)
class SideRow:
    """One line of the side-by-side table: what the left (old) and right (new) cells show.

    A deleted or inserted paragraph has a row of its own with an empty cell opposite: laying an unrelated
    deletion beside an insertion would tell the reader one replaced the other, which the diff did not find.
    """

    kind: str
    old: Row | None
    new: Row | None


def side_by_side(rows: Sequence[Row | Fold]) -> Iterator[SideRow | Fold]:
    for row in rows:
        if isinstance(row, Fold):
            yield row
        else:
            old = row if row.old_index is not None else None
            yield SideRow(row.kind, old, row if row.new_index is not None else None)

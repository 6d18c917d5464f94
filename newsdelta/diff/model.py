"""The diff engine's output: small frozen values that templates, feeds and the JSON API read directly.

A diff is a list of spans (word level) inside a list of rows (paragraph level). Spans keep every character
of both texts, so joining a side's spans gives that side back exactly: the page can show the evidence
verbatim, never a paraphrase of it. The `...Out` TypedDicts are their JSON, which the API's schema reuses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

# pydantic (the API's schema) reads TypedDicts only from typing_extensions before Python 3.12.
from typing_extensions import TypedDict

Op = Literal["equal", "delete", "insert"]
Side = Literal["old", "new", "both"]
RowKind = Literal["equal", "changed", "inserted", "deleted", "moved"]

# Which span operations belong to which side: the old text is its equalities and deletions.
_SIDE_OPS: dict[Side, frozenset[Op]] = {
    "old": frozenset({"equal", "delete"}),
    "new": frozenset({"equal", "insert"}),
    "both": frozenset({"equal", "delete", "insert"}),
}


class SpanOut(TypedDict):
    op: Op
    text: str


class RowOut(TypedDict):
    kind: RowKind
    old_index: int | None
    new_index: int | None
    moved_from: int | None
    moved_to: int | None
    spans: list[SpanOut]
    old_spans: list[SpanOut]
    new_spans: list[SpanOut]


class CountsOut(TypedDict):
    equal: int
    changed: int
    inserted: int
    deleted: int
    moved: int


class FieldChangeOut(TypedDict):
    old: str | None
    new: str | None


class VersionDiffOut(TypedDict):
    title_spans: list[SpanOut] | None
    standfirst_spans: list[SpanOut] | None
    byline: FieldChangeOut | None
    published: FieldChangeOut | None
    updated: FieldChangeOut | None
    rows: list[RowOut]
    counts: CountsOut
    summary: str


@dataclass(frozen=True, slots=True)
class Span:
    """A run of text that is unchanged, removed from the old text, or added in the new one."""

    op: Op
    text: str

    def to_dict(self) -> SpanOut:
        return {"op": self.op, "text": self.text}


def side_spans(spans: Iterable[Span], side: Side) -> tuple[Span, ...]:
    """The spans one column shows: old = equal + delete, new = equal + insert, both = everything."""
    ops = _SIDE_OPS[side]
    return tuple(span for span in spans if span.op in ops)


def side_text(spans: Iterable[Span], side: Literal["old", "new"]) -> str:
    """One side's text, exactly as it was: the round-trip guarantee of every diff here."""
    return "".join(span.text for span in side_spans(spans, side))


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the side-by-side view.

    `spans` is the merged word diff (what the inline view shows). A moved paragraph gets two rows: one
    where it left (`old_index`, `moved_to`) and one where it arrived (`new_index`, `moved_from`), so each
    column stays in its version's order; both carry the word diff between the two places.
    """

    kind: RowKind
    old_index: int | None
    new_index: int | None
    spans: tuple[Span, ...]
    moved_from: int | None = None
    moved_to: int | None = None

    @property
    def old_spans(self) -> tuple[Span, ...]:
        return side_spans(self.spans, "old") if self.old_index is not None else ()

    @property
    def new_spans(self) -> tuple[Span, ...]:
        return side_spans(self.spans, "new") if self.new_index is not None else ()

    def to_dict(self) -> RowOut:
        return {
            "kind": self.kind,
            "old_index": self.old_index,
            "new_index": self.new_index,
            "moved_from": self.moved_from,
            "moved_to": self.moved_to,
            "spans": [span.to_dict() for span in self.spans],
            "old_spans": [span.to_dict() for span in self.old_spans],
            "new_spans": [span.to_dict() for span in self.new_spans],
        }


@dataclass(frozen=True, slots=True)
class Counts:
    """Paragraphs per kind of change; `moved` counts paragraphs, not rows (a move has two rows)."""

    equal: int = 0
    changed: int = 0
    inserted: int = 0
    deleted: int = 0
    moved: int = 0

    def to_dict(self) -> CountsOut:
        return {
            "equal": self.equal,
            "changed": self.changed,
            "inserted": self.inserted,
            "deleted": self.deleted,
            "moved": self.moved,
        }


@dataclass(frozen=True, slots=True)
class VersionText:
    """What the diff needs from a stored version; the store's rows map onto it field by field."""

    title: str
    paragraphs: tuple[str, ...]
    byline: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    standfirst: str = ""


FieldValue = str | datetime | None


def _field_json(value: FieldValue) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


@dataclass(frozen=True, slots=True)
class FieldChange:
    """A metadata field (byline, a date) that differs between the versions; None means absent."""

    old: FieldValue
    new: FieldValue

    def to_dict(self) -> FieldChangeOut:
        return {"old": _field_json(self.old), "new": _field_json(self.new)}


@dataclass(frozen=True, slots=True)
class VersionDiff:
    """Everything a diff page, a feed item or the API needs about the change from one version to the next."""

    title_spans: tuple[Span, ...] | None
    byline: FieldChange | None
    published: FieldChange | None
    updated: FieldChange | None
    rows: tuple[Row, ...]
    counts: Counts
    standfirst_spans: tuple[Span, ...] | None = None  # like the headline's: None when it did not change

    @property
    def title_changed(self) -> bool:
        return self.title_spans is not None

    @property
    def standfirst_changed(self) -> bool:
        return self.standfirst_spans is not None

    @property
    def body_changed(self) -> bool:
        counts = self.counts
        return bool(counts.changed or counts.inserted or counts.deleted or counts.moved)

    @property
    def changed(self) -> bool:
        metadata = (self.byline, self.published, self.updated)
        fields = self.title_changed or self.standfirst_changed
        return fields or self.body_changed or any(field is not None for field in metadata)

    def summary(self) -> str:
        """One line for a feed item, e.g. "Headline changed; 3 paragraphs edited, 1 added, 2 removed"."""
        clauses = [
            label
            for label, field in (
                ("Headline changed", self.title_spans),
                ("standfirst changed", self.standfirst_spans),
                ("byline changed", self.byline),
                ("publication date changed", self.published),
                ("update time changed", self.updated),
            )
            if field is not None
        ]
        return summary_line(clauses, self.counts)

    def to_dict(self) -> VersionDiffOut:
        return {
            "title_spans": None if self.title_spans is None else [s.to_dict() for s in self.title_spans],
            "standfirst_spans": None
            if self.standfirst_spans is None
            else [s.to_dict() for s in self.standfirst_spans],
            "byline": None if self.byline is None else self.byline.to_dict(),
            "published": None if self.published is None else self.published.to_dict(),
            "updated": None if self.updated is None else self.updated.to_dict(),
            "rows": [row.to_dict() for row in self.rows],
            "counts": self.counts.to_dict(),
            "summary": self.summary(),
        }


def summary_line(clauses: list[str], counts: Counts, unit: str = "paragraph") -> str:
    """The changed fields' `clauses` and the body's tallies in `unit`s (paragraphs, or the stored comparison's
    sentences) as one capitalised line."""
    body = _body_summary(counts, unit)
    if body:
        clauses = [*clauses, body]
    if not clauses:
        return "No visible changes"
    text = "; ".join(clauses)
    return text[0].upper() + text[1:]


def _body_summary(counts: Counts, unit: str) -> str:
    tallies = [
        (number, verb)
        for number, verb in (
            (counts.changed, "edited"),
            (counts.inserted, "added"),
            (counts.deleted, "removed"),
            (counts.moved, "moved"),
        )
        if number
    ]
    if not tallies:
        return ""
    (first, first_verb), *rest = tallies
    noun = unit if first == 1 else f"{unit}s"
    return ", ".join([f"{first} {noun} {first_verb}", *(f"{number} {verb}" for number, verb in rest)])

"""The research export: one record per version pair (NewsEdits' layout) or per version, streamed.

Rows are read with `yield_per` (a server-side cursor on PostgreSQL) as plain column tuples, so nothing piles
up in the session, and written as they come: memory stays flat however many versions there are. A pair's
sentence texts come from re-splitting both versions (the split is deterministic for the stored algorithm);
the previous version of a pair is the one read just before it (a `since` window also reads the versions its
pairs start from).

Formats: jsonl and csv (lists and sentence rows as JSON in a cell) need nothing more; parquet needs pyarrow
(`pip install 'newsdelta[export]'`) and is written in row groups of ROW_GROUP records.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, TypeAlias

from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session, aliased

from newsdelta.changes.sentences import Sentence, split
from newsdelta.store.models import Article, Source, Version, VersionChange
from newsdelta.vocabulary import Origin

BATCH = 1000
# Parquet keeps metadata per row group until the file is closed: few, large groups keep that small.
ROW_GROUP = 20_000
FORMATS = ("jsonl", "csv", "parquet")

# A query of _VERSION_COLUMNS and one of its rows, read by column name (a tuple this wide has no useful type).
_VersionQuery: TypeAlias = "Select[*tuple[Any, ...]]"
_VersionRow: TypeAlias = "Row[*tuple[Any, ...]]"

_VERSION_FIELDS = ("number", "origin", "title", "byline", "published", "updated", "fetched_at")
_VERSION_COLUMNS = (
    Version.article_id,
    Source.name,
    Article.url,
    Version.number,
    Version.origin,
    Version.title,
    Version.byline,
    Version.published,
    Version.updated,
    Version.fetched_at,
    Version.http_status,
    Version.final_url,
    Version.paragraphs,
    VersionChange.previous_number,
    VersionChange.kinds,
    VersionChange.size_words,
    VersionChange.additions,
    VersionChange.deletions,
    VersionChange.edits,
    VersionChange.refactors,
    VersionChange.sentences,
)

PAIR_COLUMNS = (
    "article_id",
    "source",
    "url",
    *(f"{side}_{name}" for name in _VERSION_FIELDS for side in ("old", "new")),
    "kinds",
    "size_words",
    "additions",
    "deletions",
    "edits",
    "refactors",
    "sentences",
)
VERSION_COLUMNS = (
    "article_id",
    "source",
    "url",
    *_VERSION_FIELDS,
    "http_status",
    "final_url",
    "text",
    "kinds",
    "size_words",
)


class ExportError(RuntimeError):
    """The export cannot be written as asked (e.g. parquet without pyarrow)."""


@dataclass(frozen=True, slots=True)
class Filters:
    source: str | None = None
    since: datetime | None = None  # versions fetched at or after this time


def _query(filters: Filters, *, with_previous: bool = False) -> _VersionQuery:
    """Versions in (article, number) order; `with_previous` also takes, before a version in the `since`
    window, the version it was compared with, so a pair never needs a query of its own."""
    query = (
        select(*_VERSION_COLUMNS)
        .join(Article, Article.id == Version.article_id)
        .join(Source, Source.id == Article.source_id)
        .outerjoin(VersionChange, VersionChange.version_id == Version.id)
        .where(Article.hidden.is_(False))
        .order_by(Version.article_id, Version.number)
    )
    if filters.source is not None:
        query = query.where(Source.name == filters.source)
    if filters.since is not None:
        in_window = Version.fetched_at >= filters.since
        if with_previous:
            later = aliased(Version)
            compared = (
                select(later.id)
                .join(VersionChange, VersionChange.version_id == later.id)
                .where(
                    later.article_id == Version.article_id,
                    VersionChange.previous_number == Version.number,
                    later.fetched_at >= filters.since,
                )
            )
            in_window = in_window | compared.exists()
        query = query.where(in_window)
    return query


def count(session: Session, filters: Filters, *, pairs: bool) -> int:
    """How many records an export will write (for the progress bar)."""
    query = _query(filters).with_only_columns(func.count()).order_by(None)
    if pairs:
        query = query.where(VersionChange.previous_number.is_not(None))
    return session.scalar(query) or 0


def _stream(session: Session, query: _VersionQuery) -> Iterator[_VersionRow]:
    yield from session.execute(query.execution_options(yield_per=BATCH))


def version_records(session: Session, filters: Filters) -> Iterator[dict[str, Any]]:
    """Every version's text and metadata, with its kinds and change size (None where not yet computed)."""
    for row in _stream(session, _query(filters)):
        yield {
            "article_id": row.article_id,
            "source": row.name,
            "url": row.url,
            **{name: getattr(row, name) for name in _VERSION_FIELDS},
            "http_status": row.http_status,
            "final_url": row.final_url,
            "text": "\n\n".join(row.paragraphs),
            "kinds": row.kinds,
            "size_words": row.size_words,
        }


def pair_records(session: Session, filters: Filters) -> Iterator[dict[str, Any]]:
    """One record per compared version pair: both versions' metadata, kinds, counts and sentence rows."""
    previous: _VersionRow | None = None
    previous_sentences: list[Sentence] = []
    for row in _stream(session, _query(filters, with_previous=True)):
        sentences = split(row.paragraphs)
        if row.previous_number is not None and (filters.since is None or row.fetched_at >= filters.since):
            wanted = (row.article_id, row.previous_number)
            if previous is None or (previous.article_id, previous.number) != wanted:
                previous = _version_row(session, *wanted)
                previous_sentences = split(previous.paragraphs)
            yield _pair(previous, previous_sentences, row, sentences)
        if row.origin != Origin.REMOVED:
            previous, previous_sentences = row, sentences


def _version_row(session: Session, article_id: int, number: int) -> _VersionRow:
    query = _query(Filters()).where(Version.article_id == article_id, Version.number == number)
    return session.execute(query).one()


def _pair(
    old: _VersionRow, old_sentences: list[Sentence], new: _VersionRow, new_sentences: list[Sentence]
) -> dict[str, Any]:
    record: dict[str, Any] = {"article_id": new.article_id, "source": new.name, "url": new.url}
    for name in _VERSION_FIELDS:
        record[f"old_{name}"] = getattr(old, name)
        record[f"new_{name}"] = getattr(new, name)
    record.update(
        kinds=new.kinds,
        size_words=new.size_words,
        additions=new.additions,
        deletions=new.deletions,
        edits=new.edits,
        refactors=new.refactors,
        sentences=[
            {
                "old_index": old_index,
                "new_index": new_index,
                "action": action,
                "similarity": similarity,
                "old_text": old_sentences[old_index].text if old_index is not None else None,
                "new_text": new_sentences[new_index].text if new_index is not None else None,
            }
            for old_index, new_index, action, similarity in new.sentences
        ],
    )
    return record


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot export {type(value).__name__}")


@contextmanager
def _text(out: IO[bytes], newline: str) -> Iterator[io.TextIOWrapper]:
    """UTF-8 text over the binary output, detached afterwards so the output itself stays open."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline=newline, write_through=True)
    try:
        yield text
    finally:
        text.detach()


def write_jsonl(records: Iterable[dict[str, Any]], out: IO[bytes], columns: tuple[str, ...]) -> None:
    with _text(out, "\n") as text:
        for record in records:
            text.write(json.dumps(record, ensure_ascii=False, default=_json_default) + "\n")


def write_csv(records: Iterable[dict[str, Any]], out: IO[bytes], columns: tuple[str, ...]) -> None:
    with _text(out, "") as text:
        writer = csv.writer(text)
        writer.writerow(columns)
        for record in records:
            writer.writerow([_cell(record[name]) for name in columns])


def _cell(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else value


def check_format(fmt: str) -> None:
    """Fail before anything is written if the format cannot be produced here."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")
    if fmt == "parquet":
        _pyarrow()


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ExportError("parquet needs pyarrow: pip install 'newsdelta[export]'") from exc
    return pa, pq


def write_parquet(records: Iterable[dict[str, Any]], out: IO[bytes], columns: tuple[str, ...]) -> None:
    pa, pq = _pyarrow()
    schema = pa.schema([(name, _arrow_type(pa, name)) for name in columns])
    with pq.ParquetWriter(out, schema) as writer:
        batch: list[dict[str, Any]] = []
        tables: list[Any] = []  # Arrow is compact: a row group's worth waits here, not as Python dicts
        for record in records:
            batch.append(record)
            if len(batch) >= BATCH:
                tables.append(pa.Table.from_pylist(batch, schema=schema))
                batch = []
            if len(tables) * BATCH >= ROW_GROUP:
                writer.write_table(pa.concat_tables(tables))
                tables = []
        tables.append(pa.Table.from_pylist(batch, schema=schema))
        writer.write_table(pa.concat_tables(tables))


def _arrow_type(pa: Any, name: str) -> Any:
    base = name.removeprefix("old_").removeprefix("new_")
    if base in ("published", "updated", "fetched_at"):
        return pa.timestamp("us", tz="UTC")
    if base in (
        "article_id",
        "number",
        "http_status",
        "size_words",
        "additions",
        "deletions",
        "edits",
        "refactors",
    ):
        return pa.int64()
    if name == "kinds":
        return pa.list_(pa.string())
    if name == "sentences":
        return pa.list_(
            pa.struct(
                [
                    ("old_index", pa.int32()),
                    ("new_index", pa.int32()),
                    ("action", pa.string()),
                    ("similarity", pa.float32()),
                    ("old_text", pa.string()),
                    ("new_text", pa.string()),
                ]
            )
        )
    return pa.string()


WRITERS: dict[str, Callable[[Iterable[dict[str, Any]], IO[bytes], tuple[str, ...]], None]] = {
    "jsonl": write_jsonl,
    "csv": write_csv,
    "parquet": write_parquet,
}


def export(
    session: Session,
    what: str,
    fmt: str,
    out: IO[bytes],
    filters: Filters,
    on_record: Callable[[], None] | None = None,
) -> None:
    """Write the `what` export ("changes" or "versions") in `fmt` to `out`."""
    records = pair_records(session, filters) if what == "changes" else version_records(session, filters)
    columns = PAIR_COLUMNS if what == "changes" else VERSION_COLUMNS
    if on_record is not None:
        records = _counting(records, on_record)
    WRITERS[fmt](records, out, columns)


def _counting(records: Iterator[dict[str, Any]], tick: Callable[[], None]) -> Iterator[dict[str, Any]]:
    for record in records:
        tick()
        yield record

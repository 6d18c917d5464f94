"""`newsdelta changes backfill` and `newsdelta export changes|versions`: commands over the comparisons."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Protocol

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy.orm import Session, sessionmaker

from newsdelta.changes.export import FORMATS, ExportError, Filters, check_format, count, export
from newsdelta.changes.store import backfill

err_console = Console(stderr=True)


class _Store(Protocol):
    """The CLI's context as these commands use it (newsdelta.cli imports this module, so not the class)."""

    @property
    def sessions(self) -> sessionmaker[Session]: ...


@contextmanager
def _progress(description: str, total: int | None) -> Iterator[Callable[[], None] | None]:
    """A progress bar on stderr when it is a terminal; nothing (no tick function) otherwise."""
    if not err_console.is_terminal:
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err_console) as progress:
        task = progress.add_task(description, total=total)
        yield lambda: progress.advance(task)


@click.group("changes")
def changes_group() -> None:
    """Sentence alignments and change kinds of stored versions."""


@changes_group.command("backfill")
@click.pass_obj
def backfill_command(ctx: _Store) -> None:
    """Compare every version that has no comparison yet (or one from an older algorithm)."""
    with _progress("comparing versions", None) as tick:
        done = backfill(ctx.sessions, on_version=tick)
    click.echo(f"compared {done} versions", err=True)


def _since(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"not an ISO date or time: {value!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _export_options(command: Callable[..., None]) -> Callable[..., None]:
    options = [
        click.option("--source", help="Only this source."),
        click.option("--since", callback=_since, help="Only versions fetched at or after this (ISO, UTC)."),
        click.option("--format", "fmt", type=click.Choice(FORMATS), default="jsonl", show_default=True),
        click.option(
            "-o", "--output", type=click.Path(path_type=Path), help="Write here instead of standard output."
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.group("export")
def export_group() -> None:
    """Exports, streamed: changes and versions for research (a million versions in constant memory), and
    the evidence as WARC for web-archive tools."""


@export_group.command("changes")
@_export_options
@click.pass_obj
def export_changes(
    ctx: _Store, source: str | None, since: datetime | None, fmt: str, output: Path | None
) -> None:
    """One record per version pair: both versions' metadata, kinds, size and sentence rows (NewsEdits' layout)."""
    _export(ctx, "changes", source, since, fmt, output)


@export_group.command("versions")
@_export_options
@click.pass_obj
def export_versions(
    ctx: _Store, source: str | None, since: datetime | None, fmt: str, output: Path | None
) -> None:
    """One record per version: its text and metadata, kinds and change size."""
    _export(ctx, "versions", source, since, fmt, output)


def _export(
    ctx: _Store, what: str, source: str | None, since: datetime | None, fmt: str, output: Path | None
) -> None:
    if fmt == "parquet" and output is None:
        raise click.UsageError("parquet needs a file: give --output")
    try:
        check_format(fmt)
    except ExportError as exc:
        raise click.ClickException(str(exc)) from exc
    filters = Filters(source, since)
    with ctx.sessions() as session:
        total = count(session, filters, pairs=what == "changes") if err_console.is_terminal else None
        with _open(output) as out, _progress(f"exporting {what}", total) as tick:
            export(session, what, fmt, out, filters, on_record=tick)


@contextmanager
def _open(output: Path | None) -> Iterator[IO[bytes]]:
    if output is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    with output.open("wb") as out:
        yield out

"""The `newsdelta` command. Its sub-commands and their --json output are a contract other tools rely on."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import json
import signal
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from newsdelta import __version__
from newsdelta import settings as settings_table
from newsdelta.actions import add_checked_feed, track_url
from newsdelta.changes.commands import changes_group, export_group
from newsdelta.config import Settings
from newsdelta.crawl import PassStats, crawl_forever, run_pass
from newsdelta.crawl.learning import explain
from newsdelta.crawl.loop import recover_crashed_leases
from newsdelta.crawl.replay import ImportStats, Replay, import_captures, read_captures
from newsdelta.extract import ExtractionError, extract
from newsdelta.fetch import FetchError
from newsdelta.fetch.addresses import IPNetwork, parse_networks
from newsdelta.fetch.charset import decode_text
from newsdelta.metrics import record_check, serve_metrics
from newsdelta.notify import add_subscription, deliver, delivery_report
from newsdelta.notify.channels import DeliveryError
from newsdelta.notify.dispatch import remove_subscription, send_test, subscription_dict
from newsdelta.notify.rules import DIGESTS, KINDS
from newsdelta.progress import CrawlProgress
from newsdelta.runtime import evidence_store, make_context, make_fetcher, open_store
from newsdelta.schedule import POLICY_NAMES, BadBudget, UnknownSchedule
from newsdelta.store import queries
from newsdelta.store.checklog import RetentionTooShort
from newsdelta.store.evidence import EvidenceOpener, repack
from newsdelta.store.models import Article, Feed, Source, Version
from newsdelta.store.repository import NotFound, find_article
from newsdelta.store.warc import write_warc
from newsdelta.vocabulary import Outcome

console = Console()
err_console = Console(stderr=True)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _print_json_lines(rows: Iterable[dict[str, Any]]) -> None:
    for row in rows:
        click.echo(json.dumps(row, ensure_ascii=False))


Column = tuple[str, Callable[[dict[str, Any]], str]]


def _emit(rows: list[dict[str, Any]], as_json: bool, columns: Sequence[Column]) -> None:
    """JSON lines for tools, or a table for people."""
    if as_json:
        _print_json_lines(rows)
        return
    table = Table(*(heading for heading, _ in columns))
    for row in rows:
        table.add_row(*(cell(row) for _, cell in columns))
    console.print(table)


class Context:
    """What the group options set up, opened lazily so `--help` and `extract` need no database."""

    def __init__(self, settings: Settings, evidence: EvidenceOpener) -> None:
        self.settings = settings
        self.evidence = evidence
        self._sessions: sessionmaker[Session] | None = None

    @property
    def sessions(self) -> sessionmaker[Session]:
        if self._sessions is None:
            self._sessions = open_store(self.settings)
        return self._sessions


pass_context = click.make_pass_decorator(Context)


def _networks_option(
    _: click.Context, param: click.Parameter, value: str | None
) -> tuple[IPNetwork, ...] | None:
    try:
        return None if value is None else parse_networks(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param=param) from exc


@click.group(epilog=settings_table.environment_help())
@click.version_option(__version__, prog_name="newsdelta")
@click.option("--data-dir", type=click.Path(path_type=Path), help=settings_table.DATA_DIR.option_help())
@click.option("--db", "db_url", help=settings_table.DB.option_help())
@click.option("--broker", "broker_url", help=settings_table.BROKER.option_help())
@click.option("--contact-url", help=settings_table.CONTACT_URL.option_help())
@click.option(
    "--allow-networks",
    "allowed_networks",
    metavar="CIDR[,CIDR...]",
    callback=_networks_option,
    help=settings_table.ALLOWED_NETWORKS.option_help(),
)
@click.option(
    "--schedule",
    type=click.Choice(POLICY_NAMES),
    help=settings_table.SCHEDULE.option_help(
        ". Feed and sitemap change dates bring checks forward under every schedule"
    ),
)
@click.option(
    "--budget",
    metavar="N|SOURCE=N,...",
    help=settings_table.BUDGET.option_help(),
)
@click.pass_context
def cli(
    ctx: click.Context,
    /,
    data_dir: Path | None,
    db_url: str | None,
    broker_url: str | None,
    contact_url: str | None,
    allowed_networks: tuple[IPNetwork, ...] | None,
    schedule: str | None,
    budget: str | None,
) -> None:
    """newsdelta: track news articles from feeds, keep every version, show what changed."""
    try:
        settings = Settings.from_env(
            data_dir=data_dir,
            db_url=db_url,
            broker_url=broker_url,
            contact_url=contact_url,
            allowed_networks=allowed_networks,
            schedule=schedule,
            budget=budget,
        )
    except UnknownSchedule as exc:
        raise click.UsageError(f"{settings_table.SCHEDULE.env}: {exc}") from exc
    except BadBudget as exc:
        raise click.UsageError(f"--budget / {settings_table.BUDGET.env}: {exc}") from exc
    except RetentionTooShort as exc:
        raise click.UsageError(
            f"{settings_table.CHECK_LOG_DAYS.env}, {settings_table.CHECK_ERRORS_DAYS.env}: {exc}"
        ) from exc
    except ValueError as exc:  # a malformed NEWSDELTA_ALLOWED_NETWORKS
        raise click.UsageError(f"{settings_table.ALLOWED_NETWORKS.env}: {exc}") from exc
    try:
        evidence = evidence_store(settings)
    except ValueError as exc:
        raise click.UsageError(f"{settings_table.EVIDENCE.env}: {exc}") from exc
    ctx.obj = Context(settings, evidence)


@cli.group()
def feed() -> None:
    """Manage the feeds (RSS, Atom, JSON Feed, sitemap or front page) that new articles are found in."""


@feed.command("add")
@click.argument("feed_url")
@click.option("--source", required=True, help="Source name, e.g. guardian.")
@click.option("--period", type=float, default=300.0, show_default=True, help="Seconds between polls.")
@click.option(
    "--exclude", multiple=True, help="Regex; article URLs matching it are not tracked (repeatable)."
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_context
def feed_add(
    ctx: Context, feed_url: str, source: str, period: float, exclude: tuple[str, ...], as_json: bool
) -> None:
    """Add a feed (or update its settings). A URL on a non-public address is refused unless --allow-networks
    (a global option) allows it."""
    with ctx.sessions.begin() as session:
        try:
            row = add_checked_feed(
                session,
                feed_url,
                source,
                timedelta(seconds=period),
                exclude,
                datetime.now(UTC),
                addresses=ctx.settings.address_policy,
            )
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--exclude") from exc
        except FetchError as exc:
            raise click.BadParameter(str(exc), param_hint="FEED_URL") from exc
        result = _feed_dict(row)
    if as_json:
        _print_json_lines([result])
    else:
        console.print(f"feed {result['id']} [bold]{feed_url}[/] for source '{source}', every {period:g}s")


def _feed_dict(row: Feed) -> dict[str, Any]:
    return {
        "id": row.id,
        "url": row.url,
        "source": row.source.name,
        "period_seconds": row.period_seconds,
        "exclude": row.exclude_patterns,
        "next_check_at": _iso(row.next_check_at),
        "last_success_at": _iso(row.last_success_at),
        "error_streak": row.error_streak,
        "last_error": row.last_error,
    }


@feed.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_context
def feed_list(ctx: Context, as_json: bool) -> None:
    """List the feeds."""
    with ctx.sessions() as session:
        rows = [_feed_dict(row) for row in queries.all_feeds(session)]
    _emit(
        rows,
        as_json,
        [
            ("id", lambda row: str(row["id"])),
            ("source", lambda row: row["source"]),
            ("url", lambda row: row["url"]),
            ("period", lambda row: f"{row['period_seconds']:g}s"),
            ("next poll", lambda row: row["next_check_at"] or "-"),
            ("errors", lambda row: str(row["error_streak"])),
        ],
    )


@cli.command()
@click.argument("url")
@click.option("--source", help="Source name; defaults to the outlet parser's name or the host.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_context
def track(ctx: Context, url: str, source: str | None, as_json: bool) -> None:
    """Track one article without a feed; it is checked on the next crawl pass. A URL on a non-public address
    (127.0.0.1, 10.x, 169.254.169.254, ...) is refused unless --allow-networks (a global option) allows it."""
    with ctx.sessions.begin() as session:
        try:
            article, created = track_url(
                session,
                url,
                source,
                ctx.settings.policy,
                datetime.now(UTC),
                addresses=ctx.settings.address_policy,
            )
        except FetchError as exc:  # hostile or malformed URL: say so, store nothing
            raise click.BadParameter(str(exc), param_hint="URL") from exc
        row = {"id": article.id, "url": article.url, "source": article.source.name, "created": created}
    if as_json:
        _print_json_lines([row])
    else:
        console.print(f"{'tracking' if created else 'already tracking'} article {row['id']}: {row['url']}")


@cli.command()
@click.option("--once", is_flag=True, help="Do one pass (due feeds, then due articles) and exit.")
@click.option("--force", is_flag=True, help="Check every tracked article now, ignoring the schedule.")
@click.option("--concurrency", type=int, default=16, show_default=True, help="Checks in flight at once.")
@click.option("--json", "as_json", is_flag=True, help="Print each pass's figures as JSON.")
@click.option(
    "--metrics-port", type=int, help="Serve Prometheus metrics (checks, versions, errors) on this port."
)
@pass_context
def crawl(
    ctx: Context, once: bool, force: bool, concurrency: int, as_json: bool, metrics_port: int | None
) -> None:
    """Poll due feeds and check due articles, forever (Ctrl-C stops cleanly) or --once."""
    if metrics_port is not None:
        serve_metrics(metrics_port)
    sessions = ctx.sessions
    asyncio.run(
        _crawl(ctx.settings, sessions, once=once, force=force, concurrency=concurrency, as_json=as_json)
    )


async def _crawl(
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    once: bool,
    force: bool,
    concurrency: int,
    as_json: bool,
) -> None:
    async with make_fetcher(settings) as fetcher:
        context = make_context(settings, sessions, fetcher)
        with CrawlProgress(console, enabled=not as_json) as progress:
            report = _report_pass(as_json, progress)

            def on_check(outcome: Outcome) -> None:
                progress.on_check(outcome)
                record_check(outcome)

            if once:
                recover_crashed_leases(context)
                report(await run_pass(context, concurrency=concurrency, force=force, on_check=on_check))
                return
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            await crawl_forever(
                context,
                stop,
                concurrency=concurrency,
                force=force,
                on_check=on_check,
                on_pass=report,
            )


def _report_pass(as_json: bool, progress: Any) -> Any:
    def report(stats: PassStats) -> None:
        figures = {
            "feeds_polled": stats.feeds_polled,
            "articles_added": stats.articles_added,
            "checks": stats.checks,
            "outcomes": stats.outcome_counts(),
            "notifications_sent": stats.notifications_sent,
        }
        if as_json:
            _print_json_lines([figures])
        else:
            progress.pass_done(figures)

    return report


@cli.group()
def evidence() -> None:
    """Look after the stored raw pages (the evidence behind every version)."""


@evidence.command("repack")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@pass_context
def evidence_repack(ctx: Context, as_json: bool) -> None:
    """Rewrite raw pages stored before zstd (zlib) as zstd, later versions as deltas; one transaction."""
    rows = before = after = 0
    with ctx.sessions.begin() as session:
        for _sha, old, new in repack(session, ctx.evidence(session)):
            rows, before, after = rows + 1, before + old, after + new
    figures = {"repacked": rows, "bytes_before": before, "bytes_after": after}
    if as_json:
        _print_json_lines([figures])
    else:
        click.echo(f"repacked {rows} raw pages: {before} bytes -> {after} bytes")


@export_group.command("warc")
@click.argument("article", nargs=-1)
@click.option("--source", help="Every article of this source (with no ARTICLE: of all sources).")
@click.option(
    "-o", "--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="FILE.warc.gz"
)
@pass_context
def export_warc(ctx: Context, article: tuple[str, ...], source: str | None, out: Path) -> None:
    """Write request, response and metadata records of each version's evidence as WARC/1.1."""
    with ctx.sessions() as session:
        try:
            chosen = [find_article(session, ref) for ref in article]
        except NotFound as exc:
            raise click.ClickException(str(exc)) from exc
        if not article:
            chosen = queries.tracked_articles(session, source=source)
        with out.open("wb") as stream:
            written = write_warc(ctx.evidence(session), chosen, stream)
    click.echo(f"wrote {written} versions to {out}")


@cli.group("import")
def import_group() -> None:
    """Build article histories from evidence captured elsewhere."""


@import_group.command("warc")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--source", help="Source name for new articles; defaults to the outlet parser's name or the host."
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@pass_context
def import_warc(ctx: Context, files: tuple[Path, ...], source: str | None, as_json: bool) -> None:
    """Check every HTML response in FILES at its capture time, oldest first, as a live check would: a history
    can start before newsdelta ran. Captures no later than an article's history are skipped, so importing a
    file twice adds nothing; other records and broken ones are skipped and logged."""
    stats = ImportStats()
    replay = Replay()
    context = make_context(ctx.settings, ctx.sessions, replay, clock=replay.now)
    captures = list(read_captures(files, stats))
    asyncio.run(
        import_captures(
            context, replay, captures, stats, source=source, addresses=ctx.settings.address_policy
        )
    )
    figures = {
        "captures": stats.captures,
        "skipped": stats.skipped,
        "already_known": stats.known,
        "outcomes": dict(stats.outcomes),
    }
    if as_json:
        _print_json_lines([figures])
    else:
        click.echo(
            f"{stats.captures} captures: {stats.outcomes['new_version']} new versions, {stats.known} already "
            f"known, {stats.skipped} records skipped"
        )


@cli.command()
@click.option("--source", help="Only this source.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@pass_context
def articles(ctx: Context, source: str | None, as_json: bool) -> None:
    """List tracked articles: id, url, source, version count, next check."""
    query = queries.article_row_query().order_by(Article.id)
    if source:
        query = query.where(Source.name == source)
    with ctx.sessions() as session:
        rows = [_json_row(row) for row in queries.article_rows(session, query)]
    _emit(
        rows,
        as_json,
        [
            ("id", lambda row: str(row["id"])),
            ("source", lambda row: row["source"]),
            ("versions", lambda row: str(row["version_count"])),
            ("state", lambda row: row["state"]),
            ("next check", lambda row: row["next_check_at"] or "no longer checked"),
            ("url", lambda row: row["url"]),
        ],
    )


@cli.command()
@click.argument("article")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@pass_context
def history(ctx: Context, article: str, as_json: bool) -> None:
    """Show the versions of one article (by id or URL)."""
    with ctx.sessions() as session:
        try:
            row = find_article(session, article)
        except NotFound as exc:
            raise click.ClickException(str(exc)) from exc
        texts = {version.number: version for version in row.versions}
        result: dict[str, Any] = {
            "id": row.id,
            "url": row.url,
            "source": row.source.name,
            "state": row.state,
            "first_seen_at": _iso(row.first_seen_at),
            "next_check_at": _iso(row.next_check_at),
            "next_check_reason": dataclasses.asdict(
                explain(session, row, ctx.settings.policy, datetime.now(UTC))
            ),
            "versions": [
                {**_json_row(listed), **_version_text(texts[listed.number])}
                for listed in queries.version_rows(session, row.id)
            ],
        }
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=1))
        return
    console.print(f"[bold]{result['url']}[/] ({result['source']}, {result['state']})")
    for version in result["versions"]:
        console.rule(f"version {version['number']} · {version['fetched_at']} · {version['origin']}")
        console.print(version["title"], style="bold", markup=False)
        for paragraph in version["paragraphs"]:
            console.print(paragraph, markup=False)


def _json_row(row: queries.ArticleRow | queries.VersionRow) -> dict[str, Any]:
    """A row as JSON: the fields of docs/rows.md, times in ISO 8601."""
    return {
        name: _iso(value) if isinstance(value, datetime) else value
        for name, value in dataclasses.asdict(row).items()
    }


def _version_text(version: Version) -> dict[str, Any]:
    """What `history` adds to a version row: its text and how it was read, named as /api/ names them."""
    return {
        "byline": version.byline,
        "published": _iso(version.published),
        "updated": _iso(version.updated),
        "parser": version.parser,
        "parser_version": version.parser_version,
        "text_hash": version.text_hash,
        "paragraphs": version.paragraphs,
    }


@cli.command("extract")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--url", help="The page's URL (chooses the outlet parser); defaults to a file:// URL.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line (the default output too).")
def extract_command(files: tuple[Path, ...], url: str | None, as_json: bool) -> None:
    """Extract article text from saved pages without storing anything (.gz files are read transparently)."""
    failed = False
    for path in files:
        row = _extract_file(path, url)
        failed |= "error" in row
        click.echo(json.dumps(row, ensure_ascii=False))
    if failed:
        sys.exit(1)


def _extract_file(path: Path, url: str | None) -> dict[str, Any]:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    page_url = url or path.resolve().as_uri()
    try:
        result = extract(decode_text(data), page_url)
    except ExtractionError as exc:
        return {"file": str(path), "url": page_url, "error": str(exc)}
    return {
        "file": str(path),
        "url": page_url,
        "parser": result.parser,
        "parser_version": result.parser_version,
        "title": result.title,
        "byline": result.byline,
        "published": _iso(result.published),
        "updated": _iso(result.updated),
        "paragraphs": list(result.paragraphs),
    }


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
@click.option(
    "--base-url",
    help=settings_table.BASE_URL.option_help(),
)
@pass_context
def serve(ctx: Context, host: str, port: int, base_url: str | None) -> None:
    """Serve the web site: histories, diffs, feeds, search, health and the JSON API (/api/)."""
    from newsdelta.config import public_base_url
    from newsdelta.web.app import serve as serve_site

    base_url = base_url or ctx.settings.base_url
    try:
        settings = dataclasses.replace(ctx.settings, base_url=base_url and public_base_url(base_url))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=f"--base-url / {settings_table.BASE_URL.env}") from exc
    serve_site(settings, host, port, ctx.sessions)


@cli.command()
@click.option(
    "--port", type=int, default=8000, show_default=True, help="Where the web site serves meanwhile."
)
@click.option("--hours", type=float, default=24.0, show_default=True, help="How much scripted time to crawl.")
@click.option(
    "--speed", type=float, default=1800.0, show_default=True, help="Scripted seconds per real second."
)
@click.option(
    "--keep-serving", is_flag=True, help="Keep the web site up after the scripted day, until Ctrl-C."
)
@pass_context
def demo(ctx: Context, port: int, hours: float, speed: float, keep_serving: bool) -> None:
    """Crawl the simulated newsroom's scripted day, fast-forwarded, while serving the site; no internet needed.

    The demo's database is <data dir>/demo, emptied at each start.
    """
    from newsdelta.demo import run_demo

    asyncio.run(
        run_demo(ctx.settings, console, port=port, hours=hours, pace=1 / speed, keep_serving=keep_serving)
    )


def _require_broker(settings: Settings) -> None:
    if not settings.broker_url:
        raise click.UsageError("needs a broker: --broker URL or NEWSDELTA_BROKER (redis://… or amqp://…)")


@cli.command()
@click.option("--once", is_flag=True, help="Claim and enqueue what is due now, then exit.")
@pass_context
def scheduler(ctx: Context, once: bool) -> None:
    """Find due feeds and articles in the database and enqueue them for workers (needs --broker).

    Only work due now is enqueued; the schedule itself stays in the database. Run one or more.
    """
    from newsdelta.distributed import run_scheduler

    _require_broker(ctx.settings)
    stats = run_scheduler(ctx.settings, once=once)
    if once:
        _print_json_lines([{"feeds": stats.feeds, "articles": stats.articles, "unsent": stats.unsent}])


@cli.command()
@click.option(
    "--concurrency", type=int, default=16, show_default=True, help="Checks in flight in this process."
)
@click.option("--metrics-port", type=int, help="Serve this worker's Prometheus metrics on this port.")
@click.option("--loglevel", default="INFO", show_default=True)
@pass_context
def worker(ctx: Context, concurrency: int, metrics_port: int | None, loglevel: str) -> None:
    """A Celery worker that fetches, extracts and stores what the scheduler enqueued (needs --broker)."""
    from newsdelta.distributed import run_worker

    _require_broker(ctx.settings)
    run_worker(ctx.settings, concurrency=concurrency, metrics_port=metrics_port, loglevel=loglevel)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@pass_context
def status(ctx: Context, as_json: bool) -> None:
    """Queue depth, due backlog, checks in flight, oldest overdue check, per-source error rates, and per source
    the last hour's checks against its budget and the schedule's estimated capture rate."""
    from newsdelta.distributed import status_report

    ctx.sessions  # migrate first, so a fresh database reports zeros rather than missing tables  # noqa: B018
    text = json.dumps(status_report(ctx.settings), ensure_ascii=False, default=str)
    if as_json:
        click.echo(text)
    else:
        console.print_json(text)


@cli.group()
def notify() -> None:
    """Notifications: subscribe a channel (apprise URL or signed http(s) webhook) to changes, and deliver."""


@notify.command("add")
@click.argument("url")
@click.option("--source", "sources", multiple=True, help="Only this source (repeatable).")
@click.option("--article", "article_ids", type=int, multiple=True, help="Only this article id (repeatable).")
@click.option("--url-pattern", help="Only articles whose URL matches this regex.")
@click.option("--term", help="Only articles whose headline or text mentions this.")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(KINDS),
    help="Only these kinds of change (repeatable; default any).",
)
@click.option(
    "--min-change", type=int, default=0, show_default=True, help="Minimum words deleted plus inserted."
)
@click.option(
    "--digest", type=click.Choice(sorted(DIGESTS)), help="One message per hour or day, not per change."
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_context
def notify_add(ctx: Context, /, url: str, as_json: bool, **rules: Any) -> None:
    """Subscribe URL to changes stored from now on; prints the webhook's signing secret."""
    with ctx.sessions.begin() as session:
        try:
            row = add_subscription(session, url, datetime.now(UTC), **rules)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from exc
        result = {**subscription_dict(row), "secret": row.secret}
    if as_json:
        _print_json_lines([result])
    else:
        console.print(
            f"subscription {result['id']} to {result['channel']}; signing secret: {result['secret']}"
        )


@notify.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_context
def notify_list(ctx: Context, as_json: bool) -> None:
    """List subscriptions with their rules, pending messages and delivery failures."""
    with ctx.sessions() as session:
        rows = delivery_report(session)
    _emit(
        rows,
        as_json,
        [
            ("id", lambda row: str(row["id"])),
            ("channel", lambda row: row["channel"]),
            ("kinds", lambda row: ",".join(row["kinds"])),
            ("sources", lambda row: ",".join(row["sources"]) or "all"),
            ("digest", lambda row: row["digest"] or "-"),
            ("pending", lambda row: str(row["pending"])),
            ("failures", lambda row: str(row["failure_streak"])),
            ("last error", lambda row: row["last_error"] or "-"),
        ],
    )


@notify.command("remove")
@click.argument("subscription_id", type=int)
@pass_context
def notify_remove(ctx: Context, subscription_id: int) -> None:
    """Delete a subscription and its undelivered messages."""
    with ctx.sessions.begin() as session:
        try:
            remove_subscription(session, subscription_id)
        except NotFound as exc:
            raise click.ClickException(str(exc)) from exc
    console.print(f"subscription {subscription_id} removed")


@notify.command("test")
@click.argument("url")
@click.option("--secret", default="test", show_default=True, help="Signing secret for an http(s) webhook.")
def notify_test(url: str, secret: str) -> None:
    """Send a made-up change to URL now, to check the channel works (nothing is stored)."""
    try:
        sent_id = asyncio.run(send_test(url, secret, datetime.now(UTC)))
    except DeliveryError as exc:
        raise click.ClickException(f"not delivered: {exc}") from exc
    console.print(f"sent test message {sent_id}")


@notify.command("send")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@pass_context
def notify_send(ctx: Context, as_json: bool) -> None:
    """Deliver what is pending now (new versions since each cursor, due retries, finished digests); no crawl."""
    stats = asyncio.run(deliver(ctx.sessions, datetime.now(UTC)))
    figures = {"queued": stats.queued, "sent": stats.sent, "failed": stats.failed, "errors": stats.errors}
    if as_json:
        _print_json_lines([figures])
    else:
        console.print(f"queued {stats.queued}, sent {stats.sent}, failed {stats.failed}")
        for error in stats.errors:
            err_console.print(error, markup=False)
    if stats.failed:
        sys.exit(1)


cli.add_command(changes_group)
cli.add_command(export_group)


def main() -> None:
    cli(prog_name="newsdelta")

"""One check of one article: fetch, extract, compare, store. The single code path behind every way to dispatch.

The store step is one transaction that also releases the lease, so a process killed at any point leaves either
the whole check or none of it, and the article comes back once its lease expires. Unique constraints on
(article, number) and (article, text hash) make a repeated or concurrent check unable to add a version twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from newsdelta.changes.store import record_changes
from newsdelta.crawl.context import CrawlContext
from newsdelta.discovery import canonicalize_url, same_site
from newsdelta.extract import Extracted, ExtractionError
from newsdelta.extract.registry import current_readings
from newsdelta.fetch import FetchError, FetchResult, RobotsDisallowed
from newsdelta.fetch.charset import header_charset
from newsdelta.fetch.retry_after import MAX_RETRY_AFTER
from newsdelta.fidelity.memory import count_paragraphs, load_masks, remember_rules
from newsdelta.fidelity.volatility import Masks, Reading, Rule, stable
from newsdelta.schedule import Policy
from newsdelta.store.checklog import LoggedCheck, log_checks
from newsdelta.store.evidence import body_sha256, keep_raw_page, raw_page_text
from newsdelta.store.models import Article, ArticleAlias, Version
from newsdelta.store.repository import (
    article_by_url,
    latest_raw_sha256,
    latest_version,
    release_article_leases,
    version_numbers_by_hash,
)
from newsdelta.text import version_hash

log = logging.getLogger(__name__)

REMOVED_HASH = version_hash("\x00removed", ())


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a check needs to know about the article before fetching, read in a short transaction."""

    article_id: int
    source_id: int
    url: str
    current_hash: str | None
    etag: str | None
    last_modified: str | None
    body_sha256: str | None
    parser: str | None
    parser_version: int | None
    check_period_seconds: float
    planned_check_at: datetime | None


SNAPSHOT_COLUMNS = (
    Article.id,
    Article.source_id,
    Article.url,
    Article.current_hash,
    Article.etag,
    Article.last_modified,
    Article.body_sha256,
    Article.parser,
    Article.parser_version,
    Article.check_period_seconds,
    Article.planned_check_at,
)


def load_snapshots(session: Session, article_ids: Sequence[int], owner: str) -> dict[int, Snapshot]:
    """One query for a whole claimed batch; work whose lease `owner` no longer holds is left out."""
    rows = session.execute(
        select(*SNAPSHOT_COLUMNS).where(Article.id.in_(article_ids), Article.lease_owner == owner)
    )
    return {row[0]: Snapshot(*row) for row in rows}


@dataclass(frozen=True, slots=True)
class NoChange:
    """A check that stored no text (unchanged, 304, robots): most checks are these, so they are written in
    batches. Losing an unwritten one costs nothing but a repeat: its lease brings the article back."""

    snapshot: Snapshot
    at: datetime
    outcome: str
    http_status: int | None = None
    detail: str | None = None
    result: FetchResult | None = None


class NoChangeLog:
    """Collects no-change checks and writes them `size` at a time in one transaction."""

    def __init__(self, ctx: CrawlContext, size: int = 64) -> None:
        self.ctx = ctx
        self.size = size
        self.pending: list[NoChange] = []

    def add(self, record: NoChange) -> None:
        self.pending.append(record)
        if len(self.pending) >= self.size:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            record_no_change(self.ctx, self.pending)
            self.pending = []


@dataclass(frozen=True, slots=True)
class Page:
    """A fetched page and what was read from it, with known volatile text masked (`masks`).

    After a confirming fetch, `learned` holds the rules for what differed and `volatile` how much did.
    """

    result: FetchResult
    extracted: Extracted
    text_hash: str
    masks: Masks
    learned: tuple[Rule, ...] = ()
    volatile: int = 0


@lru_cache(maxsize=65_536)
def current_parser(url: str) -> frozenset[tuple[str, int]]:
    """The (parser, version) readings current for this URL (its outlet parser's or the generic fallback's);
    cached, since every check of every article asks."""
    return current_readings(url)


async def check_article(
    ctx: CrawlContext, article_id: int, *, snapshot: Snapshot | None = None, log: NoChangeLog | None = None
) -> str:
    """Check one leased article and return the outcome (see `Check`).

    A batch passes the `snapshot` it read for all its articles and a `log` that writes no-change outcomes
    together; alone, the check reads and writes its own.
    """
    if snapshot is None:
        with ctx.sessions() as session:
            snapshot = load_snapshots(session, [article_id], ctx.owner).get(article_id)
    if snapshot is None:
        return "skipped"  # a redelivered task for work someone else has taken or finished
    try:
        outcome = await _check(ctx, snapshot)
    except IntegrityError:  # another URL of the same article was stored by a concurrent check just now
        with ctx.sessions.begin() as session:  # due at once: the next check sees what the other one stored
            release_article_leases(session, [snapshot.article_id], ctx.owner, ctx.clock())
        return "conflict"
    except Exception as exc:  # one bad page (a parser bug, a hostile document) never ends the pass
        logging.getLogger(__name__).exception("check of %s raised", snapshot.url)  # `log` is a parameter here
        return _record_error(ctx, snapshot, f"{type(exc).__name__}: {exc}", status=None)
    if isinstance(outcome, NoChange):
        if log is None:
            record_no_change(ctx, [outcome])
        else:
            log.add(outcome)
        return outcome.outcome
    return outcome


async def _check(ctx: CrawlContext, snapshot: Snapshot) -> str | NoChange:
    reparse_needed = (snapshot.parser, snapshot.parser_version) not in current_parser(snapshot.url)
    try:
        result = await ctx.fetcher.get(
            snapshot.url,
            etag=None if reparse_needed else snapshot.etag,
            last_modified=None if reparse_needed else snapshot.last_modified,
        )
    except RobotsDisallowed as exc:
        if exc.temporary:  # robots.txt itself failed: try again later, like any error
            return _record_error(ctx, snapshot, str(exc), status=None, retry_after=exc.retry_after)
        return NoChange(snapshot, ctx.clock(), "robots", detail=str(exc))
    except FetchError as exc:
        return _record_error(ctx, snapshot, str(exc), status=exc.status, retry_after=exc.retry_after)
    if result.not_modified:
        return NoChange(snapshot, ctx.clock(), "not_modified", http_status=304)
    if result.gone:
        return _record_removed(ctx, snapshot, result)
    if result.status >= 400:
        return _record_error(ctx, snapshot, f"HTTP {result.status}", status=result.status)
    if body_sha256(result.body) == snapshot.body_sha256 and not reparse_needed:
        return NoChange(snapshot, ctx.clock(), "unchanged", http_status=result.status, result=result)
    try:
        extracted = ctx.extractor(result.text, result.final_url)
    except ExtractionError as exc:
        return _record_error(ctx, snapshot, f"extraction failed: {exc}", status=result.status)
    page, known = _masked_page(ctx, snapshot, result, extracted)
    if ctx.confirm and not known:
        confirmed = await _confirm(ctx, snapshot, page)
        if isinstance(confirmed, str):
            return confirmed
        page = confirmed
    return _record_page(ctx, snapshot, page)


def _reading(extracted: Extracted) -> Reading:
    return Reading(extracted.title, extracted.paragraphs)


def _with_reading(extracted: Extracted, reading: Reading) -> Extracted:
    return replace(extracted, title=reading.title, paragraphs=reading.paragraphs)


def _masked_page(
    ctx: CrawlContext, snapshot: Snapshot, result: FetchResult, extracted: Extracted
) -> tuple[Page, bool]:
    """The page with what is known to be volatile masked, and whether its text is already known: the same
    as the article's current text, or as its latest version once masked by what has been learned since."""
    with ctx.sessions() as session:
        masks = load_masks(session, snapshot.source_id, snapshot.article_id, extracted.paragraphs)
        masked = _with_reading(extracted, masks.apply(_reading(extracted)))
        page = Page(result, masked, version_hash(masked.title, masked.paragraphs), masks)
        if snapshot.current_hash is None:
            return page, False
        known = page.text_hash == snapshot.current_hash or page.text_hash == _latest_masked_hash(
            latest_version(session, snapshot.article_id), masks
        )
    return page, known


def _latest_masked_hash(latest: Version | None, masks: Masks) -> str | None:
    """The latest version's text as it reads with today's masks, when they mask more of it than when it was
    stored (None otherwise, and after a removal): equal to it, a page is a rebaseline, not an edit."""
    if latest is None or latest.origin == "removed":
        return None
    reading = masks.apply(Reading(latest.title, tuple(latest.paragraphs)))
    masked = version_hash(reading.title, reading.paragraphs)
    return None if masked == latest.text_hash else masked


async def _confirm(ctx: CrawlContext, snapshot: Snapshot, page: Page) -> Page | str:
    """Fetch the page again after a pause and keep only the text both fetches agree on.

    Seconds apart, the outlet has not edited the article: whatever differs is chrome (counters, clocks,
    rotating lists), masked here and remembered so that the next checks need no second fetch.
    """
    await asyncio.sleep(ctx.fetcher.per_host_delay)
    try:
        again = await ctx.fetcher.get(snapshot.url)
    except FetchError as exc:
        return _record_error(ctx, snapshot, f"confirming fetch failed: {exc}", status=exc.status)
    if again.status != page.result.status:
        return _record_error(ctx, snapshot, f"confirming fetch got HTTP {again.status}", status=again.status)
    try:
        second = ctx.extractor(again.text, again.final_url)
    except ExtractionError as exc:
        return _record_error(ctx, snapshot, f"extraction failed: {exc}", status=again.status)
    merged = stable(_reading(page.extracted), page.masks.apply(_reading(second)))
    extracted = _with_reading(page.extracted, merged.reading)
    text_hash = version_hash(extracted.title, extracted.paragraphs)
    # What was just learned also masks the latest version when comparing: a value both fetches of an earlier
    # check happened to agree on is volatile all the same.
    masks = Masks(page.masks.rules + merged.learned, page.masks.boilerplate)
    return replace(
        page,
        extracted=extracted,
        text_hash=text_hash,
        masks=masks,
        learned=merged.learned,
        volatile=merged.volatile,
    )


def _locked_article(session: Session, ctx: CrawlContext, article_id: int) -> Article | None:
    """The article row, locked on PostgreSQL, if this process still holds its lease."""
    query = select(Article).where(Article.id == article_id)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        query = query.with_for_update()
    article = session.scalar(query)
    return article if article is not None and article.lease_owner == ctx.owner else None


def _schedule_values(
    policy: Policy,
    period_seconds: float,
    now: datetime,
    *,
    changed: bool,
    planned: datetime | None = None,
) -> dict[str, Any]:
    """The article's next check after a successful one, with its lease released.

    A check a signal brought forward (`planned` is the one it replaced) that found nothing leaves the
    schedule as it was (newsdelta.crawl.signals).
    """
    next_at: datetime | None  # None: retired
    if planned is not None and planned > now and not changed:
        period, next_at = timedelta(seconds=period_seconds), planned
    else:
        period = policy.period_after(timedelta(seconds=period_seconds), changed=changed)
        next_at = policy.next_check(now, period)
    return {
        "check_period_seconds": period.total_seconds(),
        "next_check_at": next_at,
        "planned_check_at": None,
        "error_streak": 0,
        "last_error": None,
        **_released(now),
    }


def _released(now: datetime) -> dict[str, Any]:
    return {"last_checked_at": now, "lease_until": None, "lease_owner": None}


def _validators(result: FetchResult) -> dict[str, Any]:
    return {
        "etag": result.etag,
        "last_modified": result.last_modified,
        "body_sha256": body_sha256(result.body),
    }


def _apply(article: Article, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(article, name, value)


def record_no_change(ctx: CrawlContext, records: Sequence[NoChange]) -> None:
    """Reschedule and log checks that stored nothing, in one transaction, with plain UPDATEs.

    Only rows whose lease this process still holds are touched, and only their checks are logged.
    """
    with ctx.sessions.begin() as session:
        connection = session.connection()
        logged = []
        for record in records:
            snapshot = record.snapshot
            values = _schedule_values(
                ctx.policy,
                snapshot.check_period_seconds,
                record.at,
                changed=False,
                planned=snapshot.planned_check_at,
            )
            if record.result is not None:
                values.update(_validators(record.result))
            owned = (Article.id == record.snapshot.article_id) & (Article.lease_owner == ctx.owner)
            if connection.execute(update(Article).where(owned).values(values)).rowcount:
                logged.append(record)
        log_checks(
            connection,
            [
                LoggedCheck(r.snapshot.article_id, r.at, r.outcome, r.http_status, detail=r.detail)
                for r in logged
            ],
        )


def _log_check(
    session: Session,
    article: Article,
    now: datetime,
    outcome: str,
    *,
    http_status: int | None = None,
    version_number: int | None = None,
    detail: str | None = None,
) -> str:
    log_checks(
        session.connection(), [LoggedCheck(article.id, now, outcome, http_status, version_number, detail)]
    )
    return outcome


def _record_error(
    ctx: CrawlContext,
    snapshot: Snapshot,
    message: str,
    *,
    status: int | None,
    retry_after: float | None = None,
) -> str:
    """Back off (doubling, or as long as the server asked); the article's text and versions stay as they are."""
    now = ctx.clock()
    log.warning("check of %s failed: %s", snapshot.url, message)
    with ctx.sessions.begin() as session:
        article = _locked_article(session, ctx, snapshot.article_id)
        if article is None:
            return "skipped"
        article.error_streak += 1
        article.last_error = message[:2000]
        delay = ctx.policy.error_delay(article.error_streak)
        if retry_after is not None:  # clamped again here: no number from the network may overflow a date
            delay = max(delay, timedelta(seconds=min(MAX_RETRY_AFTER, max(0.0, retry_after))))
        article.next_check_at = now + delay
        _apply(article, _released(now))
        return _log_check(session, article, now, "error", http_status=status, detail=message[:2000])


def _record_removed(ctx: CrawlContext, snapshot: Snapshot, result: FetchResult) -> str:
    """A 404/410: the removal itself is a version, so the article's history shows when it went."""
    now = ctx.clock()
    with ctx.sessions.begin() as session:
        article = _locked_article(session, ctx, snapshot.article_id)
        if article is None:
            return "skipped"
        newly_gone = article.state != "gone"
        number = None
        if newly_gone:
            previous = latest_version(session, article.id)
            removal = Version(
                origin="removed",
                title=previous.title if previous else "",
                byline=None,
                published=None,
                updated=None,
                paragraphs=[],
                text_hash=REMOVED_HASH,
                fetched_at=now,
                http_status=result.status,
                final_url=result.final_url,
            )
            number = _add_or_flipflop(session, article, removal, now)
            article.state = "gone"
            article.gone_at = now
            # The page's last body is no longer what the URL serves: its return must be compared in full.
            article.body_sha256 = article.etag = article.last_modified = None
        period, planned = article.check_period_seconds, article.planned_check_at
        _apply(article, _schedule_values(ctx.policy, period, now, changed=newly_gone, planned=planned))
        return _log_check(session, article, now, "gone", http_status=result.status, version_number=number)


def _record_page(ctx: CrawlContext, snapshot: Snapshot, page: Page) -> str:
    now = ctx.clock()
    with ctx.sessions.begin() as session:
        article = _locked_article(session, ctx, snapshot.article_id)
        if article is None:
            return "skipped"
        if not _settle_url(session, article, page):
            log.info("%s is another URL of %s", snapshot.url, page.result.final_url)
            return "merged"
        reread = _reparse_latest(ctx, session, article, page, now)
        article.state = "live"
        article.gone_at = None
        outcome, number, detail = "unchanged", None, _volatility_note(page)
        if page.text_hash != article.current_hash:
            latest = reread if reread is not None else latest_version(session, article.id)
            if page.text_hash == _latest_masked_hash(latest, page.masks):
                # Newly learned chrome or boilerplate masked: a rebaseline, not an edit.
                article.current_hash = page.text_hash
                detail = "rebaselined: text newly known to be volatile or boilerplate is masked"
            else:
                version = _version_from_page(session, article.id, page, now, latest)
                number = _add_or_flipflop(session, article, version, now)
                outcome = "new_version" if number == version.number else "flipflop"
                if version.number == 0:  # a template's text is there from the start; a correction is not
                    count_paragraphs(session, article.source_id, article.id, version.paragraphs)
        remember_rules(session, article.source_id, article.id, page.learned, now)
        changed = outcome != "unchanged"
        period, planned = article.check_period_seconds, article.planned_check_at
        _apply(article, _schedule_values(ctx.policy, period, now, changed=changed, planned=planned))
        _apply(article, _validators(page.result))
        article.parser = page.extracted.parser
        article.parser_version = page.extracted.parser_version
        if article.published_at is None:
            article.published_at = page.extracted.published
        return _log_check(
            session,
            article,
            now,
            outcome,
            http_status=page.result.status,
            version_number=number,
            detail=detail,
        )


def _volatility_note(page: Page) -> str | None:
    if not page.volatile:
        return None
    return f"{page.volatile} volatile spans or paragraphs differed between two fetches and were masked"


def _version_from_page(
    session: Session, article_id: int, page: Page, now: datetime, latest: Version | None
) -> Version:
    """`latest` is the article's latest version, whose body (or, after a removal, the newest body kept) the
    new body is delta-compressed against."""
    result = page.result
    content_type = result.headers.get("content-type")
    previous = latest.raw_sha256 if latest is not None else None
    if latest is not None and previous is None:
        previous = latest_raw_sha256(session, article_id)
    raw = keep_raw_page(session, result.body, content_type, now, previous=previous)
    exchange = result.exchange
    evidence = Evidence(
        now,
        result.status,
        result.final_url,
        raw,
        header_charset(content_type),
        exchange.to_json() if exchange else None,
        exchange.remote_ip if exchange else None,
    )
    return _version_of(page.extracted, page.text_hash, evidence, origin="fetch")


@dataclass(frozen=True, slots=True)
class Evidence:
    """The fetch a version's text was read from."""

    fetched_at: datetime
    http_status: int
    final_url: str | None
    raw_sha256: str | None
    charset: str | None
    exchange: dict[str, Any] | None = None
    remote_ip: str | None = None


def _version_of(extracted: Extracted, text_hash: str, evidence: Evidence, *, origin: str) -> Version:
    return Version(
        origin=origin,
        title=extracted.title,
        byline=extracted.byline,
        published=extracted.published,
        updated=extracted.updated,
        paragraphs=list(extracted.paragraphs),
        text_hash=text_hash,
        fetched_at=evidence.fetched_at,
        http_status=evidence.http_status,
        final_url=evidence.final_url,
        parser=extracted.parser,
        parser_version=extracted.parser_version,
        raw_sha256=evidence.raw_sha256,
        charset=evidence.charset,
        exchange=evidence.exchange,
        remote_ip=evidence.remote_ip,
    )


def _add_or_flipflop(session: Session, article: Article, version: Version, now: datetime) -> int:
    """Store a version whose text was never seen and return its number.

    Text equal to an older version (a flip-flop, e.g. an A/B headline test) stores nothing and returns the
    older version's number; either way it becomes the article's current text.
    """
    article.current_hash = version.text_hash
    known = version_numbers_by_hash(session, article.id)
    if version.text_hash in known:
        return known[version.text_hash]
    version.article_id = article.id
    version.number = article.version_count
    session.add(version)
    record_changes(session, version)
    article.version_count += 1
    article.last_changed_at = now
    return version.number


def _reparse_latest(
    ctx: CrawlContext, session: Session, article: Article, page: Page, now: datetime
) -> Version | None:
    """Before comparing, re-read the latest version's stored page with the parser that read this fetch; return
    what is then the latest version when it had to be loaded (None when the parser is the same), so the
    check loads it once.

    Otherwise an improved parser would show up as an edit by the outlet (News Sniffer's lesson). A different
    reading is stored as a `reparse` version from the same evidence, clearly not the outlet's doing.
    """
    extracted = page.extracted
    if (article.parser, article.parser_version) == (extracted.parser, extracted.parser_version):
        return None
    latest = latest_version(session, article.id)
    if latest is None or latest.raw_sha256 is None:
        return latest
    try:
        reread = ctx.extractor(
            raw_page_text(session, latest), latest.final_url or article.url, reading=extracted.parser
        )
    except ExtractionError as exc:
        log.warning("re-reading version %s of %s failed: %s", latest.number, article.url, exc)
        return latest
    reread = _with_reading(reread, page.masks.apply(_reading(reread)))
    text_hash = version_hash(reread.title, reread.paragraphs)
    if text_hash == article.current_hash:
        return latest
    evidence = Evidence(
        latest.fetched_at,
        latest.http_status,
        latest.final_url,
        latest.raw_sha256,
        latest.charset,
        latest.exchange,
        latest.remote_ip,
    )
    reparsed = _version_of(reread, text_hash, evidence, origin="reparse")
    number = _add_or_flipflop(session, article, reparsed, now)
    if number != reparsed.number:
        return latest
    _log_check(session, article, now, "reparsed", version_number=number)
    return reparsed


def _settle_url(session: Session, article: Article, page: Page) -> bool:
    """Follow the outlet to the article's real URL (redirect, http→https, rel=canonical) on its first fetch.

    The URL it was found under becomes an alias. When another article already has the real URL, this one
    was a second name for it: it is folded into that one (False is returned and nothing else is stored).
    """
    if article.version_count:
        return True
    final = page.result.final_url
    declared = page.extracted.canonical_url
    real = canonicalize_url(declared if declared and same_site(declared, final) else final)
    if real == article.url:
        return True
    owner = article_by_url(session, real)
    if owner is None:
        session.add(ArticleAlias(url=article.url, article_id=article.id))
        article.url = real
        return True
    session.add(ArticleAlias(url=article.url, article_id=owner.id))
    session.delete(article)
    return False

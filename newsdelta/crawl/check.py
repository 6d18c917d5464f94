"""One check of one article: fetch, extract, compare, store. The single code path behind every way to dispatch.

The store step is one transaction that also releases the lease, so a process killed at any point leaves either
the whole check or none of it, and the article comes back once its lease expires. Unique constraints on
(article, number) and (article, text hash) make a repeated or concurrent check unable to add a version twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsdelta.crawl.context import CrawlContext
from newsdelta.discovery import canonicalize_url, same_site
from newsdelta.extract import Extracted, ExtractionError, extract, parser_for
from newsdelta.extract.generic import GENERIC
from newsdelta.fetch import FetchError, FetchResult, RobotsDisallowed
from newsdelta.store.evidence import body_sha256, keep_raw_page, load_raw_page
from newsdelta.store.models import Article, ArticleAlias, Check, Version
from newsdelta.store.repository import article_by_url, latest_version, version_numbers_by_hash
from newsdelta.text import version_hash

log = logging.getLogger(__name__)

REMOVED_HASH = version_hash("\x00removed", ())


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a check needs to know about the article before fetching, read in a short transaction."""

    article_id: int
    url: str
    etag: str | None
    last_modified: str | None
    body_sha256: str | None
    parser: str | None
    parser_version: int | None


@dataclass(frozen=True, slots=True)
class Page:
    """A fetched page and what was read from it."""

    result: FetchResult
    extracted: Extracted
    text_hash: str


def current_parser(url: str) -> tuple[str, int]:
    parser = parser_for(url) or GENERIC
    return parser.name, parser.version


async def check_article(ctx: CrawlContext, article_id: int) -> str:
    """Check one leased article and return the outcome recorded (see `Check`)."""
    snapshot = _snapshot(ctx, article_id)
    if snapshot is None:
        return "skipped"
    reparse_needed = (snapshot.parser, snapshot.parser_version) != current_parser(snapshot.url)
    try:
        result = await ctx.fetcher.get(
            snapshot.url,
            etag=None if reparse_needed else snapshot.etag,
            last_modified=None if reparse_needed else snapshot.last_modified,
        )
    except RobotsDisallowed as exc:
        if exc.temporary:  # robots.txt itself failed: try again later, like any error
            return _record_error(ctx, snapshot, str(exc), status=None, retry_after=exc.retry_after)
        return _finish(ctx, snapshot, "robots", changed=False, detail=str(exc))
    except FetchError as exc:
        return _record_error(ctx, snapshot, str(exc), status=exc.status, retry_after=exc.retry_after)
    if result.not_modified:
        return _finish(ctx, snapshot, "not_modified", changed=False, status=304)
    if result.gone:
        return _record_removed(ctx, snapshot, result)
    if result.status >= 400:
        return _record_error(ctx, snapshot, f"HTTP {result.status}", status=result.status)
    if body_sha256(result.body) == snapshot.body_sha256 and not reparse_needed:
        return _finish(ctx, snapshot, "unchanged", changed=False, status=result.status, result=result)
    try:
        extracted = extract(result.text, result.final_url)
    except ExtractionError as exc:
        return _record_error(ctx, snapshot, f"extraction failed: {exc}", status=result.status)
    page = Page(result, extracted, version_hash(extracted.title, extracted.paragraphs))
    return _record_page(ctx, snapshot, page)


def _snapshot(ctx: CrawlContext, article_id: int) -> Snapshot | None:
    with ctx.sessions() as session:
        article = session.get(Article, article_id)
        if article is None or article.lease_owner != ctx.owner:
            return None  # a redelivered task for work someone else has taken or finished
        return Snapshot(
            article.id,
            article.url,
            article.etag,
            article.last_modified,
            article.body_sha256,
            article.parser,
            article.parser_version,
        )


def _locked_article(session: Session, ctx: CrawlContext, article_id: int) -> Article | None:
    """The article row, locked on PostgreSQL, if this process still holds its lease."""
    query = select(Article).where(Article.id == article_id)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        query = query.with_for_update()
    article = session.scalar(query)
    return article if article is not None and article.lease_owner == ctx.owner else None


def _schedule(ctx: CrawlContext, article: Article, now: datetime, *, changed: bool) -> None:
    period = ctx.policy.period_after(timedelta(seconds=article.check_period_seconds), changed=changed)
    article.check_period_seconds = period.total_seconds()
    article.next_check_at = ctx.policy.next_check(now, period)
    article.error_streak = 0
    article.last_error = None


def _release(article: Article, now: datetime) -> None:
    article.last_checked_at = now
    article.lease_until = None
    article.lease_owner = None


def _log_check(session: Session, article: Article, now: datetime, outcome: str, **fields: object) -> str:
    session.add(Check(article_id=article.id, at=now, outcome=outcome, **fields))
    return outcome


def _finish(
    ctx: CrawlContext,
    snapshot: Snapshot,
    outcome: str,
    *,
    changed: bool,
    status: int | None = None,
    detail: str | None = None,
    result: FetchResult | None = None,
) -> str:
    """Record a check that stored no new text (unchanged, 304, robots)."""
    now = ctx.clock()
    with ctx.sessions.begin() as session:
        article = _locked_article(session, ctx, snapshot.article_id)
        if article is None:
            return "skipped"
        _schedule(ctx, article, now, changed=changed)
        if result is not None:
            _remember_validators(article, result)
        _release(article, now)
        return _log_check(session, article, now, outcome, http_status=status, detail=detail)


def _remember_validators(article: Article, result: FetchResult) -> None:
    article.etag = result.etag
    article.last_modified = result.last_modified
    article.body_sha256 = body_sha256(result.body)


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
        if retry_after is not None:
            delay = max(delay, timedelta(seconds=retry_after))
        article.next_check_at = now + delay
        _release(article, now)
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
        _schedule(ctx, article, now, changed=newly_gone)
        _release(article, now)
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
        _reparse_latest(session, article, page.extracted, now)
        article.state = "live"
        article.gone_at = None
        outcome, number = "unchanged", None
        if page.text_hash != article.current_hash:
            version = _version_from_page(session, page, now)
            number = _add_or_flipflop(session, article, version, now)
            outcome = "new_version" if number == version.number else "flipflop"
        _schedule(ctx, article, now, changed=outcome != "unchanged")
        _remember_validators(article, page.result)
        article.parser = page.extracted.parser
        article.parser_version = page.extracted.parser_version
        if article.published_at is None:
            article.published_at = page.extracted.published
        _release(article, now)
        return _log_check(
            session,
            article,
            now,
            outcome,
            http_status=page.result.status,
            version_number=number,
        )


def _version_from_page(session: Session, page: Page, now: datetime) -> Version:
    raw = keep_raw_page(session, page.result.body, page.result.headers.get("content-type"), now)
    evidence = Evidence(now, page.result.status, page.result.final_url, raw)
    return _version_of(page.extracted, page.text_hash, evidence, origin="fetch")


@dataclass(frozen=True, slots=True)
class Evidence:
    """The fetch a version's text was read from."""

    fetched_at: datetime
    http_status: int
    final_url: str | None
    raw_sha256: str | None


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
    article.version_count += 1
    article.last_changed_at = now
    return version.number


def _reparse_latest(session: Session, article: Article, extracted: Extracted, now: datetime) -> None:
    """Before comparing, re-read the latest version's stored page with the parser that read this fetch.

    Otherwise an improved parser would show up as an edit by the outlet (News Sniffer's lesson). A different
    reading is stored as a `reparse` version from the same evidence, clearly not the outlet's doing.
    """
    if (article.parser, article.parser_version) == (extracted.parser, extracted.parser_version):
        return
    latest = latest_version(session, article.id)
    if latest is None or latest.raw_sha256 is None:
        return
    raw = load_raw_page(session, latest.raw_sha256)
    try:
        reread = extract(raw or b"", latest.final_url or article.url)
    except ExtractionError as exc:
        log.warning("re-reading version %s of %s failed: %s", latest.number, article.url, exc)
        return
    text_hash = version_hash(reread.title, reread.paragraphs)
    if text_hash == article.current_hash:
        return
    evidence = Evidence(latest.fetched_at, latest.http_status, latest.final_url, latest.raw_sha256)
    reparsed = _version_of(reread, text_hash, evidence, origin="reparse")
    number = _add_or_flipflop(session, article, reparsed, now)
    if number == reparsed.number:
        _log_check(session, article, now, "reparsed", version_number=number)


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

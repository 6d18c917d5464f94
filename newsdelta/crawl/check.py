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
from newsdelta.crawl.learning import hazard_book, recent_edits
from newsdelta.discovery import filed_url
from newsdelta.extract import Extracted, ExtractionError
from newsdelta.extract.registry import current_readings
from newsdelta.fetch import FetchError, FetchResult, RobotsDisallowed
from newsdelta.fetch.charset import header_charset
from newsdelta.fetch.retry_after import MAX_RETRY_AFTER
from newsdelta.fidelity.memory import count_paragraphs, load_masks, remember_rules
from newsdelta.fidelity.volatility import (
    Masks,
    Reading,
    Rule,
    carried_slots,
    shaped,
    stable,
    template_churn,
)
from newsdelta.schedule import ArticleFacts, LearnedPolicy, Policy
from newsdelta.store.checklog import LoggedCheck, log_checks
from newsdelta.store.evidence import StoredPage, body_sha256, prepare_page, raw_page_text
from newsdelta.store.leases import release_leases
from newsdelta.store.models import Article, ArticleAlias, Version
from newsdelta.store.repository import (
    article_by_url,
    latest_raw_sha256,
    latest_version,
    version_numbers_by_hash,
)
from newsdelta.text import version_hash
from newsdelta.vocabulary import ArticleState, Origin, Outcome

log = logging.getLogger(__name__)

REMOVED_HASH = version_hash("\x00removed", ())
# Fetches that confirm a changed text: the second only when the first found volatile text (see `_confirm`).
CONFIRMING_FETCHES = 2


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
    first_seen_at: datetime
    recent_edits: tuple[datetime, ...] = ()  # for the learned schedule's live pages


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
    Article.first_seen_at,
)


def load_snapshots(
    session: Session, article_ids: Sequence[int], owner: str, policy: Policy | None = None
) -> dict[int, Snapshot]:
    """A whole claimed batch in one query (two for the learned schedule, which also wants recent edits); work
    whose lease `owner` no longer holds is left out."""
    rows = session.execute(
        select(*SNAPSHOT_COLUMNS).where(Article.id.in_(article_ids), Article.lease_owner == owner)
    )
    snapshots = {row[0]: Snapshot(*row) for row in rows}  # type: ignore[call-arg]
    if isinstance(policy, LearnedPolicy) and snapshots:
        edits = recent_edits(session, list(snapshots), policy.live_edits)
        snapshots = {i: replace(s, recent_edits=edits.get(i, ())) for i, s in snapshots.items()}
    return snapshots


def load_batch(ctx: CrawlContext, article_ids: Sequence[int]) -> dict[int, Snapshot]:
    """The batch's snapshots, with the learned schedule's figures brought up to date outside any write."""
    with ctx.sessions() as session:
        hazard_book(session, ctx.policy, ctx.clock())
        return load_snapshots(session, article_ids, ctx.owner, ctx.policy)


def snapshot_facts(
    ctx: CrawlContext, session: Session, snapshot: Snapshot, now: datetime, *, edited: bool = False
) -> ArticleFacts:
    """What the plan after this check may know; `edited`: the check itself saw an edit."""
    book = hazard_book(session, ctx.policy, now)
    learned = None if book is None else book.lookup(snapshot.source_id, snapshot.url)
    edits = snapshot.recent_edits + ((now,) if edited else ())
    return ArticleFacts(snapshot.first_seen_at, edits, learned)


@dataclass(frozen=True, slots=True)
class NoChange:
    """A check that stored no text (unchanged, 304, robots): most checks are these, so they are written in
    batches. Losing an unwritten one costs nothing but a repeat: its lease brings the article back."""

    snapshot: Snapshot
    at: datetime
    outcome: Outcome
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
class FetchedPage:
    """A fetched page and what was read from it, with known volatile text masked (`masks`).

    After a confirming fetch, `learned` holds the rules for what differed and `volatile` how much did.
    `evidence` is the body already packed for the evidence store when the text looks new.
    """

    result: FetchResult
    extracted: Extracted
    text_hash: str
    masks: Masks
    read: tuple[str, ...] = ()  # the paragraphs as the first fetch read them, nothing masked
    learned: tuple[Rule, ...] = ()
    volatile: int = 0
    evidence: StoredPage | None = None
    numbers_only: bool = False  # differs from the latest version only in numbers: every confirming fetch


@lru_cache(maxsize=65_536)
def current_parser(url: str) -> frozenset[tuple[str, int]]:
    """The (parser, version) readings current for this URL (its outlet parser's or the generic fallback's);
    cached, since every check of every article asks."""
    return current_readings(url)


async def check_article(
    ctx: CrawlContext, article_id: int, *, snapshot: Snapshot | None = None, log: NoChangeLog | None = None
) -> Outcome:
    """Check one leased article and return the outcome (see `Check`).

    A batch passes the `snapshot` it read for all its articles and a `log` that writes no-change outcomes
    together; alone, the check reads and writes its own.
    """
    if snapshot is None:
        snapshot = load_batch(ctx, [article_id]).get(article_id)
    if snapshot is None:
        return Outcome.SKIPPED  # a redelivered task for work someone else has taken or finished
    try:
        outcome = await _check(ctx, snapshot)
    except IntegrityError:  # another URL of the same article was stored by a concurrent check just now
        with ctx.sessions.begin() as session:  # due at once: the next check sees what the other one stored
            release_leases(session, Article, [snapshot.article_id], ctx.owner, ctx.clock())
        return Outcome.CONFLICT
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


async def _check(ctx: CrawlContext, snapshot: Snapshot) -> Outcome | NoChange:
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
        return NoChange(snapshot, ctx.clock(), Outcome.ROBOTS, detail=str(exc))
    except FetchError as exc:
        return _record_error(ctx, snapshot, str(exc), status=exc.status, retry_after=exc.retry_after)
    if result.not_modified:
        return NoChange(snapshot, ctx.clock(), Outcome.NOT_MODIFIED, http_status=304)
    if result.gone:
        return _record_removed(ctx, snapshot, result)
    if result.status >= 400:
        return _record_error(ctx, snapshot, f"HTTP {result.status}", status=result.status)
    if body_sha256(result.body) == snapshot.body_sha256 and not reparse_needed:
        return NoChange(snapshot, ctx.clock(), Outcome.UNCHANGED, http_status=result.status, result=result)
    try:
        extracted = ctx.extractor(result.text, result.final_url)
    except ExtractionError as exc:
        return _record_error(ctx, snapshot, f"extraction failed: {exc}", status=result.status)
    page, known = _masked_page(ctx, snapshot, result, extracted)
    if ctx.confirm and not known:
        confirmed = await _confirm(ctx, snapshot, page)
        if isinstance(confirmed, Outcome):
            return confirmed
        page = confirmed
    if page.text_hash != snapshot.current_hash:
        page = replace(page, evidence=await _packed_evidence(ctx, snapshot, page.result))
    return _record_page(ctx, snapshot, page)


async def _packed_evidence(ctx: CrawlContext, snapshot: Snapshot, result: FetchResult) -> StoredPage | None:
    """The body packed (zstd-19, delta against the article's previous body: 70-130 ms for a news page) in a
    thread, so neither the event loop nor the article's locked transaction waits for it."""
    now = ctx.clock()

    def pack() -> StoredPage | None:
        with ctx.sessions() as session:
            previous = latest_raw_sha256(session, snapshot.article_id)
            content_type = result.headers.get("content-type")
            return prepare_page(ctx.evidence(session), result.body, content_type, now, previous=previous)

    return await asyncio.to_thread(pack)


def _reading(extracted: Extracted) -> Reading:
    return Reading(extracted.title, extracted.paragraphs, extracted.standfirst)


def _with_reading(extracted: Extracted, reading: Reading) -> Extracted:
    return replace(
        extracted, title=reading.title, paragraphs=reading.paragraphs, standfirst=reading.standfirst
    )


def _masked_page(
    ctx: CrawlContext, snapshot: Snapshot, result: FetchResult, extracted: Extracted
) -> tuple[FetchedPage, bool]:
    """The page with what is known to be volatile masked, and whether its text is already known: the same
    as the article's current text, or as its latest version once masked by what has been learned since."""
    with ctx.sessions() as session:
        masks = load_masks(session, snapshot.source_id, snapshot.article_id, extracted.paragraphs)
        reading = masks.apply(_reading(extracted))
        page = FetchedPage(
            result, _with_reading(extracted, reading), reading.text_hash, masks, extracted.paragraphs
        )
        if snapshot.current_hash is None or page.text_hash == snapshot.current_hash:
            return page, snapshot.current_hash is not None
        latest = latest_version(session, snapshot.article_id)
        before = _masked_version(latest, masks)
        if latest is not None and before is not None and page.text_hash == _rebaseline_hash(latest, before):
            return page, True
    # Only numbers differ from the latest version: an edit of a figure, or a counter drawn from a small range
    # ("4 min") that two fetches happened to agree on.
    return replace(page, numbers_only=before is not None and shaped(before) == shaped(reading)), False


def _masked_version(version: Version | None, masks: Masks) -> Reading | None:
    """The version's text as it reads with today's masks; None for none, and for a removal."""
    if version is None or version.origin == Origin.REMOVED:
        return None
    return masks.apply(Reading(version.title, tuple(version.paragraphs), version.standfirst or ""))


def _rebaseline_hash(latest: Version, masked: Reading) -> str | None:
    """The hash of the latest version `masked` with today's masks, when they mask more of it than when it was
    stored (None otherwise): equal to it, a page is a rebaseline, not an edit."""
    return None if masked.text_hash == latest.text_hash else masked.text_hash


def _latest_masked_hash(latest: Version | None, masks: Masks) -> str | None:
    """`_rebaseline_hash` of the latest version with these masks (None after a removal)."""
    masked = _masked_version(latest, masks)
    return None if latest is None or masked is None else _rebaseline_hash(latest, masked)


async def _confirm(ctx: CrawlContext, snapshot: Snapshot, page: FetchedPage) -> FetchedPage | Outcome:
    """Fetch the page again after a pause and keep only the text both fetches agree on.

    Seconds apart, the outlet has not edited the article: whatever differs is chrome (counters, clocks,
    rotating lists), masked here and remembered so that the next checks need no second fetch. When the two
    differed, or when the text differs from the latest version only in numbers, a third fetch is merged in
    too: two fetches agree by chance on a value drawn from a few (a weather word, "4 min" read), three
    rarely do.
    """
    for fetch in range(CONFIRMING_FETCHES):
        if fetch and not page.volatile and not page.numbers_only:
            break
        await asyncio.sleep(ctx.fetcher.per_host_delay)
        try:
            again = await ctx.fetcher.get(snapshot.url)
        except FetchError as exc:
            return _record_error(ctx, snapshot, f"confirming fetch failed: {exc}", status=exc.status)
        if again.status != page.result.status:
            message = f"confirming fetch got HTTP {again.status}"
            return _record_error(ctx, snapshot, message, status=again.status)
        try:
            other = ctx.extractor(again.text, again.final_url)
        except ExtractionError as exc:
            return _record_error(ctx, snapshot, f"extraction failed: {exc}", status=again.status)
        merged = stable(_reading(page.extracted), page.masks.apply(_reading(other)))
        # What was just learned also masks the latest version when comparing: a value both fetches of an
        # earlier check happened to agree on is volatile all the same.
        page = replace(
            page,
            extracted=_with_reading(page.extracted, merged.reading),
            text_hash=merged.reading.text_hash,
            masks=replace(page.masks, rules=page.masks.rules + merged.learned),
            learned=page.learned + merged.learned,
            volatile=page.volatile + merged.volatile,
        )
    return page


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
    facts: ArticleFacts,
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
        period, next_at = policy.plan(now, timedelta(seconds=period_seconds), changed=changed, facts=facts)
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
                facts=snapshot_facts(ctx, session, snapshot, record.at),
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
    outcome: Outcome,
    *,
    http_status: int | None = None,
    version_number: int | None = None,
    detail: str | None = None,
) -> Outcome:
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
) -> Outcome:
    """Back off (doubling, or as long as the server asked); the article's text and versions stay as they are."""
    now = ctx.clock()
    log.warning("check of %s failed: %s", snapshot.url, message)
    with ctx.sessions.begin() as session:
        article = _locked_article(session, ctx, snapshot.article_id)
        if article is None:
            return Outcome.SKIPPED
        article.error_streak += 1
        article.last_error = message[:2000]
        delay = ctx.policy.error_delay(article.error_streak)
        if retry_after is not None:  # clamped again here: no number from the network may overflow a date
            delay = max(delay, timedelta(seconds=min(MAX_RETRY_AFTER, max(0.0, retry_after))))
        article.next_check_at = now + delay
        _apply(article, _released(now))
        return _log_check(session, article, now, Outcome.ERROR, http_status=status, detail=message[:2000])


def _record_removed(ctx: CrawlContext, snapshot: Snapshot, result: FetchResult) -> Outcome:
    """A 404/410: the removal itself is a version, so the article's history shows when it went."""
    now = ctx.clock()
    with ctx.sessions.begin() as session:
        article = _locked_article(session, ctx, snapshot.article_id)
        if article is None:
            return Outcome.SKIPPED
        newly_gone = article.state != ArticleState.GONE
        number = None
        if newly_gone:
            previous = latest_version(session, article.id)
            removal = Version(
                origin=Origin.REMOVED,
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
            article.state = ArticleState.GONE
            article.gone_at = now
            # The page's last body is no longer what the URL serves: its return must be compared in full.
            article.body_sha256 = article.etag = article.last_modified = None
        period, planned = article.check_period_seconds, article.planned_check_at
        facts = snapshot_facts(ctx, session, snapshot, now)
        _apply(
            article,
            _schedule_values(ctx.policy, period, now, changed=newly_gone, facts=facts, planned=planned),
        )
        return _log_check(
            session, article, now, Outcome.GONE, http_status=result.status, version_number=number
        )


def _record_page(ctx: CrawlContext, snapshot: Snapshot, page: FetchedPage) -> Outcome:
    now = ctx.clock()
    with ctx.sessions.begin() as session:
        article = _locked_article(session, ctx, snapshot.article_id)
        if article is None:
            return Outcome.SKIPPED
        if not _settle_url(session, article, page):
            log.info("%s is another URL of %s", snapshot.url, page.result.final_url)
            return Outcome.MERGED
        reread = _reparse_latest(ctx, session, article, page, now)
        article.state = ArticleState.LIVE
        article.gone_at = None
        outcome, number, detail = Outcome.UNCHANGED, None, _volatility_note(page)
        if page.text_hash != article.current_hash:
            latest = reread if reread is not None else latest_version(session, article.id)
            page = _without_slow_chrome(ctx, session, article, page, latest)
            if page.text_hash == article.current_hash:
                pass  # only slowly changing chrome had changed
            elif page.text_hash == _latest_masked_hash(latest, page.masks):
                # Newly learned chrome or boilerplate masked: a rebaseline, not an edit.
                article.current_hash = page.text_hash
                detail = "rebaselined: text newly known to be volatile or boilerplate is masked"
            else:
                version = _version_from_page(ctx, session, article.id, page, now, latest)
                number = _add_or_flipflop(session, article, version, now)
                outcome = Outcome.NEW_VERSION if number == version.number else Outcome.FLIPFLOP
                if version.number == 0:  # a template's text is there from the start; a correction is not
                    count_paragraphs(session, article.source_id, article.id, version.paragraphs)
        remember_rules(session, article.source_id, article.id, page.learned, now)
        changed = outcome != Outcome.UNCHANGED
        period, planned = article.check_period_seconds, article.planned_check_at
        facts = snapshot_facts(ctx, session, snapshot, now, edited=outcome == "new_version" and number != 0)
        _apply(
            article, _schedule_values(ctx.policy, period, now, changed=changed, facts=facts, planned=planned)
        )
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


def _without_slow_chrome(
    ctx: CrawlContext, session: Session, article: Article, page: FetchedPage, latest: Version | None
) -> FetchedPage:
    """The page without chrome that changed too slowly since the `latest` version for the confirming fetch to
    see it (`template_churn`), and with the latest version's slots carried into edited paragraphs
    (`carried_slots`); both remembered as chrome. Only pages about to become a version get here, so
    re-reading the latest version's evidence is rare."""
    if latest is None or latest.origin == Origin.REMOVED:
        return page
    masks = page.masks
    rules = carried_slots(tuple(latest.paragraphs), page.extracted.paragraphs)
    before = _latest_reading(ctx, session, article, page, latest)
    if before is not None:
        known = load_masks(session, article.source_id, article.id, before.paragraphs)
        # The latest version's own boilerplate, too: chrome that left the page is no edit either.
        masks = replace(
            masks, boilerplate=masks.boilerplate | known.boilerplate, shapes=masks.shapes | known.shapes
        )
        rules += template_churn(before.paragraphs, page.read, replace(masks, rules=page.masks.rules))
    if not rules:
        return page
    reading = Masks(rules).apply(_reading(page.extracted))
    return replace(
        page,
        extracted=_with_reading(page.extracted, reading),
        text_hash=reading.text_hash,
        masks=replace(masks, rules=page.masks.rules + rules),
        learned=page.learned + rules,
        volatile=page.volatile + len(rules),
    )


def _latest_reading(
    ctx: CrawlContext, session: Session, article: Article, page: FetchedPage, latest: Version
) -> Extracted | None:
    """The latest version's stored page read again, unmasked, as this page was read; None without one."""
    if latest.origin != Origin.FETCH or latest.raw_sha256 is None or not page.read:
        return None
    try:
        return ctx.extractor(
            raw_page_text(ctx.evidence(session), latest),
            latest.final_url or article.url,
            reading=page.extracted.parser,
        )
    except ExtractionError:
        return None


def _volatility_note(page: FetchedPage) -> str | None:
    if not page.volatile:
        return None
    return f"{page.volatile} volatile spans or paragraphs differed between two fetches and were masked"


def _version_from_page(
    ctx: CrawlContext,
    session: Session,
    article_id: int,
    page: FetchedPage,
    now: datetime,
    latest: Version | None,
) -> Version:
    """`latest` is the article's latest version, whose body (or, after a removal, the newest body kept) the
    new body is delta-compressed against when it was not packed before the lock."""
    result = page.result
    content_type = result.headers.get("content-type")
    store = ctx.evidence(session)
    packed = page.evidence
    if packed is None:  # not packed before the lock (the text looked known then)
        previous = latest.raw_sha256 if latest is not None else None
        if latest is not None and previous is None:
            previous = latest_raw_sha256(session, article_id)
        packed = prepare_page(store, result.body, content_type, now, previous=previous)
    if packed is not None:
        store.put(replace(packed, first_seen_at=now))
    raw = body_sha256(result.body)
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
    return _version_of(page.extracted, page.text_hash, evidence, origin=Origin.FETCH)


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


def _version_of(extracted: Extracted, text_hash: str, evidence: Evidence, *, origin: Origin) -> Version:
    return Version(
        origin=origin,
        title=extracted.title,
        standfirst=extracted.standfirst or None,
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
    ctx: CrawlContext, session: Session, article: Article, page: FetchedPage, now: datetime
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
            raw_page_text(ctx.evidence(session), latest),
            latest.final_url or article.url,
            reading=extracted.parser,
        )
    except ExtractionError as exc:
        log.warning("re-reading version %s of %s failed: %s", latest.number, article.url, exc)
        return latest
    reading = page.masks.apply(_reading(reread))
    reread, text_hash = _with_reading(reread, reading), reading.text_hash
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
    reparsed = _version_of(reread, text_hash, evidence, origin=Origin.REPARSE)
    number = _add_or_flipflop(session, article, reparsed, now)
    if number != reparsed.number:
        return latest
    _log_check(session, article, now, Outcome.REPARSED, version_number=number)
    return reparsed


def _settle_url(session: Session, article: Article, page: FetchedPage) -> bool:
    """Follow the outlet to the article's real URL (redirect, http→https, rel=canonical) on its first fetch.

    The URL it was found under becomes an alias. When another article already has the real URL, this one
    was a second name for it: it is folded into that one (False is returned and nothing else is stored).
    """
    if article.version_count:
        return True
    real = filed_url(page.extracted.canonical_url, page.result.final_url)
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

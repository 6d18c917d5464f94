"""What the learned schedule knows, read from the store: each source's (and section's) hazard, each source's
threshold under its request budget, and the facts a plan needs about one article.

Every process — `newsdelta crawl`, each Celery worker, the web site — reads the same figures from the same
store (`hazard_book`, re-read every `REFRESH` of its clock), so they all plan alike with no coordination.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from newsdelta.hazard import EDGES, Observation, estimate
from newsdelta.schedule import (
    ArticleFacts,
    Learned,
    LearnedPolicy,
    NextCheckReason,
    Policy,
    capture_estimate,
    next_check_reason,
)
from newsdelta.store.models import Article, Source, Version

REFRESH = timedelta(minutes=10)
HISTORY = timedelta(days=60)  # articles found this recently teach the hazard,
HISTORY_ARTICLES = 20_000  # at most this many of the newest
SECTION_MIN_ARTICLES = 20  # a section with fewer articles uses its source's hazard
_SECTION = re.compile(r"[a-z][a-z-]*")


def section_of(url: str) -> str | None:
    """The first path segment when it reads as a section name (`/politics/2026/…`), not a date or the slug."""
    segments = [s for s in urlsplit(url).path.lower().split("/") if s]
    return segments[0] if len(segments) > 1 and _SECTION.fullmatch(segments[0]) else None


@dataclass(frozen=True, slots=True)
class SourceFigures:
    """A source's schedule figures, for `newsdelta status`: expected requests fit `budget` at `threshold`."""

    name: str
    budget: float | None
    threshold: float
    budget_limited: bool
    expected_edits_per_hour: float
    first_checks_per_hour: float
    live_pages: int
    articles_learned_from: int

    @property
    def capture_estimate(self) -> float:
        return capture_estimate(self.threshold)


@dataclass(frozen=True, slots=True)
class HazardBook:
    refreshed_at: datetime
    sources: dict[int, Learned]
    sections: dict[tuple[int, str], Learned]
    figures: dict[int, SourceFigures]

    def lookup(self, source_id: int, url: str) -> Learned | None:
        section = section_of(url)
        if section is not None and (source_id, section) in self.sections:
            return self.sections[(source_id, section)]
        return self.sources.get(source_id)


_BOOKS: dict[tuple[str, LearnedPolicy], HazardBook] = {}


def hazard_book(session: Session, policy: Policy, now: datetime) -> HazardBook | None:
    """The store's book for the learned `policy` (None for the other policies), re-read when stale."""
    if not isinstance(policy, LearnedPolicy):
        return None
    key = (str(session.get_bind().engine.url), policy)
    book = _BOOKS.get(key)
    if book is None or not book.refreshed_at <= now < book.refreshed_at + REFRESH:
        # Read as of the start of the clock's REFRESH slot: the figures depend on the store and the slot alone,
        # not on when some check happened to ask (so a wrong signal's extra check changes nothing).
        slot = datetime.fromtimestamp(
            now.timestamp() // REFRESH.total_seconds() * REFRESH.total_seconds(), UTC
        )
        book = _BOOKS[key] = read_book(session, policy, slot)
    return book


def read_book(session: Session, policy: LearnedPolicy, now: datetime) -> HazardBook:
    names = {source_id: name for source_id, name in session.execute(select(Source.id, Source.name))}
    observations, live = _observations(session, policy, now)
    counts = _tracked_by_age(session, now)
    first_checks: dict[int, int] = {
        source_id: count
        for source_id, count in session.execute(
            select(Article.source_id, func.count())
            .where(Article.first_seen_at >= now - timedelta(hours=1), Article.first_seen_at <= now)
            .group_by(Article.source_id)
        )
    }
    sources: dict[int, Learned] = {}
    sections: dict[tuple[int, str], Learned] = {}
    figures: dict[int, SourceFigures] = {}
    for source_id, name in names.items():
        by_section = observations.get(source_id, {})
        hazard = estimate(o for group in by_section.values() for o in group)  # the source's, for its demand
        demand = sum(n * hazard.rates[b] for b, n in counts.get(source_id, {}).items())
        budget = policy.budget.of(name)
        threshold, live_interval, limited = policy.threshold_for(
            budget, demand=demand, first_checks=first_checks.get(source_id, 0), live_pages=live[source_id]
        )
        sources[source_id] = Learned(hazard, threshold, limited, live_interval, f"source {name}")
        by_name = learn_sections(sources[source_id], name, by_section)
        sections |= {(source_id, section): learned for section, learned in by_name.items()}
        figures[source_id] = SourceFigures(
            name,
            budget,
            threshold,
            limited,
            demand,
            first_checks.get(source_id, 0),
            live[source_id],
            hazard.articles,
        )
    return HazardBook(now, sources, sections, figures)


def learn_sections(
    source: Learned, name: str, by_section: Mapping[str | None, Sequence[Observation]]
) -> dict[str, Learned]:
    """Each well-observed section's figures: its own hazard with the source's as the prior, and the source's
    threshold and live cadence."""
    return {
        section: replace(
            source, hazard=estimate(group, prior=source.hazard), scope=f"section {name}/{section}"
        )
        for section, group in by_section.items()
        if section is not None and len(group) >= SECTION_MIN_ARTICLES
    }


def _observations(
    session: Session, policy: LearnedPolicy, now: datetime
) -> tuple[dict[int, dict[str | None, list[Observation]]], Counter[int]]:
    """The recent articles' histories by source and section, and each source's live pages now."""
    since = now - HISTORY
    recent = (
        select(Article.id)
        .where(
            Article.first_seen_at >= since, Article.first_seen_at <= now, Article.last_checked_at.is_not(None)
        )
        .order_by(Article.first_seen_at.desc())
        .limit(HISTORY_ARTICLES)
        .scalar_subquery()
    )
    articles = session.execute(
        select(
            Article.id,
            Article.source_id,
            Article.url,
            Article.first_seen_at,
            Article.last_checked_at,
            Article.next_check_at.is_not(None),
        ).where(Article.id.in_(recent))
    )
    edits: dict[int, list[datetime]] = defaultdict(list)
    for article_id, at in session.execute(
        select(Version.article_id, Version.fetched_at).where(
            Version.article_id.in_(recent), Version.number > 0, Version.origin == "fetch"
        )
    ):
        edits[article_id].append(at)
    grouped: dict[int, dict[str | None, list[Observation]]] = defaultdict(lambda: defaultdict(list))
    live: Counter[int] = Counter()
    for article_id, source_id, url, found, checked, tracked in articles:
        # A tracked article is under watch until now, whenever its checks fell; a retired one until its last.
        until = now if tracked else checked or found
        ages = tuple(_hours(at - found) for at in edits.get(article_id, ()) if at <= now)
        grouped[source_id][section_of(url)].append(Observation(_hours(until - found), ages))
        lately = sum(1 for at in edits.get(article_id, ()) if timedelta(0) <= now - at <= policy.live_window)
        live[source_id] += lately >= policy.live_edits
    return grouped, live


def _tracked_by_age(session: Session, now: datetime) -> dict[int, dict[int, int]]:
    """Articles still checked, counted by source and age bucket: what the source's schedule must serve."""
    bucket = case(
        *((Article.first_seen_at > now - timedelta(hours=EDGES[i + 1]), i) for i in range(len(EDGES) - 1)),
        else_=len(EDGES) - 1,
    )
    rows = session.execute(
        select(Article.source_id, bucket, func.count())
        .where(Article.next_check_at.is_not(None))
        .group_by(Article.source_id, bucket)
    )
    counts: dict[int, dict[int, int]] = defaultdict(dict)
    for source_id, index, count in rows:
        if index < len(EDGES) - 1:
            counts[source_id][index] = count
    return counts


def _hours(span: timedelta) -> float:
    return max(0.0, span.total_seconds() / 3600)


def recent_edits(session: Session, article_ids: Sequence[int], count: int) -> dict[int, tuple[datetime, ...]]:
    """When checks saw each article's last `count` edits (oldest first): enough to tell a live page."""
    rows = session.execute(
        select(Version.article_id, Version.fetched_at)
        .join(Article, Article.id == Version.article_id)
        .where(
            Version.article_id.in_(article_ids),
            Version.number > 0,
            Version.origin == "fetch",
            Version.number >= Article.version_count - count,
        )
        .order_by(Version.article_id, Version.number)
    )
    found: dict[int, list[datetime]] = defaultdict(list)
    for article_id, at in rows:
        found[article_id].append(at)
    return {article_id: tuple(times) for article_id, times in found.items()}


def article_facts(session: Session, article: Article, policy: Policy, now: datetime) -> ArticleFacts:
    """The facts the article's last plan used, as far as the store can tell now (for its reason)."""
    book = hazard_book(session, policy, now)
    edits = recent_edits(session, [article.id], _live_edits(policy)).get(article.id, ())
    learned = None if book is None else book.lookup(article.source_id, article.url)
    return ArticleFacts(article.first_seen_at, edits, learned)


def explain(session: Session, article: Article, policy: Policy, now: datetime) -> NextCheckReason:
    """Why the article's next check is when it is, with the learned figures behind it (history, article page)."""
    return next_check_reason(article, policy, article_facts(session, article, policy, now))


def _live_edits(policy: Policy) -> int:
    return policy.live_edits if isinstance(policy, LearnedPolicy) else 0


def source_figures(session: Session, policy: Policy, now: datetime) -> dict[str, SourceFigures]:
    book = hazard_book(session, policy, now)
    return {} if book is None else {f.name: f for f in book.figures.values()}

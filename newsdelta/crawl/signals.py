"""Change signals: the outlet's own word that a tracked article changed (a sitemap's <lastmod>, a feed item's
<updated>), read on every poll of its feeds and sitemaps.

A signal newer than the last one seen for the article and than its last check makes the article due now; the
fetcher's per-host limits still space the requests. The check the schedule had planned is kept in
`planned_check_at`, so a wrong signal (the page did not change) costs one request and the schedule resumes as
planned (`newsdelta.crawl.check`). A retired article is woken too: some desks correct days later.

An article out on a check (leased) keeps its last signal: the next poll sees the new one again and judges it
against that check's time, so a signal can never be lost to a check that fetched before the edit. The outlet's
clock is trusted: one running behind ours by more than the gap between an edit and our previous check hides that
edit from its signal (the schedule still finds it).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from newsdelta.store.models import Article, ArticleAlias


def apply_signals(
    session: Session, signals: Mapping[str, datetime], now: datetime, *, origin: str = "feed"
) -> int:
    """Note each tracked article's newest signal (keyed by its URL or an alias); return how many fell due.

    `origin` says who gave them: "feed" (a poll) or "websub" (a hub's notification)."""
    if not signals:
        return 0
    urls = list(signals)
    aliases = session.execute(
        select(ArticleAlias.url, ArticleAlias.article_id).where(ArticleAlias.url.in_(urls))
    ).all()
    newest: dict[int, datetime] = {}
    for url, article_id in aliases:
        newest[article_id] = max(signals[url], newest.get(article_id, signals[url]))
    query = select(Article).where(or_(Article.url.in_(urls), Article.id.in_(list(newest))))
    due = 0
    for article in session.scalars(query):
        signal = max(s for s in (signals.get(article.url), newest.get(article.id)) if s is not None)
        due += note_signal(article, signal, now, origin=origin)
    return due


def note_signal(article: Article, signal: datetime, now: datetime, *, origin: str = "feed") -> bool:
    """Record `signal` for the article and bring its next check forward to now if it is news; True if so."""
    if article.lease_until is not None and article.lease_until > now:
        return False
    if article.signal_at is not None and signal <= article.signal_at:
        return False
    article.signal_at = signal
    article.signal_origin = origin
    if article.last_checked_at is not None and signal <= article.last_checked_at:
        return False  # the last check already saw this change
    if article.next_check_at is not None and article.next_check_at <= now:
        return False  # due anyway
    if article.planned_check_at is None:
        article.planned_check_at = article.next_check_at
    article.next_check_at = now
    return True

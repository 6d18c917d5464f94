"""Each source's request budget, enforced where article checks are claimed — by `newsdelta crawl` and by the
Celery scheduler alike, so every deployment keeps it.

The learned schedule plans within the budget (its threshold, newsdelta.crawl.learning); this is the hard limit
behind that plan, for the bursts a plan cannot foresee (many articles found at once, signals, live pages): a
source whose checks in the last hour, with those in flight, reach its budget is not claimed from: its due
articles (and what a claim took beyond the budget) fall due again after one budget slot (an hour / budget),
when the next claim looks again. A forced pass (`crawl --force`) is the operator's explicit wish and is not
held back.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from newsdelta.schedule import LearnedPolicy, Policy
from newsdelta.store.leases import claim_due, lease_free
from newsdelta.store.models import Article, Source
from newsdelta.store.queries import checks_per_source

WINDOW = timedelta(hours=1)


def claim_articles(
    session: Session,
    now: datetime,
    *,
    limit: int,
    lease: timedelta,
    owner: str,
    policy: Policy,
    forced_since: datetime | None = None,
) -> list[int]:
    """`claim_due` for articles, within each source's budget for the last hour."""
    budgets = source_budgets(session, policy)
    if not budgets or forced_since is not None:
        return claim_due(
            session, Article, now, limit=limit, lease=lease, owner=owner, forced_since=forced_since
        )
    left = budget_left(session, budgets, now)
    for source_id in (source_id for source_id, count in left.items() if count <= 0):
        _defer(session, Article.source_id == source_id, now + WINDOW / budgets[source_id], now)
    session.commit()
    ids = claim_due(session, Article, now, limit=limit, lease=lease, owner=owner)
    return _give_back_excess(session, ids, left, budgets, now)


def _defer(session: Session, which: ColumnElement[bool], until: datetime, now: datetime) -> None:
    """Due articles that the budget holds back fall due again after one budget slot."""
    due = which & (Article.next_check_at <= now) & lease_free(Article, now)
    session.execute(update(Article).where(due).values(next_check_at=until))


def source_budgets(session: Session, policy: Policy) -> dict[int, float]:
    """Requests per hour by source id, for the sources that have a budget."""
    if not isinstance(policy, LearnedPolicy) or policy.budget.unlimited:
        return {}
    found: dict[int, float] = {}
    for source_id, name in session.execute(select(Source.id, Source.name)):
        budget = policy.budget.of(name)
        if budget is not None:
            found[source_id] = budget
    return found


def budget_left(session: Session, budgets: dict[int, float], now: datetime) -> dict[int, int]:
    """Checks each budgeted source may still start now: its budget less its checks in the last hour and
    those in flight."""
    used: dict[int, int] = defaultdict(int, checks_per_source(session, now - WINDOW))
    in_flight = (
        select(Article.source_id, func.count())
        .where(Article.lease_until > now, Article.source_id.in_(list(budgets)))
        .group_by(Article.source_id)
    )
    for source_id, count in session.execute(in_flight):
        used[source_id] += count
    return {source_id: int(budget) - used[source_id] for source_id, budget in budgets.items()}


def _give_back_excess(
    session: Session, ids: list[int], left: dict[int, int], budgets: dict[int, float], now: datetime
) -> list[int]:
    if not ids:
        return ids
    kept: list[int] = []
    excess: dict[int, list[int]] = defaultdict(list)
    for article_id, source_id in session.execute(
        select(Article.id, Article.source_id).where(Article.id.in_(ids)).order_by(Article.id)
    ):
        if source_id in left and left[source_id] <= 0:
            excess[source_id].append(article_id)
        else:
            kept.append(article_id)
            if source_id in left:
                left[source_id] -= 1
    for source_id, returned in excess.items():
        slot = now + WINDOW / budgets[source_id]
        session.execute(
            update(Article)
            .where(Article.id.in_(returned))
            .values(lease_until=None, lease_owner=None, next_check_at=slot)
        )
        _defer(session, Article.source_id == source_id, slot, now)  # what the claim's limit left due
    session.commit()
    return kept

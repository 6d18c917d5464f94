"""`newsdelta status`: is the crawl keeping up? Queue depth, due backlog, error rates, oldest overdue check."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from newsdelta.config import Settings
from newsdelta.crawl.context import utc_now
from newsdelta.distributed.celery_app import make_celery, queue_depth
from newsdelta.distributed.tasks import queue_name
from newsdelta.notify import delivery_report
from newsdelta.store.db import open_database
from newsdelta.store.leases import lease_free
from newsdelta.store.models import Article, Check, Feed, Source
from newsdelta.store.queries import fallback_pages, hub_states
from newsdelta.vocabulary import Outcome

ERROR_WINDOW = timedelta(hours=24)


def _due_counts(session: Session, model: type[Article] | type[Feed], now: datetime) -> dict[str, Any]:
    free = lease_free(model, now)
    due, leased, oldest = session.execute(
        select(
            func.count().filter(and_(model.next_check_at <= now, free)),
            func.count().filter(model.lease_until >= now),
            func.min(model.next_check_at).filter(and_(model.next_check_at <= now, free)),
        )
    ).one()
    return {
        "due": due,
        "in_flight": leased,
        "oldest_overdue_at": oldest.isoformat() if oldest else None,
        "oldest_overdue_seconds": round((now - oldest).total_seconds(), 1) if oldest else 0.0,
    }


def _source_error_rates(session: Session, since: datetime) -> list[dict[str, Any]]:
    errors = func.sum(case((Check.outcome == Outcome.ERROR, 1), else_=0))
    rows = session.execute(
        select(Source.name, func.count(Check.id), errors)
        .join(Article, Article.source_id == Source.id)
        .join(Check, Check.article_id == Article.id)
        .where(Check.at >= since)
        .group_by(Source.name)
        .order_by(Source.name)
    )
    fallback = fallback_pages(session, since)
    return [
        {
            "source": name,
            "checks": checks,
            "errors": int(failed),
            "error_rate": round(failed / checks, 4),
            "fallback_pages": fallback.get(name, 0),
        }
        for name, checks, failed in rows
    ]


def _websub_report(session: Session, settings: Settings) -> dict[str, Any]:
    """Each feed's hub subscription; WebSub is off (hubs recorded, not asked) without a public base URL."""
    report: dict[str, Any] = {"enabled": settings.base_url is not None}
    if settings.base_url is None:
        report["note"] = "off: set NEWSDELTA_BASE_URL (where hubs reach `newsdelta serve`) to subscribe"
    report["subscriptions"] = [state.as_json() for state in hub_states(session)]
    return report


def status_report(settings: Settings, *, now: datetime | None = None) -> dict[str, Any]:
    """Figures for operators as JSON-ready data; `queue_depth` is None without a broker or when it is down."""
    now = now or utc_now()
    sessions = open_database(settings.database_url, migrate=False)
    try:
        with sessions() as session:
            report: dict[str, Any] = {
                "now": now.isoformat(),
                "articles": _due_counts(session, Article, now),
                "feeds": _due_counts(session, Feed, now),
                "sources": _source_error_rates(session, now - ERROR_WINDOW),
                "notifications": delivery_report(session),
                "websub": _websub_report(session, settings),
            }
    finally:
        sessions.kw["bind"].dispose()
    report["queue"] = queue_name()
    report["queue_depth"] = queue_depth(make_celery(settings)) if settings.broker_url else None
    return report

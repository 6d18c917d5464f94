"""`newsdelta status`: is the crawl keeping up? Queue depth, due backlog, error rates, oldest overdue check."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from newsdelta.config import Settings
from newsdelta.crawl.context import utc_now
from newsdelta.distributed.celery_app import make_celery, queue_depth
from newsdelta.distributed.tasks import queue_name
from newsdelta.notify import delivery_report
from newsdelta.store import checklog
from newsdelta.store.db import open_database
from newsdelta.store.models import Article, Feed, Source
from newsdelta.store.queries import fallback_pages
from newsdelta.store.repository import lease_free

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
    counts = checklog.counts_since(session, since)
    rows = session.execute(select(Source.id, Source.name).where(Source.id.in_(list(counts))))
    names = {source_id: name for source_id, name in rows}
    fallback = fallback_pages(session, since)
    return [
        {
            "source": name,
            "checks": counts[source_id].checks,
            "errors": counts[source_id].errors,
            "error_rate": round(counts[source_id].error_rate, 4),
            "fallback_pages": fallback.get(name, 0),
        }
        for source_id, name in sorted(names.items(), key=lambda item: item[1])
    ]


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
            }
    finally:
        sessions.kw["bind"].dispose()
    report["queue"] = queue_name()
    report["queue_depth"] = queue_depth(make_celery(settings)) if settings.broker_url else None
    return report

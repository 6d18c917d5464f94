"""`newsdelta status`: is the crawl keeping up? Queue depth, due backlog, error rates, oldest overdue check."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsdelta.config import Settings
from newsdelta.crawl.context import utc_now
from newsdelta.crawl.learning import source_figures
from newsdelta.distributed.celery_app import make_celery, queue_depth
from newsdelta.distributed.tasks import queue_name
from newsdelta.notify import delivery_report
from newsdelta.runtime import open_store
from newsdelta.store.leases import backlog
from newsdelta.store.models import Article, Feed, Source
from newsdelta.store.queries import checks_per_source, hub_states, source_health

HOUR = timedelta(hours=1)


def _due_counts(session: Session, model: type[Article] | type[Feed], now: datetime) -> dict[str, Any]:
    due, leased, oldest = backlog(session, model, now)
    return {
        "due": due,
        "in_flight": leased,
        "oldest_overdue_at": oldest.isoformat() if oldest else None,
        "oldest_overdue_seconds": round((now - oldest).total_seconds(), 1) if oldest else 0.0,
    }


def _source_error_rates(session: Session, now: datetime) -> list[dict[str, Any]]:
    """The sources checked in the last 24 hours (`source_health`'s window), with their error rates."""
    return [
        {
            "source": health.name,
            "checks": health.checks,
            "errors": health.errors,
            "error_rate": round(health.error_rate, 4),
            "fallback_pages": health.fallback_pages,
        }
        for health in source_health(session, now)
        if health.error_rate is not None
    ]


def _websub_report(session: Session, settings: Settings) -> dict[str, Any]:
    """Each feed's hub subscription; WebSub is off (hubs recorded, not asked) without a public base URL."""
    report: dict[str, Any] = {"enabled": settings.base_url is not None}
    if settings.base_url is None:
        report["note"] = "off: set NEWSDELTA_BASE_URL (where hubs reach `newsdelta serve`) to subscribe"
    report["subscriptions"] = [state.as_json() for state in hub_states(session)]
    return report


def _schedule_figures(session: Session, settings: Settings, now: datetime) -> dict[str, Any]:
    """Each source's article checks in the last hour against its budget, and the learned schedule's estimate
    of the share of edits it catches (newsdelta.schedule.capture_estimate)."""
    names = {source_id: name for source_id, name in session.execute(select(Source.id, Source.name))}
    used = {names[source_id]: count for source_id, count in checks_per_source(session, now - HOUR).items()}
    learned = source_figures(session, settings.policy, now)
    sources = []
    for name in sorted(set(used) | set(learned)):
        figures = learned.get(name)
        budget = figures.budget if figures else None
        row: dict[str, Any] = {
            "source": name,
            "checks_last_hour": used.get(name, 0),
            "budget_per_hour": budget,
            "budget_use": round(used.get(name, 0) / budget, 3) if budget else None,
        }
        if figures is not None:
            row |= {
                "expected_edits_per_check": round(figures.threshold, 3),
                "budget_limited": figures.budget_limited,
                "estimated_capture": round(figures.capture_estimate, 3),
                "live_pages": figures.live_pages,
                "learned_from_articles": figures.articles_learned_from,
            }
        sources.append(row)
    return {"policy": settings.policy.name, "sources": sources}


def status_report(settings: Settings, *, now: datetime | None = None) -> dict[str, Any]:
    """Figures for operators as JSON-ready data; `queue_depth` is None without a broker or when it is down."""
    now = now or utc_now()
    sessions = open_store(settings, migrate=False)
    try:
        with sessions() as session:
            report: dict[str, Any] = {
                "now": now.isoformat(),
                "articles": _due_counts(session, Article, now),
                "feeds": _due_counts(session, Feed, now),
                "sources": _source_error_rates(session, now),
                "notifications": delivery_report(session),
                "websub": _websub_report(session, settings),
                "schedule": _schedule_figures(session, settings, now),
            }
    finally:
        sessions.kw["bind"].dispose()
    report["queue"] = queue_name()
    report["queue_depth"] = queue_depth(make_celery(settings)) if settings.broker_url else None
    return report

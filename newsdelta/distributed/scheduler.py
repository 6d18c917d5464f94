"""The scheduler: claim what is due now in the database and put it on the queue by id, tick after tick.

The schedule never leaves the database: no task is sent for later (delayed tasks come back from Redis after
the visibility timeout and millions of them do not fit). Each claim is a lease with an expiry owned by a
fresh token that travels in the task, so work lost anywhere (worker killed, broker restarted, publish
failed) comes back when the lease expires, and a stale task can never act on a newer claim. Any number of
schedulers can run: FOR UPDATE SKIP LOCKED makes their claims disjoint.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from celery import Celery
from sqlalchemy.orm import Session, sessionmaker

from newsdelta import metrics
from newsdelta.config import Settings
from newsdelta.crawl.budget import claim_articles
from newsdelta.crawl.context import FEED_LEASE, process_owner, utc_now
from newsdelta.crawl.wayback import archive_due
from newsdelta.distributed.celery_app import broker_errors, make_celery, queue_depth
from newsdelta.distributed.tasks import (
    CHECK_TASK,
    CHECKS_PER_TASK,
    HUB_TASK,
    NOTIFY_TASK,
    POLL_TASK,
    Clock,
)
from newsdelta.notify import notifications_due
from newsdelta.runtime import archive_keys, open_store
from newsdelta.schedule import LearnedPolicy, Policy
from newsdelta.store import checklog
from newsdelta.store.leases import Claimable, claim_due, release_leases
from newsdelta.store.models import Article, Feed, HubSubscription

log = logging.getLogger(__name__)
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


@dataclass(frozen=True, slots=True)
class SchedulerOptions:
    """`lease` must outlast a task's wait in the queue plus its run; `max_queued` bounds that wait."""

    batch: int = 500
    lease: timedelta = timedelta(minutes=10)
    feed_lease: timedelta = FEED_LEASE
    interval: float = 1.0
    max_queued: int = 5000
    policy: Policy = field(default_factory=LearnedPolicy)  # its request budgets hold claims back
    # At most one notify task per this many seconds: a delivery under way must not be re-sent every tick.
    notify_interval: float = 5.0
    # Send due WebSub requests (subscribe, renew, unsubscribe): only with a public base URL for callbacks.
    websub: bool = False
    # Save Page Now is configured: the notify task (which runs its rounds) is also sent when it has work.
    archive: bool = False
    # Expired check-log rows are deleted a batch at a time, at most this often.
    prune_interval: float = 60.0


@dataclass(slots=True)
class TickStats:
    feeds: int = 0
    hub_requests: int = 0
    articles: int = 0
    unsent: int = 0
    queue_depth: int | None = None
    notify: bool = False


def claim_token() -> str:
    """Unique per claim; the '/' keeps it from ever parsing as a host:pid lease of the in-process crawl."""
    return f"{process_owner()}/{uuid.uuid4().hex[:12]}"


def _publish(app: Celery, task: str, ids: Sequence[int], token: str) -> list[int]:
    """Send the ids (articles in groups of CHECKS_PER_TASK, feeds one by one); return those not sent."""
    size = CHECKS_PER_TASK if task == CHECK_TASK else 1
    groups = [list(ids[start : start + size]) for start in range(0, len(ids), size)]
    sent = 0
    try:
        with app.producer_or_acquire() as producer:
            for group in groups:
                app.send_task(
                    task, args=(group if task == CHECK_TASK else group[0], token), producer=producer
                )
                sent += len(group)
    except broker_errors(app):
        log.warning("broker unreachable: %d of %s not sent", len(ids) - sent, task)
    return list(ids[sent:])


_TASKS: dict[Claimable, tuple[str, str]] = {
    Article: (CHECK_TASK, "check"),
    Feed: (POLL_TASK, "poll"),
    HubSubscription: (HUB_TASK, "websub"),
}


def _dispatch(
    app: Celery,
    sessions: sessionmaker[Session],
    model: Claimable,
    now: datetime,
    limit: int,
    options: SchedulerOptions,
) -> tuple[int, int]:
    """Claim up to `limit` due rows of one kind and enqueue them; return (sent, unsent)."""
    lease = options.lease if model is Article else options.feed_lease
    token = claim_token()
    task, label = _TASKS[model]
    with sessions() as session:
        if model is Article:  # the same claim as `newsdelta crawl`'s, budgets included
            ids = claim_articles(session, now, limit=limit, lease=lease, owner=token, policy=options.policy)
        else:
            ids = claim_due(session, model, now, limit=limit, lease=lease, owner=token)
        if not ids:
            return 0, 0
        unsent = _publish(app, task, ids, token)
        if unsent:
            release_leases(session, model, unsent, token, now)
            session.commit()
    sent = len(ids) - len(unsent)
    metrics.ENQUEUED.labels(label).inc(sent)
    return sent, len(unsent)


def _request_delivery(app: Celery, sessions: sessionmaker[Session], now: datetime, *, archive: bool) -> bool:
    """Send the notify task when versions wait past a cursor or a message (or a Save Page Now submission) is
    due; a lost one is re-sent next tick, as the condition still holds."""
    with sessions() as session:
        if not (notifications_due(session, now) or (archive and archive_due(session, now))):
            return False
    try:
        app.send_task(NOTIFY_TASK)
    except broker_errors(app):
        log.warning("broker unreachable: notify task not sent")
        return False
    return True


def schedule_once(
    app: Celery,
    sessions: sessionmaker[Session],
    clock: Clock,
    options: SchedulerOptions,
    *,
    notify: bool = True,
) -> TickStats:
    """One tick: due feeds, then due articles in batches, never filling the queue beyond `max_queued`; then,
    with `notify`, the notify task if anything is owed to subscribers."""
    stats = TickStats(queue_depth=queue_depth(app))
    if stats.queue_depth is None:
        log.warning("broker unreachable; claiming nothing this tick")
        return stats
    room = options.max_queued - stats.queue_depth * CHECKS_PER_TASK  # tasks hold up to that many articles
    now = clock()
    if room > 0:
        stats.feeds, stats.unsent = _dispatch(app, sessions, Feed, now, room, options)
        room -= stats.feeds
    if room > 0 and options.websub and not stats.unsent:
        stats.hub_requests, stats.unsent = _dispatch(app, sessions, HubSubscription, now, room, options)
        room -= stats.hub_requests
    while room > 0 and not stats.unsent:
        sent, unsent = _dispatch(app, sessions, Article, now, min(options.batch, room), options)
        stats.articles += sent
        stats.unsent += unsent
        room -= sent
        if sent < options.batch:
            break
    stats.notify = notify and _request_delivery(app, sessions, now, archive=options.archive)
    if stats.feeds or stats.articles or stats.unsent:
        log.info(
            "tick feeds=%d articles=%d unsent=%d queued_before=%d",
            stats.feeds,
            stats.articles,
            stats.unsent,
            stats.queue_depth,
        )
    return stats


def run_scheduler(
    settings: Settings,
    *,
    once: bool = False,
    stop: threading.Event | None = None,
    clock: Clock = utc_now,
    options: SchedulerOptions | None = None,
) -> TickStats:
    """Tick every `options.interval` seconds until `stop` is set (or once); returns the last tick's figures."""
    options = replace(
        options or SchedulerOptions(policy=settings.policy, websub=settings.base_url is not None),
        archive=archive_keys(settings) is not None,
    )
    if not options.websub:
        log.info("WebSub off: hubs are recorded, not subscribed to, without NEWSDELTA_BASE_URL")
    stop = stop or threading.Event()
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)  # unless the caller set up logging already
    sessions = open_store(settings)  # migrates: the one place that does, before any worker needs the schema
    app = make_celery(settings)
    notified = pruned = -math.inf
    while True:
        try:
            notify = time.monotonic() - notified >= options.notify_interval
            stats = schedule_once(app, sessions, clock, options, notify=notify)
            if stats.notify:
                notified = time.monotonic()
            if time.monotonic() - pruned >= options.prune_interval:
                checklog.prune(sessions, clock(), settings.check_retention)
                pruned = time.monotonic()
        except Exception:  # a daemon outlives a database or broker hiccup; leases cover what the tick missed
            log.exception("scheduler tick failed")
            stats = TickStats()
        if once or stop.wait(options.interval):
            return stats

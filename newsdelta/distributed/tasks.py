"""The Celery tasks: thin wrappers that run the crawl core's `check_batch` / `poll_feed` inside a worker.

A task carries the claim token the scheduler wrote into the lease; the check runs with that token as its
lease owner, so a task redelivered after its work was done (or re-claimed by a later tick) changes nothing.
Each worker process owns one asyncio loop in a background thread, reused by every task, with one Fetcher
(one connection pool) and the shared Redis politeness.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

from celery import Celery
from sqlalchemy.orm import Session, sessionmaker

from newsdelta import metrics
from newsdelta import settings as settings_table
from newsdelta.config import Settings
from newsdelta.crawl import poll_feed
from newsdelta.crawl.context import utc_now
from newsdelta.crawl.loop import archive_versions, check_batch, outcome_counts
from newsdelta.crawl.websub import request_subscription
from newsdelta.distributed.politeness_redis import RedisRateLimiter, RedisRobotsCache, redis_client
from newsdelta.fetch import Fetcher, default_user_agent
from newsdelta.notify import deliver
from newsdelta.runtime import make_context, open_store
from newsdelta.store.leases import Claimable, is_held
from newsdelta.store.models import Feed, HubSubscription

log = logging.getLogger(__name__)

CHECK_TASK = "newsdelta.check_articles"
# Articles per check task: enough to share one snapshot query and grouped writes, few enough that a lost task
# delays little. A task checks its articles one after another: the worker's --concurrency (tasks at once) is
# its concurrency, as before, rather than that times a task's own, which only queues more waiters on the
# shared per-host limit.
CHECKS_PER_TASK = 20
CHECKS_IN_FLIGHT = 1
POLL_TASK = "newsdelta.poll_feed"
HUB_TASK = "newsdelta.websub_request"
NOTIFY_TASK = "newsdelta.deliver_notifications"

T = TypeVar("T")
P = ParamSpec("P")
Clock = Callable[[], datetime]


def queue_name() -> str:
    """The deployment's name on the broker and in Redis keys, so several can share one broker (tests too)."""
    return settings_table.QUEUE.read()


def politeness_redis_url(settings: Settings) -> str | None:
    """Where shared politeness lives: NEWSDELTA_REDIS, else the broker when the broker is Redis."""
    explicit = settings_table.REDIS.read()
    if explicit:
        return explicit
    broker = settings.broker_url or ""
    return broker if broker.startswith(("redis://", "rediss://")) else None


async def make_shared_fetcher(settings: Settings) -> Fetcher:
    """A fetcher whose rate limit and robots cache are shared through Redis; built inside the worker's loop."""
    options: dict[str, Any] = {}
    url = politeness_redis_url(settings)
    if url is None:
        log.warning(
            "no Redis for shared politeness (set %s): rate limits apply per process", settings_table.REDIS.env
        )
    else:
        redis = redis_client(url)
        prefix = queue_name()
        options["rate_limiter"] = RedisRateLimiter(
            redis, concurrency=settings.per_host_concurrency, prefix=prefix
        )
        options["robots_cache"] = RedisRobotsCache(redis, prefix=prefix)
    return metrics.MeteredFetcher(
        default_user_agent(settings.contact_url),
        per_host_concurrency=settings.per_host_concurrency,
        per_host_delay=settings.per_host_delay,
        address_policy=settings.address_policy,
        **options,
    )


class WorkerRuntime:
    """One per worker process: the event loop thread, the Fetcher and the database sessions."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, name="newsdelta-loop", daemon=True).start()
        # The scheduler migrates the schema; workers starting together must not race to do it too.
        sessions = open_store(settings, migrate=False)
        fetcher = self.run(make_shared_fetcher(settings))
        self.context = make_context(settings, sessions, fetcher, clock=clock)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run on this process's loop and wait; called from the pool's threads (or the solo pool's one)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()


class PerProcess:
    """Builds the runtime lazily in each process, so prefork children never share a parent's loop or sockets."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._runtime: WorkerRuntime | None = None

    def get(self) -> WorkerRuntime:
        with self._lock:
            if self._runtime is None or self._pid != os.getpid():
                self._runtime = WorkerRuntime(self._settings, self._clock)
                self._pid = os.getpid()
            return self._runtime


def _claim_held(sessions: sessionmaker[Session], model: Claimable, row_id: int, token: str) -> bool:
    with sessions() as session:
        return is_held(session, model, row_id, token)


def _task(app: Celery, name: str) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """`app.task`, typed (Celery ships no annotations; the tasks are only ever sent by name).

    Not shared (no task here is): Celery would otherwise hand these closures (their runtime, their
    database) to every app made later in the process, as tests and benchmarks make several.
    """
    register: Callable[[Callable[P, T]], Callable[P, T]] = app.task(name=name, shared=False)
    return register


def register_tasks(app: Celery, settings: Settings, clock: Clock | None = None) -> None:
    runtimes = PerProcess(settings, clock or utc_now)

    @_task(app, CHECK_TASK)
    def check(article_ids: list[int], token: str) -> dict[str, int]:
        """Check a group of articles claimed under `token`, as the in-process crawl checks a batch."""
        runtime = runtimes.get()
        started = time.perf_counter()
        context = dataclasses.replace(runtime.context, owner=token)
        try:
            batch = check_batch(
                context, article_ids, concurrency=CHECKS_IN_FLIGHT, on_check=metrics.record_check
            )
            outcomes = outcome_counts(runtime.run(batch))
        except Exception:
            # The leases stay and expire, which is the backoff; the scheduler then hands the work out again.
            metrics.ERRORS.labels("task").inc()
            log.exception("check articles=%s token=%s raised", article_ids, token)
            raise
        log.info(
            "check %d articles %s seconds=%.3f",
            len(article_ids),
            outcomes,
            time.perf_counter() - started,
        )
        return outcomes

    @_task(app, POLL_TASK)
    def poll(feed_id: int, token: str) -> int:
        runtime = runtimes.get()
        if not _claim_held(runtime.context.sessions, Feed, feed_id, token):
            log.info("poll feed=%s skipped: claim %s no longer held", feed_id, token)
            return 0
        added = runtime.run(poll_feed(runtime.context, feed_id))
        metrics.FEED_POLLS.inc()
        metrics.ARTICLES_DISCOVERED.inc(added)
        log.info("poll feed=%s added=%s", feed_id, added)
        return added

    @_task(app, HUB_TASK)
    def hub_request(subscription_id: int, token: str) -> bool:
        """Send one claimed WebSub (un)subscription request to its hub, as the in-process crawl's pass does."""
        runtime = runtimes.get()
        if not _claim_held(runtime.context.sessions, HubSubscription, subscription_id, token):
            log.info("websub subscription=%s skipped: claim %s no longer held", subscription_id, token)
            return False
        return runtime.run(request_subscription(runtime.context, subscription_id))

    @_task(app, NOTIFY_TASK)
    def notify() -> dict[str, int]:
        """Deliver what stored versions owe subscribers; the scheduler sends this whenever something is due.
        Subscriptions are leased, so this task running twice at once sends nothing twice."""
        runtime = runtimes.get()
        stats = runtime.run(deliver(runtime.context.sessions, runtime.context.clock()))
        archived = runtime.run(archive_versions(runtime.context))  # Save Page Now, when configured
        log.info(
            "notify queued=%d sent=%d failed=%d archived=%d", stats.queued, stats.sent, stats.failed, archived
        )
        return {"queued": stats.queued, "sent": stats.sent, "failed": stats.failed}

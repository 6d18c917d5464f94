"""The Celery application: one broker URL (Redis or RabbitMQ) turns the crawl into scheduler + workers.

Delivery is at-least-once (late acks, redelivery when a worker dies); the claim tokens make that harmless.
No task is ever scheduled for the future: the schedule lives in the database (see `scheduler`).
"""

from __future__ import annotations

from collections.abc import Sequence

from celery import Celery
from kombu.exceptions import ChannelError, OperationalError

from newsdelta.config import Settings
from newsdelta.distributed.tasks import Clock, queue_name, register_tasks
from newsdelta.metrics import serve_metrics

DEFAULT_VISIBILITY_TIMEOUT = 600.0


def make_celery(
    settings: Settings, *, clock: Clock | None = None, visibility_timeout: float = DEFAULT_VISIBILITY_TIMEOUT
) -> Celery:
    """The app for both sides. `visibility_timeout` (Redis only): how long an unacknowledged task waits
    before Redis hands it to another worker; a crashed worker's articles also come back when their lease
    expires, whichever is first.
    """
    if not settings.broker_url:
        raise ValueError("no broker configured: set --broker or NEWSDELTA_BROKER (redis://... or amqp://...)")
    app = Celery("newsdelta", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_default_queue=queue_name(),
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": visibility_timeout},
        task_publish_retry_policy={
            "max_retries": 5,
            "interval_start": 0.2,
            "interval_step": 0.5,
            "interval_max": 2.0,
        },
    )
    register_tasks(app, settings, clock)
    return app


def broker_errors(app: Celery) -> tuple[type[BaseException], ...]:
    """What a broker outage raises; the transport's own client errors (redis-py's) are not all wrapped."""
    with app.connection_for_write() as connection:
        return (OperationalError, OSError, *connection.connection_errors)


def queue_depth(app: Celery) -> int | None:
    """Messages waiting in the queue (not those already delivered to a worker); None if the broker is down."""
    try:
        with app.connection_for_read() as connection, connection.channel() as channel:
            queue = app.conf.task_default_queue
            return int(channel.queue_declare(queue=queue, passive=True).message_count)
    except ChannelError:  # never declared: no worker or task has used it yet
        return 0
    except broker_errors(app):
        return None


def worker_argv(
    concurrency: int, queues: Sequence[str] = (), pool: str = "threads", loglevel: str = "INFO"
) -> list[str]:
    """The `celery worker` arguments `run_worker` uses; the threads pool shares one loop and one Fetcher.
    `queues` defaults to NEWSDELTA_QUEUE (else "newsdelta")."""
    queues = queues or (queue_name(),)
    return [
        "worker",
        f"--pool={pool}",
        f"--concurrency={concurrency}",
        f"--queues={','.join(queues)}",
        "--without-gossip",
        "--without-mingle",
        f"--loglevel={loglevel}",
    ]


def run_worker(
    settings: Settings,
    *,
    concurrency: int = 16,
    queues: Sequence[str] = (),
    pool: str = "threads",
    clock: Clock | None = None,
    visibility_timeout: float = DEFAULT_VISIBILITY_TIMEOUT,
    metrics_port: int | None = None,
    loglevel: str = "INFO",
) -> None:
    """Run a Celery worker in this process until it is told to stop (SIGTERM: finish running checks first)."""
    if metrics_port is not None:
        serve_metrics(metrics_port)
    app = make_celery(settings, clock=clock, visibility_timeout=visibility_timeout)
    app.worker_main(worker_argv(concurrency, queues, pool, loglevel))

"""Scale-out: a scheduler that claims due work in the database and Celery workers that run the same check.

Entry points for the CLI: `run_scheduler`, `run_worker` (or `make_celery` + `worker_argv`) and `status_report`;
the metrics they count are in `newsdelta.metrics`, which the web app serves too.
"""

from newsdelta.distributed.celery_app import make_celery, queue_depth, run_worker, worker_argv
from newsdelta.distributed.politeness_redis import RedisRateLimiter, RedisRobotsCache
from newsdelta.distributed.scheduler import SchedulerOptions, TickStats, run_scheduler, schedule_once
from newsdelta.distributed.status import status_report
from newsdelta.distributed.tasks import queue_name

__all__ = [
    "RedisRateLimiter",
    "RedisRobotsCache",
    "SchedulerOptions",
    "TickStats",
    "make_celery",
    "queue_depth",
    "queue_name",
    "run_scheduler",
    "run_worker",
    "schedule_once",
    "status_report",
    "worker_argv",
]

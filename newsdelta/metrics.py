"""Prometheus metrics for checks, versions, errors and fetch latency.

Counters live in the process that does the work: the web app mounts `metrics_app` at /metrics for an
in-process crawl, and each `newsdelta worker` serves its own on `--metrics-port` (scrape every worker).
"""

from __future__ import annotations

import time

from prometheus_client import Counter, Histogram, make_asgi_app, start_http_server

from newsdelta.fetch import Fetcher, FetchError, FetchResult, RobotsDisallowed
from newsdelta.vocabulary import Outcome

CHECKS = Counter("newsdelta_checks", "Article checks by outcome", ["outcome"])
VERSIONS = Counter("newsdelta_versions", "New versions stored")
ERRORS = Counter("newsdelta_errors", "Failures by kind (fetch, check, task)", ["kind"])
FEED_POLLS = Counter("newsdelta_feed_polls", "Feed polls")
ARTICLES_DISCOVERED = Counter("newsdelta_articles_discovered", "New articles found in feeds")
ENQUEUED = Counter("newsdelta_enqueued", "Work the scheduler put on the queue", ["kind"])
FETCH_SECONDS = Histogram(
    "newsdelta_fetch_seconds",
    "Time to fetch a page, politeness waits and retries included",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)

metrics_app = make_asgi_app()


def record_check(outcome: Outcome) -> None:
    """Count one check; usable as `on_check` of the in-process crawl too."""
    CHECKS.labels(outcome).inc()
    if outcome == Outcome.NEW_VERSION:
        VERSIONS.inc()
    elif outcome == Outcome.ERROR:
        ERRORS.labels("check").inc()


def serve_metrics(port: int) -> None:
    """Expose this process's metrics over HTTP (for worker processes, which have no web app)."""
    start_http_server(port)


class MeteredFetcher(Fetcher):
    """A Fetcher that times every fetch, so latency is measured where it happens without touching the core."""

    async def get(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        started = time.perf_counter()
        try:
            return await super().get(url, etag=etag, last_modified=last_modified)
        except RobotsDisallowed:
            raise  # a polite refusal, not a failure
        except FetchError:
            ERRORS.labels("fetch").inc()
            raise
        finally:
            FETCH_SECONDS.observe(time.perf_counter() - started)

"""Re-check policies compared on a simulated newsroom: share of edits captured, delay, requests per article.

    .venv/bin/python bench/schedule.py [--days 14] [--per-day 60] [--seed 1]

A discrete-event simulation in simulated time (no HTTP: pages are not served, only their edit times matter),
driving the project's own scheduling code: the named policies of newsdelta.schedule, the signal rule of
newsdelta.crawl.signals (`note_signal`) and the post-check rule of newsdelta.crawl.check (`_schedule_values`),
on transient `Article` rows. Per-host politeness is not modelled (every check happens when due).

The newsroom (seeded, documented so the figures can be argued with):
- four sources publish `--per-day` articles a day each for the first half of the run (Poisson arrivals); feeds
  and sitemaps are polled every 5 minutes, so an article is found at the first poll after publication;
- edits per article ~ Poisson(1.2); each edit's delay after publication is log-normal (median 45 min,
  sigma 1.6: most within hours, a long tail); 10% of articles get one late correction 1-5 days on;
- 3% are live pages: an edit every ~10 minutes (exponential) for 8 hours;
- sources "lastmod" and "lastmod-wrong" expose a sitemap <lastmod> (seen at the first poll after each edit);
  "lastmod-wrong" also bumps it with no edit (Poisson, mean 2 per article within its first two days);
  sources "feed-a" and "feed-b" expose nothing.

Policies: newsdelta (News Sniffer's backoff plus change signals), News Sniffer's backoff alone, NewsDiffs' step
table, a fixed period chosen to spend News Sniffer's request budget, and diffengine's rule (re-check on every
feed poll while the article is among the feed's newest 50 items). An edit is captured when a check happens
before the next edit; its delay is from the edit to that check.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from newsdelta.crawl.check import _schedule_values
from newsdelta.crawl.signals import note_signal
from newsdelta.schedule import BackoffPolicy, Policy, fixed_policy, policy_named
from newsdelta.store.models import Article

START = datetime(2026, 1, 5, tzinfo=UTC)
POLL = 300.0  # seconds between feed / sitemap polls
FEED_ITEMS = 50
SOURCES = ("lastmod", "lastmod-wrong", "feed-a", "feed-b")
MIN_LIVED = 1800.0


@dataclass
class SimArticle:
    source: str
    published: float
    edits: list[float]  # seconds since START, sorted, after publication
    signals: list[tuple[float, float]] = field(default_factory=list)  # (poll that sees it, lastmod), sorted
    delisted: float = math.inf  # when it leaves the feed's newest items


def _poll_after(t: float) -> float:
    return math.ceil(t / POLL) * POLL


def newsroom(days: float, per_day: int, seed: int) -> list[SimArticle]:
    rng = random.Random(seed)
    articles: list[SimArticle] = []
    horizon = days * 86400
    for source in SOURCES:
        t, mine = 0.0, []
        while (t := t + rng.expovariate(per_day / 86400)) < horizon / 2:
            mine.append(SimArticle(source, t, _edits(rng, t)))
        for index, article in enumerate(mine):  # newest FEED_ITEMS stay listed
            later = index + FEED_ITEMS
            article.delisted = mine[later].published if later < len(mine) else math.inf
            if source.startswith("lastmod"):
                article.signals = [(_poll_after(e), e) for e in article.edits]
            if source == "lastmod-wrong":
                wrong = [article.published + rng.uniform(0, 2 * 86400) for _ in range(_poisson(rng, 2.0))]
                article.signals = sorted(article.signals + [(_poll_after(w), w) for w in wrong])
        articles += mine
    return articles


def _poisson(rng: random.Random, mean: float) -> int:
    count, limit, product = 0, math.exp(-mean), rng.random()
    while product > limit:
        count, product = count + 1, product * rng.random()
    return count


def _edits(rng: random.Random, published: float) -> list[float]:
    if rng.random() < 0.03:  # a live page
        t, edits = published, []
        while (t := t + rng.expovariate(1 / 600)) < published + 8 * 3600:
            edits.append(t)
        return edits
    edits = [published + rng.lognormvariate(math.log(45 * 60), 1.6) for _ in range(_poisson(rng, 1.2))]
    if rng.random() < 0.10:
        edits.append(published + rng.uniform(1, 5) * 86400)
    return sorted(edits)


@dataclass
class Outcome:
    requests: int = 0
    delays: list[tuple[float, float, str]] = field(default_factory=list)  # (delay or inf, lived, source)


def _at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def _seconds(when: datetime) -> float:
    return (when - START).total_seconds()


def simulate(article: SimArticle, policy: Policy | None, horizon: float, *, signals: bool) -> Outcome:
    """One article's checks under `policy` (None: diffengine's rule); which edits they caught and when."""
    outcome = Outcome()
    checks = _checks(article, policy, horizon, signals=signals, outcome=outcome)
    bounds = [*article.edits[1:], math.inf]
    for edit, next_edit in zip(article.edits, bounds, strict=False):
        if edit >= horizon:
            break
        caught = next((c for c in checks if edit <= c < next_edit), None)
        lived = min(next_edit, horizon) - edit
        outcome.delays.append((math.inf if caught is None else caught - edit, lived, article.source))
    return outcome


def _checks(
    article: SimArticle, policy: Policy | None, horizon: float, *, signals: bool, outcome: Outcome
) -> list[float]:
    found = _poll_after(article.published)
    if policy is None:
        end = min(article.delisted, horizon)
        checks = [found + k * POLL for k in range(int((end - found) // POLL) + 1)]
        outcome.requests = len(checks)
        return checks
    row = Article(check_period_seconds=policy.initial.total_seconds(), next_check_at=_at(found))
    row.last_checked_at = row.signal_at = row.planned_check_at = row.lease_until = None
    pending = list(article.signals) if signals else []
    checks: list[float] = []
    seen_version = -1
    while True:
        due = math.inf if row.next_check_at is None else _seconds(row.next_check_at)
        while pending and pending[0][0] <= due:  # polls before the next check may bring it forward
            poll, lastmod = pending.pop(0)
            note_signal(row, _at(lastmod), _at(poll))
            due = math.inf if row.next_check_at is None else _seconds(row.next_check_at)
        if due >= horizon:
            return checks
        checks.append(due)
        version = sum(1 for e in article.edits if e <= due)
        changed = version != seen_version
        seen_version = version
        values = _schedule_values(
            policy, row.check_period_seconds, _at(due), changed=changed, planned=row.planned_check_at
        )
        for name, value in values.items():
            setattr(row, name, value)
        outcome.requests += 1


def report(name: str, outcomes: list[Outcome], articles: int) -> dict[str, object]:
    delays = [d for o in outcomes for d in o.delays]
    durable = [d for d in delays if d[1] >= MIN_LIVED]
    caught = sorted(d for d, _, _ in delays if d != math.inf)
    lastmod = sorted(d for d, _, s in delays if d != math.inf and s == "lastmod")
    return {
        "policy": name,
        "captured": sum(d[0] != math.inf for d in delays) / len(delays),
        "captured_30min": sum(d[0] != math.inf for d in durable) / len(durable),
        "median_delay_min": statistics.median(caught) / 60,
        "p90_delay_min": caught[int(0.9 * (len(caught) - 1))] / 60,
        "lastmod_median_delay_min": statistics.median(lastmod) / 60 if lastmod else math.nan,
        "requests_per_article": sum(o.requests for o in outcomes) / articles,
    }


def run(days: float, per_day: int, seed: int) -> list[dict[str, object]]:
    articles = newsroom(days, per_day, seed)
    horizon = days * 86400

    def outcomes(policy: Policy | None, *, signals: bool = False) -> list[Outcome]:
        return [simulate(a, policy, horizon, signals=signals) for a in articles]

    sniffer = outcomes(BackoffPolicy())
    budget = sum(o.requests for o in sniffer) / len(articles)
    # The fixed period that spends the same budget: requests ≈ (horizon - published) / period per article.
    lifetime = sum(horizon - a.published for a in articles) / len(articles)
    fixed = fixed_policy(timedelta(seconds=lifetime / budget), timedelta(days=days))
    rows = [
        ("newsdelta (newssniffer + signals)", outcomes(BackoffPolicy(), signals=True)),
        ("newssniffer", sniffer),
        ("newsdiffs", outcomes(policy_named("newsdiffs"))),
        (f"fixed {fixed.steps[0][1].total_seconds() / 60:.0f} min", outcomes(fixed)),
        ("diffengine (every feed poll while listed)", outcomes(None)),
    ]
    return [report(name, result, len(articles)) for name, result in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=float, default=14)
    parser.add_argument("--per-day", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    print(
        f"{'policy':44} {'all':>6} {'≥30min':>7} {'median':>7} {'p90':>8} {'lastmod med':>11} {'req/art':>8}"
    )
    for row in run(options.days, options.per_day, options.seed):
        print(
            f"{row['policy']:44} {row['captured']:6.1%} {row['captured_30min']:7.1%} "
            f"{row['median_delay_min']:6.1f}m {row['p90_delay_min']:7.1f}m "
            f"{row['lastmod_median_delay_min']:10.1f}m {row['requests_per_article']:8.1f}"
        )


if __name__ == "__main__":
    main()

"""Re-check policies compared at equal request budgets on a simulated newsroom: edits captured, delay, requests.

    .venv/bin/python bench/schedule.py [--days 21] [--publish-days 14] [--per-day 40] [--seed 1]

A discrete-event simulation in simulated time on the project's clock (no HTTP: only edit times matter), driving
the project's own scheduling code: the policies of newsdelta.schedule, the hazard estimate and per-section
figures of newsdelta.hazard / newsdelta.crawl.learning, the signal rule of newsdelta.crawl.signals
(`note_signal`) and the post-check rule of newsdelta.crawl.check (`_schedule_values`), on transient `Article`
rows. Per-host politeness is not modelled (every check happens when due).

The newsroom (seeded; the distributions are stated so the figures can be argued with). Each source publishes
`--per-day` articles a day (Poisson arrivals) for `--publish-days`, spread over its sections; its feed and sitemap
are polled every 5 minutes, so an article is found at the first poll after publication. Per article:
- edits ~ Poisson(mean), each at publication + log-normal(median, sigma): most within hours, a long tail;
- a late correction with probability `late`, uniformly 1-5 days on;
- a live page with probability `live`: an edit every exponential(8 min) for uniform(3, 10) hours.

    source         section    mean  median  sigma  late  live  lastmod
    lastmod        news        1.5   40 min   1.5   8%    3%   honest: moves with every edit
    lastmod-wrong  news        1.5   40 min   1.5   8%    3%   also moves with no edit (Poisson, mean 2 in 2 days)
    feed-a         features    0.8    3 h     1.8  15%    1%   none
    feed-b         politics    2.0   20 min   1.4   8%    6%   none
    feed-b         culture     0.5    6 h     1.5   5%    0%   none

Policies, each held to News Sniffer's request count per source (its own knob found by bisection):
- newsdelta: the learned schedule (checked once θ edits are expected by the hazard learned per source and
  section from the checks of articles published on earlier days), live pages on their own cadence, sitemap
  signals; θ per source is the knob (its request budget);
- News Sniffer: 30 min, ×1.2 per unchanged check, reset on change, retired past 40 days (the reference);
- NewsDiffs: its step table by time since the last change, every wait scaled by the knob;
- diffengine: a re-check on every feed poll while the article is among the feed's newest 50 items, the
  re-check period (a multiple of polls, at least one) being the knob;
- fixed: one period, the knob.
The second table shows the policies at their own settings (unequal budgets). An edit is captured when a check
happens before the next edit; its delay is from the edit to that check.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from newsdelta.crawl.check import _schedule_values
from newsdelta.crawl.learning import learn_sections, section_of
from newsdelta.crawl.signals import note_signal
from newsdelta.hazard import Observation, estimate
from newsdelta.schedule import (
    NEWSDIFFS_STEPS,
    ArticleFacts,
    BackoffPolicy,
    Learned,
    LearnedPolicy,
    Policy,
    QuietPolicy,
    fixed_policy,
)
from newsdelta.store.models import Article

START = datetime(2026, 1, 5, tzinfo=UTC)
DAY = 86400.0
POLL = 300.0  # seconds between feed / sitemap polls
FEED_ITEMS = 50
MIN_LIVED = 1800.0
SIGNALLED = ("lastmod", "lastmod-wrong")


@dataclass(frozen=True)
class Desk:
    """One section's edit timing (module docstring)."""

    source: str
    section: str
    share: float  # of the source's articles
    mean_edits: float
    median_minutes: float
    sigma: float
    late: float
    live: float


DESKS = (
    Desk("lastmod", "news", 1.0, 1.5, 40, 1.5, 0.08, 0.03),
    Desk("lastmod-wrong", "news", 1.0, 1.5, 40, 1.5, 0.08, 0.03),
    Desk("feed-a", "features", 1.0, 0.8, 180, 1.8, 0.15, 0.01),
    Desk("feed-b", "politics", 0.5, 2.0, 20, 1.4, 0.08, 0.06),
    Desk("feed-b", "culture", 0.5, 0.5, 360, 1.5, 0.05, 0.0),
)
SOURCES = tuple(dict.fromkeys(desk.source for desk in DESKS))


@dataclass
class SimArticle:
    source: str
    url: str
    published: float
    edits: list[float]  # seconds since START, sorted, after publication
    signals: list[tuple[float, float]] = field(default_factory=list)  # (poll that sees it, lastmod), sorted
    delisted: float = math.inf  # when it leaves the feed's newest items

    @property
    def found(self) -> float:
        return _poll_after(self.published)


def _poll_after(t: float) -> float:
    return math.ceil(t / POLL) * POLL


def newsroom(publish_days: float, per_day: int, seed: int) -> list[SimArticle]:
    rng = random.Random(seed)
    articles: list[SimArticle] = []
    for source in SOURCES:
        desks = [desk for desk in DESKS if desk.source == source]
        t, mine = 0.0, []
        while (t := t + rng.expovariate(per_day / DAY)) < publish_days * DAY:
            desk = rng.choices(desks, [d.share for d in desks])[0]
            url = f"https://{source}.example/{desk.section}/{len(mine)}-story"
            mine.append(SimArticle(source, url, t, _edits(rng, desk, t)))
        for index, article in enumerate(mine):  # the newest FEED_ITEMS stay listed
            later = index + FEED_ITEMS
            article.delisted = mine[later].published if later < len(mine) else math.inf
            if source in SIGNALLED:
                article.signals = [(_poll_after(e), e) for e in article.edits]
            if source == "lastmod-wrong":
                wrong = [article.published + rng.uniform(0, 2 * DAY) for _ in range(_poisson(rng, 2.0))]
                article.signals = sorted(article.signals + [(_poll_after(w), w) for w in wrong])
        articles += mine
    return articles


def _poisson(rng: random.Random, mean: float) -> int:
    count, limit, product = 0, math.exp(-mean), rng.random()
    while product > limit:
        count, product = count + 1, product * rng.random()
    return count


def _edits(rng: random.Random, desk: Desk, published: float) -> list[float]:
    if rng.random() < desk.live:
        t, end, edits = published, published + rng.uniform(3, 10) * 3600, []
        while (t := t + rng.expovariate(1 / 480)) < end:
            edits.append(t)
        return edits
    median = math.log(desk.median_minutes * 60)
    edits = [
        published + rng.lognormvariate(median, desk.sigma) for _ in range(_poisson(rng, desk.mean_edits))
    ]
    if rng.random() < desk.late:
        edits.append(published + rng.uniform(1, 5) * DAY)
    return sorted(edits)


def _at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def _seconds(when: datetime) -> float:
    return (when - START).total_seconds()


@dataclass
class Run:
    """One article's checks: when, and whether each saw a new version."""

    checks: list[float] = field(default_factory=list)
    changed: list[bool] = field(default_factory=list)


def scheduled(
    article: SimArticle,
    policy: Policy,
    horizon: float,
    *,
    learned: Learned | None = None,
    signals: bool = False,
) -> Run:
    """The checks the project's code makes of the article: `_schedule_values` after each, `note_signal` per
    sitemap poll that shows a newer lastmod."""
    row = Article(check_period_seconds=policy.initial.total_seconds(), next_check_at=_at(article.found))
    row.last_checked_at = row.signal_at = row.planned_check_at = row.lease_until = None
    pending = list(article.signals) if signals else []
    run, seen_version, seen_edits = Run(), -1, ()  # type: tuple[datetime, ...]
    keep = policy.live_edits if isinstance(policy, LearnedPolicy) else 0
    while True:
        due = math.inf if row.next_check_at is None else _seconds(row.next_check_at)
        while pending and pending[0][0] <= due:  # polls before the next check may bring it forward
            poll, lastmod = pending.pop(0)
            note_signal(row, _at(lastmod), _at(poll))
            due = math.inf if row.next_check_at is None else _seconds(row.next_check_at)
        if due >= horizon:
            return run
        version = sum(1 for e in article.edits if e <= due)
        changed = version != seen_version
        if changed and seen_version >= 0 and keep:
            seen_edits = (*seen_edits, _at(due))[-keep:]
        seen_version = version
        run.checks.append(due)
        run.changed.append(changed)
        facts = ArticleFacts(_at(article.found), seen_edits, learned)
        values = _schedule_values(
            policy,
            row.check_period_seconds,
            _at(due),
            changed=changed,
            facts=facts,
            planned=row.planned_check_at,
        )
        for name, value in values.items():
            setattr(row, name, value)


def every_poll(article: SimArticle, horizon: float, period: float) -> Run:
    """diffengine's rule, re-checking every `period` (whole polls) while listed."""
    end, step = min(article.delisted, horizon), max(1, round(period / POLL)) * POLL
    checks = [article.found + k * step for k in range(int((end - article.found) // step) + 1)]
    return Run(checks, [True] * len(checks))


def learned_newsdelta(
    articles: Sequence[SimArticle], horizon: float, threshold: float, policy: LearnedPolicy
) -> list[Run]:
    """One source under the learned schedule: articles published on day d are planned with what the checks of
    earlier days' articles taught (before day d began), per source and section as newsdelta.crawl.learning
    does; θ is the source's threshold."""
    runs: dict[int, Run] = {}
    days = int(max((a.published for a in articles), default=0) // DAY) + 1
    for day in range(days):
        cutoff = day * DAY
        by_section: dict[str | None, list[Observation]] = {}
        for index, run in runs.items():
            article = articles[index]
            by_section.setdefault(section_of(article.url), []).append(_observation(article, run, cutoff))
        source = Learned(
            estimate(o for group in by_section.values() for o in group),
            threshold,
            threshold > policy.threshold,
            policy.live_min,
            f"source {articles[0].source}",
        )
        sections = learn_sections(source, articles[0].source, by_section)
        for index, article in enumerate(articles):
            if cutoff <= article.published < cutoff + DAY:
                learned = sections.get(section_of(article.url) or "", source)
                runs[index] = scheduled(article, policy, horizon, learned=learned, signals=True)
    return [runs[index] for index in range(len(articles))]


def _observation(article: SimArticle, run: Run, cutoff: float) -> Observation:
    """What the store would teach at `cutoff`: watched until then (until its last check if retired before)."""
    seen = [c for c, changed in zip(run.checks[1:], run.changed[1:], strict=True) if changed and c < cutoff]
    until = min(cutoff, run.checks[-1] if run.checks else article.found)
    return Observation(
        max(0.0, until - article.found) / 3600, tuple((c - article.found) / 3600 for c in seen)
    )


@dataclass
class Outcome:
    requests: int
    delays: list[tuple[float, float, str]]  # (delay or inf, lived, source)


def judge(articles: Sequence[SimArticle], runs: Sequence[Run], horizon: float) -> Outcome:
    delays: list[tuple[float, float, str]] = []
    for article, run in zip(articles, runs, strict=True):
        bounds = [*article.edits[1:], math.inf]
        for edit, next_edit in zip(article.edits, bounds, strict=False):
            if edit >= horizon:
                break
            caught = next((c for c in run.checks if edit <= c < next_edit), None)
            lived = min(next_edit, horizon) - edit
            delays.append((math.inf if caught is None else caught - edit, lived, article.source))
    return Outcome(sum(len(run.checks) for run in runs), delays)


def report(name: str, outcome: Outcome, articles: int) -> dict[str, object]:
    delays = outcome.delays
    durable = [d for d in delays if d[1] >= MIN_LIVED]
    caught = sorted(d for d, _, _ in delays if d != math.inf)
    lastmod = sorted(d for d, _, s in delays if d != math.inf and s in SIGNALLED)
    return {
        "policy": name,
        "captured": sum(d[0] != math.inf for d in delays) / len(delays),
        "captured_30min": sum(d[0] != math.inf for d in durable) / len(durable),
        "median_delay_min": statistics.median(caught) / 60,
        "p90_delay_min": caught[int(0.9 * (len(caught) - 1))] / 60,
        "lastmod_median_delay_min": statistics.median(lastmod) / 60 if lastmod else math.nan,
        "requests_per_article": outcome.requests / articles,
    }


Simulate = Callable[[Sequence[SimArticle], float], list[Run]]


def spend(
    simulate: Simulate, articles: Sequence[SimArticle], target: int, low: float, high: float
) -> list[Run]:
    """The runs at the knob value (more knob, fewer requests) whose requests come closest to `target`:
    geometric bisection."""
    best: tuple[float, list[Run]] | None = None
    for _ in range(14):
        knob = math.sqrt(low * high)
        runs = simulate(articles, knob)
        requests = sum(len(run.checks) for run in runs)
        if best is None or abs(requests - target) < best[0]:
            best = (abs(requests - target), runs)
        if requests > target:
            low = knob
        else:
            high = knob
        if abs(requests - target) <= 0.002 * target:
            break
    assert best is not None
    return best[1]


def run(days: float, publish_days: float, per_day: int, seed: int) -> dict[str, list[dict[str, object]]]:
    """Both tables: `equal` (every policy at News Sniffer's requests per source) and `native`."""
    articles = newsroom(publish_days, per_day, seed)
    horizon = days * DAY
    learned = LearnedPolicy()
    sources = {s: [a for a in articles if a.source == s] for s in SOURCES}

    def per_source(simulate: Callable[[Sequence[SimArticle]], list[Run]]) -> Outcome:
        mine = [simulate(group) for group in sources.values()]
        ordered = [a for group in sources.values() for a in group]
        return judge(ordered, [r for runs in mine for r in runs], horizon)

    sniffer_runs = {
        s: [scheduled(a, BackoffPolicy(), horizon) for a in group] for s, group in sources.items()
    }
    budget = {s: sum(len(r.checks) for r in runs) for s, runs in sniffer_runs.items()}

    def newsdelta(group: Sequence[SimArticle], theta: float) -> list[Run]:
        return learned_newsdelta(group, horizon, theta, learned)

    def newsdiffs(group: Sequence[SimArticle], scale: float) -> list[Run]:
        steps = tuple((under, wait * scale) for under, wait in NEWSDIFFS_STEPS)
        return [scheduled(a, QuietPolicy(steps=steps), horizon) for a in group]

    def diffengine(group: Sequence[SimArticle], period: float) -> list[Run]:
        return [every_poll(a, horizon, period) for a in group]

    def fixed(group: Sequence[SimArticle], period: float) -> list[Run]:
        policy = fixed_policy(timedelta(seconds=period), timedelta(days=days))
        return [scheduled(a, policy, horizon) for a in group]

    def equal(simulate: Simulate, low: float, high: float) -> Callable[[Sequence[SimArticle]], list[Run]]:
        return lambda group: spend(simulate, group, budget[group[0].source], low, high)

    count = len(articles)
    sniffer = per_source(lambda group: sniffer_runs[group[0].source])
    equal_rows = [
        report("newsdelta (learned + signals)", per_source(equal(newsdelta, 0.01, 20)), count),
        report("newssniffer", sniffer, count),
        report("newsdiffs (waits scaled)", per_source(equal(newsdiffs, 0.05, 50)), count),
        report(
            "diffengine (every k-th poll while listed)",
            per_source(equal(diffengine, POLL, 400 * POLL)),
            count,
        ),
        report("fixed period", per_source(equal(fixed, 60, 40 * DAY)), count),
    ]
    native_rows = [
        report("newsdelta (θ 0.1, no budget)", per_source(lambda g: newsdelta(g, learned.threshold)), count),
        report("newssniffer", sniffer, count),
        report("newsdiffs", per_source(lambda g: newsdiffs(g, 1.0)), count),
        report("diffengine (every poll while listed)", per_source(lambda g: diffengine(g, POLL)), count),
    ]
    return {"equal": equal_rows, "native": native_rows}


def _print(title: str, rows: list[dict[str, object]]) -> None:
    print(f"\n{title}")
    print(
        f"{'policy':44} {'all':>6} {'≥30min':>7} {'median':>7} {'p90':>8} {'lastmod med':>11} {'req/art':>8}"
    )
    for row in rows:
        print(
            f"{row['policy']:44} {row['captured']:6.1%} {row['captured_30min']:7.1%} "
            f"{row['median_delay_min']:6.1f}m {row['p90_delay_min']:7.1f}m "
            f"{row['lastmod_median_delay_min']:10.1f}m {row['requests_per_article']:8.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--days", type=float, default=21)
    parser.add_argument("--publish-days", type=float, default=14)
    parser.add_argument("--per-day", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    tables = run(options.days, options.publish_days, options.per_day, options.seed)
    count = f"{len(SOURCES)} sources × {options.per_day}/day × {options.publish_days:g} days"
    _print(f"At News Sniffer's request budget per source ({count}, {options.days:g} days):", tables["equal"])
    _print("At each policy's own settings:", tables["native"])


if __name__ == "__main__":
    main()

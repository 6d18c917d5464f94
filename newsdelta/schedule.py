"""When to look again: named re-check policies for articles, a fixed period for feeds, a backoff for errors.

A policy keeps one number per article in `Article.check_period_seconds`, its own state: News Sniffer's backoff
keeps the current period, NewsDiffs' step table and the fixed period keep how long the article has gone unchanged
(grown by each unchanged check's wait, reset on change), newsdelta's learned schedule the wait it chose last.
Whatever the policy, a change signal from a feed or sitemap brings a check forward (newsdelta.crawl.signals).
Pick one with `--schedule` / NEWSDELTA_SCHEDULE; `newsdelta` (the learned schedule) is the default.

The learned schedule spends checks where the expected number of caught versions per request is highest: an
article is checked again once `threshold` edits are expected since its last check, by the hazard learned for its
source and section at its age (newsdelta.hazard). A check then catches a change with probability 1 − e^−θ for
θ expected edits, so equal θ everywhere roughly equalises what the last request spent on each article is worth:
to first order the best use of a fixed number of requests. A source's request budget raises its θ until its expected requests fit
(newsdelta.crawl.learning), and that θ gives the estimated capture rate (1 − e^−θ)/θ. Live pages (several edits
within the hour) are checked on their own cadence, capped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from newsdelta.hazard import EDGES, PRIOR, Hazard

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Learned:
    """What the learned schedule knows of an article's source (and section): its hazard, the expected edits per
    check its budget allows (`threshold`), whether the budget set it, and the live pages' cadence."""

    hazard: Hazard = PRIOR
    threshold: float = 0.1
    budget_limited: bool = False
    live_interval: timedelta = timedelta(minutes=5)
    scope: str = "the prior"


@dataclass(frozen=True, slots=True)
class ArticleFacts:
    """What a plan may look at besides the policy's state: the article's age, when checks last saw it edited
    (oldest first, a few), and what was learned of its source (None: nothing yet)."""

    first_seen_at: datetime
    recent_edits: tuple[datetime, ...] = ()
    learned: Learned | None = None


class Policy(Protocol):
    """What the crawl asks of a schedule; `initial` is a new article's state, `retire_after` shown to readers.

    `plan` returns the state after a successful check and the next check (None: retired)."""

    @property
    def name(self) -> str: ...
    @property
    def initial(self) -> timedelta: ...
    @property
    def retire_after(self) -> timedelta: ...
    def plan(
        self, now: datetime, period: timedelta, *, changed: bool, facts: ArticleFacts
    ) -> tuple[timedelta, datetime | None]: ...
    def error_delay(self, error_streak: int) -> timedelta: ...


@dataclass(frozen=True, slots=True)
class ErrorBackoff:
    """Doubling delay after consecutive errors, so a broken page never hot-loops; shared by every policy."""

    error_initial: timedelta = timedelta(minutes=5)
    error_max: timedelta = timedelta(hours=12)

    def error_delay(self, error_streak: int) -> timedelta:
        doublings: int = 2 ** min(max(error_streak - 1, 0), 32)
        delay = self.error_initial * doublings
        return min(delay, self.error_max)


@dataclass(frozen=True, slots=True)
class BackoffPolicy(ErrorBackoff):
    """Check soon after a change, then less and less often; give up once nothing changed for long.

    The defaults are News Sniffer's: first check at once, then every 30 minutes, the period growing ×1.2 after
    each unchanged check and resetting on change; once the period passes 40 days the article is retired.
    """

    name: str = "newssniffer"
    initial: timedelta = timedelta(minutes=30)
    growth: float = 1.2
    retire_after: timedelta = timedelta(days=40)

    def period_after(self, period: timedelta, *, changed: bool) -> timedelta:
        return self.initial if changed else period * self.growth

    def next_check(self, now: datetime, period: timedelta) -> datetime | None:
        """None means retired: the period has grown past `retire_after`."""
        return None if period > self.retire_after else now + period

    def plan(
        self, now: datetime, period: timedelta, *, changed: bool, facts: ArticleFacts
    ) -> tuple[timedelta, datetime | None]:
        period = self.period_after(period, changed=changed)
        return period, self.next_check(now, period)


# NewsDiffs' scraper, get_update_delay() in website/frontend/management/commands/scraper.py (ecprice/newsdiffs at
# 279e867e, 2018): the wait in minutes by minutes since the article last changed (max(last_update, initial_date);
# a "boring" change does not count) — 15 under 3 hours, 60 under a day, 180 under 7 days, 3 days under 30,
# 30 days under 360, then never (1e5 years; articles quiet for 366 days are not even loaded). update_versions()
# checks an article once the time since its last check reaches the wait for its quiet time *now*, so a wait
# that would cross into the next step becomes that step's wait. (Its README runs the scraper hourly, which
# makes its 15-minute step an hour in practice; here the step table is honoured as written.)
NEWSDIFFS_STEPS = (
    (3 * HOUR, timedelta(minutes=15)),
    (DAY, HOUR),
    (7 * DAY, 3 * HOUR),
    (30 * DAY, 3 * DAY),
    (360 * DAY, 30 * DAY),
)


@dataclass(frozen=True, slots=True)
class QuietPolicy(ErrorBackoff):
    """The wait depends on how long the article has been quiet (the state); retired once quiet that long.

    `steps` are (quiet for less than, wait) in increasing order; the default is NewsDiffs' table.
    """

    name: str = "newsdiffs"
    steps: tuple[tuple[timedelta, timedelta], ...] = NEWSDIFFS_STEPS
    initial: timedelta = timedelta(0)

    @property
    def retire_after(self) -> timedelta:
        return self.steps[-1][0]

    def wait(self, quiet: timedelta) -> timedelta | None:
        """The step's wait for this quiet time; None past the table."""
        return next((wait for under, wait in self.steps if quiet < under), None)

    def wait_from(self, quiet: timedelta) -> timedelta | None:
        """The wait from a check at this quiet time: until the time since it reaches the wait for the quiet time
        at that moment (a wait crossing into the next step becomes that step's); None once past the table."""
        wait = self.wait(quiet)
        while wait is not None and (longer := self.wait(quiet + wait)) != wait:
            wait = longer
        return wait

    def period_after(self, period: timedelta, *, changed: bool) -> timedelta:
        """The quiet time after a check: none after a change, else grown by the wait just spent."""
        return timedelta(0) if changed else period + (self.wait_from(period) or timedelta(0))

    def next_check(self, now: datetime, period: timedelta) -> datetime | None:
        wait = self.wait_from(period)
        return None if wait is None else now + wait

    def plan(
        self, now: datetime, period: timedelta, *, changed: bool, facts: ArticleFacts
    ) -> tuple[timedelta, datetime | None]:
        period = self.period_after(period, changed=changed)
        return period, self.next_check(now, period)


def fixed_policy(
    period: timedelta = timedelta(minutes=30), retire_after: timedelta = 40 * DAY
) -> QuietPolicy:
    """The same wait until the article has been quiet for `retire_after`."""
    return QuietPolicy(name="fixed", steps=((retire_after, period),))


class BadBudget(ValueError):
    """A request budget (--budget, NEWSDELTA_BUDGET) that is not positive numbers."""


@dataclass(frozen=True, slots=True)
class Budget:
    """Requests per hour each source may spend on article checks: `default` for every source (None: no limit)
    and overrides by source name. Written `120` or `bbc=300,guardian=60,120` (NEWSDELTA_BUDGET, --budget)."""

    default: float | None = None
    per_source: tuple[tuple[str, float], ...] = ()

    def of(self, source: str) -> float | None:
        return dict(self.per_source).get(source, self.default)

    @property
    def unlimited(self) -> bool:
        return self.default is None and not self.per_source

    @classmethod
    def parse(cls, text: str) -> Budget:
        """BadBudget for anything but positive numbers, each alone or after `source=`."""
        default: float | None = None
        named: list[tuple[str, float]] = []
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, _, number = part.rpartition("=")
            try:
                value = float(number)
            except ValueError:
                value = math.nan
            if not value > 0 or not math.isfinite(value):
                raise BadBudget(f"{part!r}: requests per hour must be a positive number")
            if name:
                named.append((name.strip(), value))
            else:
                default = value
        return cls(default, tuple(named))


MAX_THRESHOLD = (
    20.0  # expected edits per check beyond which a budget is simply too small to follow the source
)


def capture_estimate(threshold: float) -> float:
    """Share of edits a check every `threshold` expected edits catches (at most one per interval, Poisson)."""
    return (1 - math.exp(-threshold)) / threshold


@dataclass(frozen=True, slots=True)
class LearnedPolicy(ErrorBackoff):
    """newsdelta's schedule: check once `threshold` edits are expected by the learned hazard (module docstring).

    `threshold` 0.1 is ~95% of edits caught by the estimate; a budget raises it per source. A live page (at
    least `live_edits` edits within `live_window`) is checked every half of its edits' mean gap, never more
    often than every `live_min` (the cap: 12 an hour) nor less than every `live_max`, and its source's live
    pages together get at most half its budget. `min_interval` keeps any article from being checked more
    often outside live mode. An article is retired once fewer than `threshold` edits are expected in the
    rest of its watched life (40 days).
    """

    name: str = "newsdelta"
    threshold: float = 0.1
    budget: Budget = field(default_factory=Budget)
    min_interval: timedelta = timedelta(minutes=5)
    live_edits: int = 3
    live_window: timedelta = HOUR
    live_min: timedelta = timedelta(minutes=5)
    live_max: timedelta = timedelta(minutes=15)
    initial: timedelta = timedelta(0)

    @property
    def retire_after(self) -> timedelta:
        return timedelta(hours=EDGES[-1])

    def learned(self, facts: ArticleFacts) -> Learned:
        return facts.learned or Learned(threshold=self.threshold, live_interval=self.live_min)

    def live_interval(self, now: datetime, facts: ArticleFacts) -> timedelta | None:
        """The live cadence if the article is live now, else None."""
        recent = [edit for edit in facts.recent_edits if now - edit <= self.live_window]
        if len(recent) < self.live_edits:
            return None
        half_gap = (recent[-1] - recent[0]) / (2 * (len(recent) - 1))
        floor = max(self.live_min, self.learned(facts).live_interval)
        return max(floor, min(half_gap, self.live_max))

    def plan(
        self, now: datetime, period: timedelta, *, changed: bool, facts: ArticleFacts
    ) -> tuple[timedelta, datetime | None]:
        live = self.live_interval(now, facts)
        if live is not None:
            return live, now + live
        learned = self.learned(facts)
        age = _hours(now - facts.first_seen_at)
        next_age = learned.hazard.age_after(age, learned.threshold)
        if next_age is None:
            return period, None
        wait = max(self.min_interval, timedelta(hours=next_age - age))
        return wait, now + wait

    def threshold_for(
        self, budget: float | None, *, demand: float, first_checks: float, live_pages: int
    ) -> tuple[float, timedelta, bool]:
        """A source's threshold, live cadence floor and whether the budget set them, from its expected edits an
        hour over the articles it tracks (`demand`), its first checks an hour and its live pages: requests an
        hour are first_checks + demand / threshold + live pages' checks, which must fit the budget."""
        if budget is None:
            return self.threshold, self.live_min, False
        live = max(self.live_min, HOUR * live_pages / (budget / 2))
        left = budget - first_checks - live_pages * (HOUR / live)
        if left <= 0:
            return MAX_THRESHOLD, live, True
        needed = demand / left
        return min(MAX_THRESHOLD, max(self.threshold, needed)), live, needed > self.threshold


def _hours(span: timedelta) -> float:
    return span.total_seconds() / 3600


POLICY_NAMES = ("newsdelta", "newssniffer", "newsdiffs", "fixed")


class UnknownSchedule(ValueError):
    """A schedule name (--schedule, NEWSDELTA_SCHEDULE) that names no policy."""


def policy_named(
    name: str,
    *,
    first: timedelta | None = None,
    growth: float | None = None,
    retire_after: timedelta | None = None,
    budget: Budget | None = None,
) -> Policy:
    """A policy by name; `first` is News Sniffer's first period or the fixed period, `budget` the learned one's."""
    if name == "newsdelta":
        return LearnedPolicy(budget=budget or Budget())
    if name == "newssniffer":
        default = BackoffPolicy()
        return BackoffPolicy(
            initial=first or default.initial,
            growth=growth or default.growth,
            retire_after=retire_after or default.retire_after,
        )
    if name == "newsdiffs":
        return QuietPolicy()
    if name == "fixed":
        return fixed_policy(first or timedelta(minutes=30), retire_after or 40 * DAY)
    raise UnknownSchedule(f"unknown schedule {name!r}; choose one of {', '.join(POLICY_NAMES)}")


class ScheduledArticle(Protocol):
    """The article columns that say why its next check is when it is (an `Article` row has them)."""

    next_check_at: datetime | None
    planned_check_at: datetime | None
    signal_at: datetime | None
    signal_origin: str | None
    last_checked_at: datetime | None
    error_streak: int
    check_period_seconds: float


@dataclass(frozen=True, slots=True)
class NextCheckReason:
    """`kind`: new, signal, error, live, hazard, budget, backoff or retired; `detail` says it in a sentence."""

    kind: str
    detail: str


def next_check_reason(
    article: ScheduledArticle, policy: Policy, facts: ArticleFacts | None = None
) -> NextCheckReason:
    """Why the article's next check is when it is: what `history --json` and the article page show.

    The learned schedule's reasons need the article's `facts` (newsdelta.crawl.learning.article_facts)."""
    state = timedelta(seconds=article.check_period_seconds)
    signal = article.signal_at
    if article.planned_check_at is not None or (
        signal is not None and article.last_checked_at is not None and signal > article.last_checked_at
    ):
        teller = "its feed's WebSub hub" if article.signal_origin == "websub" else "a feed or sitemap"
        return NextCheckReason("signal", f"{teller} says it changed at {signal:%Y-%m-%d %H:%M} UTC")
    if article.next_check_at is None:
        return NextCheckReason("retired", f"unchanged for longer than the {policy.name} schedule checks")
    if article.last_checked_at is None:
        return NextCheckReason("new", "newly found: checked at once")
    if article.error_streak:
        return NextCheckReason("error", f"waiting after {article.error_streak} failed check(s) in a row")
    if isinstance(policy, LearnedPolicy) and facts is not None:
        return _learned_reason(policy, facts, article.last_checked_at, state)
    if isinstance(policy, BackoffPolicy):
        return NextCheckReason("backoff", f"{policy.name} schedule: every {_span(state)} for now")
    return NextCheckReason("backoff", f"{policy.name} schedule: unchanged for {_span(state)}")


def _learned_reason(
    policy: LearnedPolicy, facts: ArticleFacts, checked: datetime, wait: timedelta
) -> NextCheckReason:
    """The reason as of the last check, when the plan was made."""
    if policy.live_interval(checked, facts) is not None:
        edits = sum(1 for edit in facts.recent_edits if checked - edit <= policy.live_window)
        cap = round(HOUR / policy.live_min)
        return NextCheckReason(
            "live",
            f"live page: {edits} edits within the hour; checked every {_span(wait)} (at most {cap} an hour)",
        )
    learned = policy.learned(facts)
    age = checked - facts.first_seen_at
    rate = learned.hazard.rate_at(_hours(age))
    detail = (
        f"learned hazard ({learned.scope}): {rate:.3g} edits/h at age {_span(age)}; checked again once "
        f"{learned.threshold:.2g} edits are expected: in {_span(wait)}"
    )
    if learned.budget_limited:
        detail += (
            f"; budget-limited (the default {policy.threshold:.2g} would cost more than the source's budget), "
            f"estimated capture {capture_estimate(learned.threshold):.0%}"
        )
        return NextCheckReason("budget", detail)
    return NextCheckReason("hazard", detail)


def _span(span: timedelta) -> str:
    minutes = span.total_seconds() / 60
    if minutes < 120:
        return f"{minutes:.0f} min"
    return f"{minutes / 60:.1f} h" if minutes < 2880 else f"{minutes / 1440:.1f} days"

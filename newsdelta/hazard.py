"""How likely an article of a given age is to change: a per-age-bucket hazard learned from what was seen.

The estimate for a bucket is edits seen at that age over article-hours watched at that age (exposure), smoothed
towards a prior by `weight` pseudo-articles watched through the bucket: with no history the prior rules, with
much history the data does. The prior of a section is its source's estimate, and a source's is `PRIOR`, so a
thin section borrows from its source. An edit is dated by the check that saw it (the upper bound of when it
happened), and edits between two checks count once: both bias the estimate towards the schedule's own cadence,
which the smoothing and the threshold rule tolerate.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Age bucket edges in hours since the article was found; past the last one an article is retired (40 days).
EDGES: tuple[float, ...] = (0, 0.25, 0.5, 1, 2, 4, 8, 16, 24, 48, 96, 192, 384, 960)
# Edits per article-hour in each bucket before anything is known: most edits in the first hours, a long tail of
# corrections days later (~2.8 edits over a life: deliberately generous, so a new source is not under-watched).
PRIOR_RATES: tuple[float, ...] = (
    0.6, 0.6, 0.5, 0.35, 0.2, 0.1, 0.04, 0.02, 0.008, 0.003, 0.001, 0.0005, 0.0002,
)  # fmt: skip
PRIOR_WEIGHT = 10.0  # pseudo-articles behind the prior of every bucket


@dataclass(frozen=True, slots=True)
class Observation:
    """One article's history: how long it was watched and the ages (hours) at which checks saw an edit."""

    watched_hours: float
    edit_ages: Sequence[float] = ()


@dataclass(frozen=True, slots=True)
class Hazard:
    """Edits per article-hour by age bucket (`EDGES`), with how much history stands behind it."""

    rates: tuple[float, ...] = PRIOR_RATES
    articles: int = 0
    edits: int = 0

    def rate_at(self, age_hours: float) -> float:
        """The rate at an age; 0 past the last edge."""
        index = _bucket(age_hours)
        return 0.0 if index is None else self.rates[index]

    def age_after(self, age_hours: float, expected_edits: float) -> float | None:
        """The age by which `expected_edits` edits are expected since `age_hours`; None past the last edge."""
        index, age, left = _bucket(age_hours), age_hours, expected_edits
        while index is not None and index < len(self.rates):
            end, rate = EDGES[index + 1], self.rates[index]
            if rate > 0 and rate * (end - age) >= left:
                return age + left / rate
            left -= rate * (end - age)
            index, age = index + 1, end
        return None


PRIOR = Hazard()


def _bucket(age_hours: float) -> int | None:
    if age_hours >= EDGES[-1]:
        return None
    return next(i for i in range(len(EDGES) - 1) if age_hours < EDGES[i + 1])


def estimate(
    observations: Iterable[Observation], prior: Hazard = PRIOR, weight: float = PRIOR_WEIGHT
) -> Hazard:
    """The smoothed empirical hazard: (edits + weight·width·prior) / (exposure + weight·width) per bucket."""
    buckets = len(EDGES) - 1
    exposure, edits = [0.0] * buckets, [0] * buckets
    articles = 0
    for observation in observations:
        articles += 1
        for index in range(buckets):
            low, high = EDGES[index], EDGES[index + 1]
            exposure[index] += max(0.0, min(observation.watched_hours, high) - low)
        for age in observation.edit_ages:
            bucket = _bucket(age)
            if bucket is not None:
                edits[bucket] += 1
    rates = tuple(
        (edits[i] + weight * width * prior.rates[i]) / (exposure[i] + weight * width)
        for i, width in enumerate(EDGES[i + 1] - EDGES[i] for i in range(buckets))
    )
    return Hazard(rates, articles, sum(edits))

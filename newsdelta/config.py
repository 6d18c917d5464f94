"""Settings from flags and environment (NEWSDELTA_*), with defaults that work on a fresh machine."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from newsdelta.fetch.addresses import AddressPolicy, IPNetwork
from newsdelta.schedule import BackoffPolicy, Policy, policy_named
from newsdelta.store.checklog import CheckRetention

# Newest items read from one poll of one feed: a news feed names tens, a news sitemap at most 1,000 (Google's
# limit); a feed naming 100,000 would otherwise be a crawl of its own inside one poll.
FEED_MAX_ITEMS = 1000


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def policy_from_env(name: str | None = None) -> Policy:
    """The schedule `name` (else NEWSDELTA_SCHEDULE, else News Sniffer's), tuned by NEWSDELTA_CHECK_FIRST_MINUTES
    (the first period, or the fixed one), _CHECK_GROWTH and _RETIRE_AFTER_DAYS where given.

    ValueError for an unknown name."""
    first, growth, retire = (
        os.environ.get(f"NEWSDELTA_{key}")
        for key in ("CHECK_FIRST_MINUTES", "CHECK_GROWTH", "RETIRE_AFTER_DAYS")
    )
    return policy_named(
        name or os.environ.get("NEWSDELTA_SCHEDULE") or "newssniffer",
        first=timedelta(minutes=float(first)) if first else None,
        growth=float(growth) if growth else None,
        retire_after=timedelta(days=float(retire)) if retire else None,
    )


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path = Path("newsdelta-data")
    db_url: str | None = None
    broker_url: str | None = None
    contact_url: str | None = None
    per_host_concurrency: int = 2
    per_host_delay: float = 1.0
    policy: Policy = field(default_factory=BackoffPolicy)
    admin_token: str | None = None
    # Non-public networks the crawler may reach besides public addresses (e.g. 127.0.0.0/8 for a test site);
    # the environment's, like every Fetcher's default, so no process that builds Settings itself drifts apart.
    allowed_networks: tuple[IPNetwork, ...] = field(default_factory=lambda: AddressPolicy.from_env().allowed)
    base_url: str | None = None  # the site's public address, for its absolute links
    feed_max_items: int = FEED_MAX_ITEMS
    diff_cache_mb: float = 64.0  # memory the web site's diff cache may hold
    # How long the check log keeps a row per check (errors longer); spans per version are kept for good.
    check_retention: CheckRetention = field(default_factory=CheckRetention)

    @property
    def address_policy(self) -> AddressPolicy:
        return AddressPolicy(self.allowed_networks)

    @property
    def database_url(self) -> str:
        """The configured URL, or the embedded default: a SQLite file in the data directory."""
        return self.db_url or f"sqlite:///{(self.data_dir / 'newsdelta.sqlite3').resolve()}"

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Environment first, then explicit overrides (CLI flags) where they are not None.

        ValueError when NEWSDELTA_ALLOWED_NETWORKS is not a list of networks or the schedule is unknown;
        RetentionTooShort when NEWSDELTA_CHECK_LOG_DAYS or NEWSDELTA_CHECK_ERRORS_DAYS is under a day.
        """
        values: dict[str, object] = {
            "data_dir": Path(os.environ.get("NEWSDELTA_DATA_DIR", "newsdelta-data")),
            "db_url": os.environ.get("NEWSDELTA_DB") or None,
            "broker_url": os.environ.get("NEWSDELTA_BROKER") or None,
            "contact_url": os.environ.get("NEWSDELTA_CONTACT_URL") or None,
            "admin_token": os.environ.get("NEWSDELTA_ADMIN_TOKEN") or None,
            "base_url": os.environ.get("NEWSDELTA_BASE_URL") or None,
            "feed_max_items": int(_env_float("NEWSDELTA_FEED_MAX_ITEMS", FEED_MAX_ITEMS)),
            "diff_cache_mb": _env_float("NEWSDELTA_DIFF_CACHE_MB", 64.0),
            "per_host_delay": _env_float("NEWSDELTA_PER_HOST_DELAY", 1.0),
            "per_host_concurrency": int(_env_float("NEWSDELTA_PER_HOST_CONCURRENCY", 2)),
            "policy": policy_from_env(overrides.pop("schedule", None)),  # type: ignore[arg-type]
            "check_retention": CheckRetention.days(
                _env_float("NEWSDELTA_CHECK_LOG_DAYS", 7.0), _env_float("NEWSDELTA_CHECK_ERRORS_DAYS", 90.0)
            ),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

"""Settings from flags and environment (NEWSDELTA_*), with defaults that work on a fresh machine."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TypedDict, TypeVar, Unpack
from urllib.parse import urlsplit, urlunsplit

from newsdelta import settings as table
from newsdelta.fetch.addresses import AddressPolicy, IPNetwork
from newsdelta.schedule import Budget, LearnedPolicy, Policy, policy_named
from newsdelta.store.checklog import CheckRetention

T = TypeVar("T")

# Newest items read from one poll of one feed: a news feed names tens, a news sitemap at most 1,000 (Google's
# limit); a feed naming 100,000 would otherwise be a crawl of its own inside one poll.
FEED_MAX_ITEMS = table.FEED_MAX_ITEMS.default


def policy_from_env(name: str | None = None, budget: str | None = None) -> Policy:
    """The schedule `name` (else NEWSDELTA_SCHEDULE, else newsdelta's learned one), tuned by
    NEWSDELTA_CHECK_FIRST_MINUTES (News Sniffer's first period, or the fixed one), _CHECK_GROWTH,
    _RETIRE_AFTER_DAYS and, for the learned one, the per-source request budget `budget` (else NEWSDELTA_BUDGET).

    ValueError for an unknown name or a malformed budget."""
    first, retire = table.CHECK_FIRST_MINUTES.read(), table.RETIRE_AFTER_DAYS.read()
    budget = budget or table.BUDGET.read()
    return policy_named(
        name or table.SCHEDULE.read(),
        first=timedelta(minutes=first) if first else None,
        growth=table.CHECK_GROWTH.read() or None,
        retire_after=timedelta(days=retire) if retire else None,
        budget=Budget.parse(budget) if budget else None,
    )


def public_base_url(value: str) -> str:
    """The configured base URL, checked and without a trailing slash; ValueError saying what is wrong."""
    parts = urlsplit(value.strip())
    try:
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number in range
    except ValueError as exc:
        raise ValueError(f"base URL {value!r}: {exc}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"base URL {value!r} is not an absolute http(s) URL")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"base URL {value!r} must have no query, fragment or credentials")
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


class Overrides(TypedDict, total=False):
    """What the command line gave, winning over the environment; None means not given."""

    data_dir: Path | None
    db_url: str | None
    broker_url: str | None
    contact_url: str | None
    allowed_networks: tuple[IPNetwork, ...] | None
    schedule: str | None
    budget: str | None
    per_host_delay: float | None
    per_host_concurrency: int | None


def _given(value: T | None, setting: table.Setting[T]) -> T:
    return setting.read() if value is None else value


@dataclass(frozen=True, slots=True)
class Settings:
    """The settings of one process; defaults and environment variables are `newsdelta.settings`'s table."""

    data_dir: Path = table.DATA_DIR.default
    db_url: str | None = table.DB.default
    broker_url: str | None = table.BROKER.default
    contact_url: str | None = table.CONTACT_URL.default
    per_host_concurrency: int = table.PER_HOST_CONCURRENCY.default
    per_host_delay: float = table.PER_HOST_DELAY.default
    policy: Policy = field(default_factory=LearnedPolicy)
    admin_token: str | None = table.ADMIN_TOKEN.default
    # Non-public networks the crawler may reach besides public addresses (e.g. 127.0.0.0/8 for a test site);
    # the environment's, like every Fetcher's default, so no process that builds Settings itself drifts apart.
    allowed_networks: tuple[IPNetwork, ...] = field(default_factory=lambda: AddressPolicy.from_env().allowed)
    base_url: str | None = table.BASE_URL.default  # the site's public address, for its absolute links
    feed_max_items: int = FEED_MAX_ITEMS
    diff_cache_mb: float = table.DIFF_CACHE_MB.default  # memory the web site's diff cache may hold
    # Where raw pages are kept: None for the database, file:///path for a tree (checked by runtime.evidence_store).
    evidence_url: str | None = None
    # Save Page Now (newsdelta.crawl.wayback): off unless both keys are set.
    ia_access_key: str | None = None
    ia_secret_key: str | None = None
    ia_endpoint: str = table.IA_ENDPOINT.default
    # How long the check log keeps a row per check (errors longer); spans per version are kept for good.
    check_retention: CheckRetention = field(default_factory=CheckRetention)

    @classmethod
    def from_env(cls, **given: Unpack[Overrides]) -> Settings:
        """Environment first, then what the command line gave.

        ValueError when NEWSDELTA_ALLOWED_NETWORKS is not a list of networks or the schedule is unknown;
        RetentionTooShort when NEWSDELTA_CHECK_LOG_DAYS or NEWSDELTA_CHECK_ERRORS_DAYS is under a day.
        """
        networks = given.get("allowed_networks")
        return cls(
            data_dir=_given(given.get("data_dir"), table.DATA_DIR),
            db_url=_given(given.get("db_url"), table.DB),
            broker_url=_given(given.get("broker_url"), table.BROKER),
            contact_url=_given(given.get("contact_url"), table.CONTACT_URL),
            admin_token=table.ADMIN_TOKEN.read(),
            base_url=table.BASE_URL.read(),
            feed_max_items=table.FEED_MAX_ITEMS.read(),
            diff_cache_mb=table.DIFF_CACHE_MB.read(),
            evidence_url=table.EVIDENCE.read(),
            ia_access_key=table.IA_ACCESS_KEY.read(),
            ia_secret_key=table.IA_SECRET_KEY.read(),
            ia_endpoint=table.IA_ENDPOINT.read(),
            check_retention=CheckRetention.days(table.CHECK_LOG_DAYS.read(), table.CHECK_ERRORS_DAYS.read()),
            per_host_delay=_given(given.get("per_host_delay"), table.PER_HOST_DELAY),
            per_host_concurrency=_given(given.get("per_host_concurrency"), table.PER_HOST_CONCURRENCY),
            policy=policy_from_env(given.get("schedule"), given.get("budget")),
            allowed_networks=AddressPolicy.from_env().allowed if networks is None else networks,
        )

    @property
    def address_policy(self) -> AddressPolicy:
        return AddressPolicy(self.allowed_networks)

    @property
    def database_url(self) -> str:
        """The configured URL, or the embedded default: a SQLite file in the data directory."""
        return self.db_url or f"sqlite:///{(self.data_dir / 'newsdelta.sqlite3').resolve()}"

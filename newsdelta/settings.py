"""Every setting in one table: its environment variable, type, default and help.

`newsdelta.config.Settings` takes its defaults and its environment from here, the command line's options that
mirror a setting take their help from here, and the README's settings list is `python -m newsdelta.settings`
(a test keeps the two equal). This is the only module that reads a NEWSDELTA_ variable; it imports nothing of
the project's, so every module may ask it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

PREFIX = "NEWSDELTA_"


def _whole(value: str) -> int:
    """Counts may be written as floats ("1000.0"), as they always could."""
    return int(float(value))


@dataclass(frozen=True, slots=True)
class Setting(Generic[T_co]):
    """One setting. An unset or empty variable means the default."""

    env: str
    type: Callable[[str], T_co]
    default: T_co
    help: str
    shown_default: str = ""  # how the default reads to people, when `default` alone does not say it

    def read(self) -> T_co:
        raw = os.environ.get(self.env)
        return self.type(raw) if raw else self.default

    @property
    def default_text(self) -> str:
        return self.shown_default or str(self.default)

    def option_help(self, extra: str = "") -> str:
        """An option's --help: the setting's help, then where else it comes from and its default."""
        return f"{self.help}{extra} [{self.env}, {self.default_text}]."


def _setting(
    name: str, type: Callable[[str], T], default: T, help: str, shown_default: str = ""
) -> Setting[T]:
    return Setting(PREFIX + name, type, default, help, shown_default)


DATA_DIR = _setting(
    "DATA_DIR", Path, Path("newsdelta-data"), "Where the SQLite database lives", "./newsdelta-data"
)
DB = _setting(
    "DB",
    str,
    None,
    "Database URL, e.g. postgresql://postgres@127.0.0.1/newsdelta",
    "SQLite in the data directory",
)
BROKER = _setting("BROKER", str, None, "Celery broker URL (redis://, amqp://) for scheduler/worker", "none")
REDIS = _setting(
    "REDIS",
    str,
    None,
    "Redis URL of the workers' shared rate limit and robots.txt cache",
    "the broker, when it is Redis",
)
QUEUE = _setting(
    "QUEUE", str, "newsdelta", "The deployment's queue and Redis key prefix, so several can share one broker"
)
CONTACT_URL = _setting("CONTACT_URL", str, None, "Contact URL put in the User-Agent", "none")
ADMIN_TOKEN = _setting("ADMIN_TOKEN", str, None, "The token every admin action needs", "none: admin disabled")
PER_HOST_DELAY = _setting("PER_HOST_DELAY", float, 1.0, "Seconds between requests to one host")
PER_HOST_CONCURRENCY = _setting("PER_HOST_CONCURRENCY", _whole, 2, "Requests at once to one host")
ALLOWED_NETWORKS = _setting(
    "ALLOWED_NETWORKS",
    str,
    None,
    "Non-public networks the crawler may fetch from, e.g. 127.0.0.0/8 for a local test site; by default only "
    "public addresses are (checked after DNS resolution)",
    "none",
)
SCHEDULE = _setting(
    "SCHEDULE",
    str,
    "newsdelta",
    "When to re-check articles: newsdelta (learned per source and section from stored checks, within the "
    "budget; live pages on their own capped cadence), newssniffer (30 min, ×1.2 per unchanged check), newsdiffs "
    "(its step table by time since the last change) or fixed (every NEWSDELTA_CHECK_FIRST_MINUTES)",
)
BUDGET = _setting(
    "BUDGET",
    str,
    None,
    "Article checks per hour each source may spend under the newsdelta schedule, e.g. 120 or "
    "bbc=300,guardian=60,120 (a bare number is every other source's); signal-driven checks count too",
    "no limit",
)
CHECK_FIRST_MINUTES = _setting(
    "CHECK_FIRST_MINUTES", float, None, "The first re-check period, or the fixed one", "the schedule's, 30"
)
CHECK_GROWTH = _setting(
    "CHECK_GROWTH", float, None, "How much each unchanged check stretches the period", "the schedule's, 1.2"
)
RETIRE_AFTER_DAYS = _setting(
    "RETIRE_AFTER_DAYS", float, None, "Stop checking an article unchanged for this long", "the schedule's, 40"
)
FEED_MAX_ITEMS = _setting("FEED_MAX_ITEMS", _whole, 1000, "Newest items read per feed poll")
EXPERIMENTAL_PARSERS = _setting(
    "EXPERIMENTAL_PARSERS",
    str,
    "",
    "Experimental outlet parsers to switch on: names, comma-separated, or all",
    "none",
)
BASE_URL = _setting(
    "BASE_URL",
    str,
    None,
    "The site's public address, e.g. https://diffs.example.org, for the links in feeds, canonical links, the "
    "API description and notifications; set for crawl and scheduler too, it turns on WebSub subscriptions "
    "(their callbacks are served by serve)",
    "the address each request came to; notifications: http://127.0.0.1:8000",
)
DIFF_CACHE_MB = _setting("DIFF_CACHE_MB", float, 64.0, "Memory for cached diffs")
CHECK_LOG_DAYS = _setting(
    "CHECK_LOG_DAYS",
    float,
    7.0,
    "Days the check log keeps rows of checks that found more than 'unchanged', and hourly counts (at least 1; "
    "each version's first and last seen and count are kept for good)",
)
CHECK_ERRORS_DAYS = _setting("CHECK_ERRORS_DAYS", float, 90.0, "Days the check log keeps errors' rows")
EVIDENCE = _setting(
    "EVIDENCE",
    str,
    None,
    "Where raw pages (the evidence) are kept: file:///path for a content-addressed directory tree",
    "the database",
)
IA_ACCESS_KEY = _setting(
    "IA_ACCESS_KEY",
    str,
    None,
    "Internet Archive key: with the secret, Save Page Now for each new version",
    "none: off",
)
IA_SECRET_KEY = _setting("IA_SECRET_KEY", str, None, "Internet Archive secret for Save Page Now", "none: off")
IA_ENDPOINT = _setting(
    "IA_ENDPOINT", str, "https://web.archive.org", "Save Page Now's address (tests use a stand-in)"
)

SETTINGS: tuple[Setting[object], ...] = (
    DATA_DIR,
    DB,
    BROKER,
    REDIS,
    QUEUE,
    CONTACT_URL,
    ADMIN_TOKEN,
    PER_HOST_DELAY,
    PER_HOST_CONCURRENCY,
    ALLOWED_NETWORKS,
    SCHEDULE,
    BUDGET,
    CHECK_FIRST_MINUTES,
    CHECK_GROWTH,
    RETIRE_AFTER_DAYS,
    FEED_MAX_ITEMS,
    EXPERIMENTAL_PARSERS,
    BASE_URL,
    DIFF_CACHE_MB,
    CHECK_LOG_DAYS,
    CHECK_ERRORS_DAYS,
    EVIDENCE,
    IA_ACCESS_KEY,
    IA_SECRET_KEY,
    IA_ENDPOINT,
)

_TYPE_NAMES = {Path: "path", str: "text", float: "number", _whole: "whole number"}


def markdown_table() -> str:
    """The README's settings list."""
    lines = ["| variable | type | default | what |", "| --- | --- | --- | --- |"]
    for setting in SETTINGS:
        kind = _TYPE_NAMES[setting.type]
        lines.append(f"| `{setting.env}` | {kind} | {setting.default_text} | {setting.help} |")
    return "\n".join(lines)


def environment_help() -> str:
    """The command line's epilog: every variable and its default, for the settings no option mirrors too."""
    entries = ", ".join(f"{setting.env} ({setting.default_text})" for setting in SETTINGS)
    return f"Environment: {entries}."


if __name__ == "__main__":
    print(markdown_table())

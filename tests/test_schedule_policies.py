"""Named re-check policies: News Sniffer's backoff, NewsDiffs' step table, a fixed period; chosen by flag or
environment, and the same one in the single-process crawl and the distributed workers."""

from __future__ import annotations

import importlib.util
import itertools
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner

from newsdelta.cli import cli
from newsdelta.config import Settings
from newsdelta.distributed.tasks import WorkerRuntime
from newsdelta.schedule import BackoffPolicy, LearnedPolicy, QuietPolicy, UnknownSchedule, policy_named

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _waits(policy: BackoffPolicy | QuietPolicy, quiet_checks: int) -> list[timedelta]:
    """The gaps between checks of an article that changed at its first check and never again."""
    period = policy.period_after(policy.initial, changed=True)
    waits = []
    for _ in range(quiet_checks):
        due = policy.next_check(NOW, period)
        if due is None:
            break
        waits.append(due - NOW)
        period = policy.period_after(period, changed=False)
    return waits


def test_newsdiffs_waits_by_time_since_the_last_change() -> None:
    waits = _waits(QuietPolicy(), 10_000)
    minutes = [wait / timedelta(minutes=1) for wait in waits]
    # 15 minutes for the first 3 hours, then hourly to a day, 3-hourly to a week, 3 days to 30, monthly to 360;
    # as NewsDiffs' update_versions() does, a wait that would end past a step's end is the next step's wait
    # (the check at 2 h 45 min waits an hour, not 15 minutes), and nothing is checked once quiet for 360 days.
    assert minutes[:12] == [15] * 11 + [60]
    assert [len(list(group)) for _, group in itertools.groupby(minutes)] == [11, 21, 48, 7, 11]
    assert timedelta(days=330) < sum(waits, timedelta(0)) < timedelta(days=360)


def test_a_change_resets_the_step_table() -> None:
    policy = policy_named("newsdiffs")
    quiet = timedelta(days=10)
    assert policy.next_check(NOW, quiet) == NOW + timedelta(days=3)
    assert policy.next_check(NOW, policy.period_after(quiet, changed=True)) == NOW + timedelta(minutes=15)


def test_fixed_period_until_retired() -> None:
    policy = policy_named("fixed", first=timedelta(hours=2), retire_after=timedelta(days=1))
    assert isinstance(policy, QuietPolicy)
    assert _waits(policy, 100) == [timedelta(hours=2)] * 11  # the 12th would end quiet for a day: retired


def test_newsdelta_is_the_default_and_newssniffer_keeps_its_tunables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSDELTA_SCHEDULE", raising=False)
    monkeypatch.delenv("NEWSDELTA_BUDGET", raising=False)
    assert Settings.from_env().policy == LearnedPolicy()
    monkeypatch.setenv("NEWSDELTA_SCHEDULE", "newssniffer")
    monkeypatch.setenv("NEWSDELTA_CHECK_GROWTH", "1.5")
    assert Settings.from_env().policy == BackoffPolicy(growth=1.5)


def test_the_flag_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSDELTA_SCHEDULE", "fixed")
    assert Settings.from_env().policy.name == "fixed"
    assert Settings.from_env(schedule="newsdiffs").policy.name == "newsdiffs"
    monkeypatch.setenv("NEWSDELTA_SCHEDULE", "sometimes")
    with pytest.raises(UnknownSchedule):
        Settings.from_env()
    result = CliRunner().invoke(cli, ["status"])
    assert result.exit_code == 2 and "unknown schedule 'sometimes'" in result.output


def test_distributed_workers_use_the_configured_policy(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NEWSDELTA_SCHEDULE", "newsdiffs")
    settings = Settings.from_env(data_dir=tmp_path, db_url=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    runtime = WorkerRuntime(settings, lambda: NOW)
    assert runtime.context.policy == policy_named("newsdiffs")
    runtime.loop.call_soon_threadsafe(runtime.loop.stop)


def _load_bench() -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "bench" / "schedule.py"
    spec = importlib.util.spec_from_file_location("bench_schedule", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def test_at_news_sniffers_budget_newsdelta_catches_more_edits_sooner() -> None:
    """bench/schedule.py, small: every policy spends News Sniffer's requests; newsdelta's learned schedule with
    signals catches the edits that lived 30 minutes, and within minutes where the outlet gives lastmod."""
    rows = {row["policy"].split()[0]: row for row in _load_bench().run(4, 2, 15, 3)["equal"]}
    newsdelta, sniffer = rows["newsdelta"], rows["newssniffer"]
    for row in rows.values():
        assert row["requests_per_article"] == pytest.approx(sniffer["requests_per_article"], rel=0.03)
    assert newsdelta["captured"] > sniffer["captured"]
    assert newsdelta["captured_30min"] >= 0.95
    assert newsdelta["lastmod_median_delay_min"] <= 10 < sniffer["lastmod_median_delay_min"]

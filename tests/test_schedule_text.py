"""News Sniffer's backoff and the one text normalisation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from newsdelta.schedule import BackoffPolicy
from newsdelta.text import normalise, normalise_paragraphs, version_hash

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_period_grows_by_a_fifth_after_each_unchanged_check_and_resets_on_change() -> None:
    policy = BackoffPolicy()
    period = policy.initial
    period = policy.period_after(period, changed=False)
    assert period == timedelta(minutes=36)
    period = policy.period_after(period, changed=False)
    assert period == timedelta(minutes=43.2)
    assert policy.period_after(period, changed=True) == timedelta(minutes=30)


def test_article_retires_once_the_period_passes_forty_days() -> None:
    policy = BackoffPolicy()
    period, checks = policy.initial, 0
    while policy.next_check(NOW, period) is not None:
        period = policy.period_after(period, changed=False)
        checks += 1
    # 30 min × 1.2^n first exceeds 40 days (1,920 half-hours) at n = 42: 1.2^41 ≈ 1,776, 1.2^42 ≈ 2,131
    assert checks == 42
    assert period > timedelta(days=40) >= period / 1.2


def test_error_delay_doubles_and_is_capped() -> None:
    policy = BackoffPolicy()
    assert [policy.error_delay(n) for n in (1, 2, 3)] == [timedelta(minutes=m) for m in (5, 10, 20)]
    assert policy.error_delay(50) == policy.error_max


def test_normalise_folds_whitespace_nfc_and_invisible_characters_but_keeps_quotes() -> None:
    assert normalise("  Caf\u0065\u0301\u00a0 au\u200b lait\u00ad \n") == "Café au lait"
    assert normalise("\u201cquoted\u201d") == "\u201cquoted\u201d"
    assert normalise("\u201cquoted\u201d") != normalise('"quoted"')


def test_hash_ignores_invisible_differences_and_empty_paragraphs_but_not_edits() -> None:
    base = version_hash("Title", ["One para.", "Two para."])
    assert version_hash(" Title ", ["One\u00a0para.", "", "Two  para.\u200b"]) == base
    assert version_hash("Title", ["One para.", "Two para!"]) != base
    assert version_hash("Title", ["One para. Two para."]) != base  # paragraph boundaries matter
    assert normalise_paragraphs([" a ", "\u200b", "b"]) == ("a", "b")


def test_every_schedule_number_is_configurable_from_the_environment(monkeypatch) -> None:
    from newsdelta.config import Settings

    monkeypatch.setenv("NEWSDELTA_SCHEDULE", "newssniffer")
    monkeypatch.setenv("NEWSDELTA_CHECK_FIRST_MINUTES", "10")
    monkeypatch.setenv("NEWSDELTA_CHECK_GROWTH", "1.5")
    monkeypatch.setenv("NEWSDELTA_RETIRE_AFTER_DAYS", "7")
    policy = Settings.from_env().policy
    assert (policy.initial, policy.growth, policy.retire_after) == (
        timedelta(minutes=10),
        1.5,
        timedelta(days=7),
    )
    assert Settings.from_env(per_host_delay=0.0).per_host_delay == 0.0

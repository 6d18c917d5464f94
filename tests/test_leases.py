"""Feeds, articles and WebSub subscriptions are claimed, kept and given back by the same functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from crawl_support import sqlite_store
from sqlalchemy.orm import Session, sessionmaker

from newsdelta.store.leases import (
    CLAIMABLE,
    Claimable,
    Lease,
    claim_due,
    extend_lease,
    is_held,
    lease_of,
    release_leases,
    release_leases_of_dead_processes,
)
from newsdelta.store.models import HubSubscription
from newsdelta.store.repository import add_feed, track_article

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    """One due row of each claimable kind."""
    sessions = sqlite_store(tmp_path)
    with sessions.begin() as session:
        feed = add_feed(session, "http://127.0.0.1/feed.xml", "outlet", timedelta(minutes=5), [], NOW)
        track_article(session, "http://127.0.0.1/a/1", feed.source, NOW, initial_period=timedelta(minutes=5))
        session.add(
            HubSubscription(
                feed_id=feed.id,
                hub_url="http://127.0.0.1/hub",
                topic_url=feed.url,
                callback_token="t",
                secret="s",
                mode="subscribe",
                state="new",
                next_check_at=NOW,
                notifications=0,
                error_streak=0,
                created_at=NOW,
            )
        )
    return sessions


def _lease(session: Session, model: Claimable, row_id: int) -> Lease | None:
    row = session.get(model, row_id, populate_existing=True)
    assert row is not None
    return lease_of(row)


@pytest.mark.parametrize("model", CLAIMABLE, ids=lambda model: model.__name__)
def test_a_claim_lost_to_a_later_one_of_the_same_owner_is_no_longer_held(
    sessions: sessionmaker[Session], model: Claimable
) -> None:
    with sessions() as session:
        [row_id] = claim_due(session, model, NOW, limit=5, lease=LEASE, owner="host:1")
        first = _lease(session, model, row_id)
        assert first == Lease("host:1", NOW + LEASE) and is_held(session, model, row_id, "host:1")
        assert extend_lease(session, model, row_id, first, NOW + 2 * LEASE)
        # The extended lease runs out; the same owner claims the row again: the old claim cannot extend.
        later = NOW + 3 * LEASE
        assert claim_due(session, model, later, limit=5, lease=LEASE, owner="host:1") == [row_id]
        assert not extend_lease(session, model, row_id, Lease("host:1", NOW + 2 * LEASE), later + LEASE)
        release_leases(session, model, [row_id], "someone else", later)
        assert is_held(session, model, row_id, "host:1")
        release_leases(session, model, [row_id], "host:1", later)
        session.commit()
        assert _lease(session, model, row_id) is None and not is_held(session, model, row_id, "host:1")
        assert claim_due(session, model, later, limit=5, lease=LEASE, owner="host:2") == [row_id]


def test_a_dead_process_leases_of_every_kind_come_back_at_once(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        for model in CLAIMABLE:
            claim_due(session, model, NOW, limit=5, lease=LEASE, owner="host:41")
        released = release_leases_of_dead_processes(session, "host", lambda pid: pid == 41, NOW)
        assert released == 0
        released = release_leases_of_dead_processes(session, "host", lambda pid: False, NOW)
        assert released == len(CLAIMABLE)
        for model in CLAIMABLE:
            assert claim_due(session, model, NOW, limit=5, lease=LEASE, owner="host:42") != []

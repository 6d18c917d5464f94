"""Leases: how feeds, articles and WebSub hub subscriptions are claimed, kept and given back, all alike.

A claim writes who holds a row (`lease_owner`: a process's `host:pid`, or a scheduler's per-claim token) and
until when (`lease_until`). The expiry is also the row's next due time, so a crashed holder's work falls due
again by itself; on PostgreSQL the claim also uses FOR UPDATE SKIP LOCKED so concurrent claimers never block
on each other.

A claim is told apart by the pair (owner, expiry), a `Lease`: a row is claimed again only once its lease has
expired, so every new claim's expiry is later than the last one's. Work that must not land after its claim
was lost (a feed poll, which runs long and extends its lease) compares the pair, so a holder whose lease ran
out and was claimed again by anyone, itself included, writes nothing. Short work (an article's check) and
giving leases back compare the owner only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, any_, func, or_, select, text, update
from sqlalchemy.orm import Session

from newsdelta.store.db import rows_changed
from newsdelta.store.models import Article, Feed, HubSubscription

Claimable = type[Article] | type[Feed] | type[HubSubscription]
Claimed = Article | Feed | HubSubscription
CLAIMABLE: tuple[Claimable, ...] = (Article, Feed, HubSubscription)


@dataclass(frozen=True, slots=True)
class Lease:
    """One claim of one row: whose, and until when (see the module's docstring for why both)."""

    owner: str
    until: datetime


def lease_of(row: Claimed) -> Lease | None:
    """The claim a row is under now, if any."""
    if row.lease_owner is None or row.lease_until is None:
        return None
    return Lease(row.lease_owner, row.lease_until)


def still_held(row: Claimed, lease: Lease | None) -> bool:
    """Whether `row` is still under `lease`; work done without a claim (`None`) needs none."""
    return lease is None or lease_of(row) == lease


def drop_lease(row: Claimed) -> None:
    """Give a loaded row's lease back, with the write that finishes its work."""
    row.lease_until = None
    row.lease_owner = None


def lease_free(model: Claimable, now: datetime) -> ColumnElement[bool]:
    """Rows nobody holds: never leased, or the lease has expired."""
    return or_(model.lease_until.is_(None), model.lease_until < now)


def backlog(session: Session, model: Claimable, now: datetime) -> tuple[int, int, datetime | None]:
    """How many rows are due and free, how many are leased, and the oldest due time: is the crawl keeping up?"""
    free = lease_free(model, now)
    due, leased, oldest = session.execute(
        select(
            func.count().filter(and_(model.next_check_at <= now, free)),
            func.count().filter(model.lease_until >= now),
            func.min(model.next_check_at).filter(and_(model.next_check_at <= now, free)),
        )
    ).one()
    return due, leased, oldest


def is_held(session: Session, model: Claimable, row_id: int, owner: str) -> bool:
    """Whether `owner` still holds the row (a Celery task's check of the claim it was sent with)."""
    held = select(model.id).where(model.id == row_id, model.lease_owner == owner)
    return session.scalar(held) is not None


def _due(model: Claimable, now: datetime, forced_since: datetime | None) -> Select[int]:
    if forced_since is None:
        due = model.next_check_at <= now
    else:  # everything not yet looked at since the forced pass began, retired or not
        due = or_(model.last_checked_at.is_(None), model.last_checked_at < forced_since)
    return select(model.id).where(and_(due, lease_free(model, now))).order_by(model.next_check_at)


def claim_due(
    session: Session,
    model: Claimable,
    now: datetime,
    *,
    limit: int,
    lease: timedelta,
    owner: str,
    forced_since: datetime | None = None,
) -> list[int]:
    """Lease up to `limit` due rows to `owner` and return their ids, oldest due first.

    With `forced_since`, every row not checked since then is due, whatever its schedule (`crawl --force`).
    """
    candidates = _due(model, now, forced_since).limit(limit)
    chosen: ColumnElement[bool] = model.id.in_(candidates.scalar_subquery())
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        # As an ARRAY the chosen ids are one value, so the UPDATE finds them by primary key; with IN the
        # planner hash-joins them against a scan of the whole table (bench/scale.py, 1M articles).
        chosen = model.id == any_(func.array(candidates.with_for_update(skip_locked=True).scalar_subquery()))
        # A claim lost in a database crash only means the work is claimed again: no need to wait for the disk.
        session.execute(text("SET LOCAL synchronous_commit = off"))
    # The lease's expiry is also the row's next due time: claimed rows leave the front of the due index (so the
    # next claim does not scan past them) and a crashed holder's work falls due again by itself.
    values = {"lease_owner": owner, "lease_until": now + lease, "next_check_at": now + lease}
    ids = list(session.scalars(update(model).where(chosen).values(**values).returning(model.id)))
    session.commit()
    return sorted(ids)


def extend_lease(session: Session, model: Claimable, row_id: int, lease: Lease, until: datetime) -> bool:
    """Move a lease, and the row's due time with it, to `until` if the row is still under `lease`; False when
    it expired and was claimed again (the holder then stops)."""
    held = (model.id == row_id) & (model.lease_owner == lease.owner) & (model.lease_until == lease.until)
    result = session.execute(update(model).where(held).values(lease_until=until, next_check_at=until))
    session.commit()
    return bool(rows_changed(result))


def release_leases(session: Session, model: Claimable, ids: Sequence[int], owner: str, now: datetime) -> None:
    """Give back the leases `owner` still holds, the rows due at once, so the next claim hands them out."""
    _give_back(session, model, model.id.in_(ids) & (model.lease_owner == owner), now)


def _give_back(session: Session, model: Claimable, held: ColumnElement[bool], now: datetime) -> int:
    result = session.execute(
        update(model).where(held).values(lease_until=None, lease_owner=None, next_check_at=now)
    )
    return rows_changed(result)


def release_leases_of_dead_processes(
    session: Session, hostname: str, alive: Callable[[int], bool], now: datetime
) -> int:
    """Make the work that crashed processes on this host had leased due now, instead of when the lease expires.

    Only `host:pid` owners are looked at: a scheduler's per-claim tokens hold a '/' after the pid.
    """
    released = 0
    for model in CLAIMABLE:
        owners = session.scalars(
            select(model.lease_owner).where(model.lease_owner.like(f"{hostname}:%")).distinct()
        ).all()
        for owner in filter(None, owners):  # (the LIKE already keeps NULL out)
            pid = owner.rsplit(":", 1)[1]
            if pid.isdigit() and not alive(int(pid)):
                released += _give_back(session, model, model.lease_owner == owner, now)
    session.commit()
    return released

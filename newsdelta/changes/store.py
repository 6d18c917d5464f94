"""Storing comparisons: once per version, in the transaction that stores it, and a backfill for the rest.

A version is compared with the latest earlier version that is not a removal, so a page that comes back is
compared with what it said before it went. A comparison that fails is logged and left for the backfill:
analysis must never cost a crawl its version.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session, sessionmaker

from newsdelta.changes.align import ALGORITHM, Action
from newsdelta.changes.kinds import Comparison, compare
from newsdelta.store.models import Version, VersionChange, VersionKind
from newsdelta.vocabulary import Origin

log = logging.getLogger(__name__)

# A first version has nothing to be compared with: no rows, no kinds.
FIRST = Comparison([], [], [], [], 0)


def previous_version(session: Session, version: Version) -> Version | None:
    """What `version` is compared with: the latest earlier version that is not a removal."""
    return session.scalar(
        select(Version)
        .where(
            Version.article_id == version.article_id,
            Version.number < version.number,
            Version.origin != Origin.REMOVED,
        )
        .order_by(Version.number.desc())
        .limit(1)
    )


def record_changes(session: Session, version: Version) -> None:
    """Compare a version being stored with its predecessor and add the result to the same transaction."""
    session.flush()  # the version's keys (article_id from a relationship, its id) are set only by a flush
    previous = previous_version(session, version)
    try:
        comparison = compare(previous, version) if previous is not None else FIRST
    except Exception:  # a bug in analysis must not lose the version; the backfill retries
        log.exception("comparing version %s of article %s failed", version.number, version.article_id)
        return
    counts = comparison.counts
    session.add(
        VersionChange(
            version=version,
            previous_number=previous.number if previous is not None else None,
            algorithm=ALGORITHM,
            size_words=comparison.size_words,
            additions=counts[Action.ADDITION],
            deletions=counts[Action.DELETION],
            edits=counts[Action.EDIT],
            refactors=counts[Action.REFACTOR],
            kinds=comparison.kinds,
            sentences=[[pair.old, pair.new, pair.action.value, pair.similarity] for pair in comparison.pairs],
        )
    )
    session.add_all(VersionKind(version=version, kind=kind) for kind in comparison.kinds)


def _pending(session: Session, after_id: int, limit: int) -> list[Version]:
    """Versions with no comparison, or one from an older algorithm, in id order after `after_id`."""
    query = (
        select(Version)
        .outerjoin(VersionChange, VersionChange.version_id == Version.id)
        .where(
            Version.id > after_id,
            or_(VersionChange.version_id.is_(None), VersionChange.algorithm != ALGORITHM),
        )
        .order_by(Version.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def backfill(
    sessions: sessionmaker[Session], *, batch: int = 200, on_version: Callable[[], None] | None = None
) -> int:
    """Compare every version that lacks a current comparison, `batch` per transaction; return how many."""
    done = 0
    after_id = 0
    while True:
        with sessions.begin() as session:
            versions = _pending(session, after_id, batch)
            if not versions:
                return done
            ids = [v.id for v in versions]
            session.execute(delete(VersionKind).where(VersionKind.version_id.in_(ids)))
            session.execute(delete(VersionChange).where(VersionChange.version_id.in_(ids)))
            for version in versions:
                record_changes(session, version)
                if on_version is not None:
                    on_version()
            after_id = ids[-1]
            done += len(versions)

"""The default evidence store: the `raw_page` table, written in the caller's transaction.

A page is then committed together with the version that cites it, and a check rolled back leaves no page.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from newsdelta.store.evidence import EvidenceOpener, StoredPage
from newsdelta.store.models import RawPage


class DatabaseEvidence:
    def __init__(self, session: Session) -> None:
        self.session = session

    @classmethod
    def opener(cls, _url: str) -> EvidenceOpener:
        return cls

    def put(self, page: StoredPage, *, replace: bool = False) -> None:
        row = self.session.get(RawPage, page.sha256)
        if row is not None:
            if replace:
                row.codec, row.compressed = page.codec, page.compressed
                row.base_sha256, row.depth = page.base_sha256, page.depth
            return
        try:
            with self.session.begin_nested():
                self.session.add(_row(page))
        except IntegrityError:  # another worker stored the same bytes first: that copy is as good as ours
            pass

    def get(self, sha256: str) -> StoredPage | None:
        row = self.session.get(RawPage, sha256)
        if row is None:
            return None
        return StoredPage(
            row.sha256,
            row.codec,
            row.compressed,
            row.base_sha256,
            row.depth,
            row.size,
            row.content_type,
            row.first_seen_at,
        )

    def exists(self, sha256: str) -> bool:
        return self.session.scalar(select(RawPage.sha256).where(RawPage.sha256 == sha256)) is not None

    def iterate(self) -> Iterator[str]:
        return iter(self.session.scalars(select(RawPage.sha256).order_by(RawPage.sha256)).all())


def _row(page: StoredPage) -> RawPage:
    return RawPage(
        sha256=page.sha256,
        compressed=page.compressed,
        codec=page.codec,
        base_sha256=page.base_sha256,
        depth=page.depth,
        size=page.size,
        content_type=page.content_type,
        first_seen_at=page.first_seen_at,
    )

"""Raw pages as evidence: compressed, content-addressed, written once and never changed."""

from __future__ import annotations

import hashlib
import zlib
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from newsdelta.fetch.charset import decode_text
from newsdelta.store.models import RawPage, Version


def body_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def keep_raw_page(session: Session, body: bytes, content_type: str | None, now: datetime) -> str:
    """Store the body unless the same bytes are already kept; return its SHA-256 either way."""
    sha = body_sha256(body)
    if session.get(RawPage, sha) is not None:
        return sha
    page = RawPage(
        sha256=sha,
        compressed=zlib.compress(body, 6),
        size=len(body),
        content_type=content_type,
        first_seen_at=now,
    )
    try:
        with session.begin_nested():
            session.add(page)
    except IntegrityError:  # another worker stored the same bytes first: that copy is as good as ours
        pass
    return sha


def load_raw_page(session: Session, sha: str) -> bytes | None:
    page = session.get(RawPage, sha)
    return None if page is None else zlib.decompress(page.compressed)


def raw_page_text(session: Session, version: Version) -> str:
    """A version's evidence decoded exactly as its live fetch was: with the charset its HTTP header gave
    (versions stored before that was kept fall back to the header the page was first stored with)."""
    page = session.get(RawPage, version.raw_sha256) if version.raw_sha256 else None
    if page is None:
        return ""
    content_type = f"text/html; charset={version.charset}" if version.charset else page.content_type
    return decode_text(zlib.decompress(page.compressed), content_type)

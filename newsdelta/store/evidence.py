"""Raw pages as evidence: compressed, content-addressed, written once and never changed.

A new article's body is kept whole (zstd); a later body of the same article is kept as a zstd delta against
the previous one (the previous body as a raw-content dictionary), which for a news page that changed a
paragraph is a few hundred bytes instead of tens of kilobytes. Every `MAX_DEPTH`th body in a chain is kept
whole again, so reading one back decompresses at most `MAX_DEPTH` + 1 frames. Every read is checked against
the SHA-256 the page is addressed by. Rows written before zstd (codec "zlib") read as before; `repack`
rewrites them.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import zstandard
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from newsdelta.fetch.charset import decode_text
from newsdelta.store.models import RawPage, Version

# zstd level: 19 is slow to write (tens of ms for a news page) but writes happen once per new version.
LEVEL = 19
# Deltas in a row before a full copy: bounds the work of one read.
MAX_DEPTH = 8


class EvidenceCorrupt(Exception):
    """A stored body did not decompress to the bytes its SHA-256 names."""


def body_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@dataclass(frozen=True, slots=True)
class Packed:
    codec: str
    compressed: bytes
    base_sha256: str | None
    depth: int


def pack(body: bytes, base: tuple[RawPage, bytes] | None = None) -> Packed:
    """Whole, or as a delta against `base` (its row and its bytes) when that keeps the chain short."""
    if base is None or base[0].depth + 1 > MAX_DEPTH:
        return Packed("zstd", zstandard.ZstdCompressor(level=LEVEL).compress(body), None, 0)
    row, base_body = base
    dictionary = zstandard.ZstdCompressionDict(base_body, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    compressed = zstandard.ZstdCompressor(level=LEVEL, dict_data=dictionary).compress(body)
    return Packed("zstd-delta", compressed, row.sha256, row.depth + 1)


def keep_raw_page(
    session: Session, body: bytes, content_type: str | None, now: datetime, *, previous: str | None = None
) -> str:
    """Store the body unless the same bytes are already kept; return its SHA-256 either way.

    `previous` is the SHA-256 of the same article's previous body, the base a delta is made against.
    """
    sha = body_sha256(body)
    if session.get(RawPage, sha) is not None:
        return sha
    packed = pack(body, _base(session, previous))
    page = RawPage(
        sha256=sha,
        compressed=packed.compressed,
        codec=packed.codec,
        base_sha256=packed.base_sha256,
        depth=packed.depth,
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


def _base(session: Session, sha: str | None) -> tuple[RawPage, bytes] | None:
    row = session.get(RawPage, sha) if sha else None
    return None if row is None else (row, read_body(session, row))


def read_body(session: Session, page: RawPage) -> bytes:
    """The exact bytes of a stored page, following its delta chain; raises EvidenceCorrupt on a mismatch."""
    chain = [page]
    while chain[-1].base_sha256 is not None:
        base = session.get(RawPage, chain[-1].base_sha256)
        if base is None:
            raise EvidenceCorrupt(f"raw page {chain[-1].sha256} lost its delta base {chain[-1].base_sha256}")
        chain.append(base)
    body = _unpack(chain[-1], None)
    for row in reversed(chain[:-1]):
        body = _unpack(row, body)
    if body_sha256(body) != page.sha256:
        raise EvidenceCorrupt(f"raw page {page.sha256} does not read back to its SHA-256")
    return body


def _unpack(page: RawPage, base: bytes | None) -> bytes:
    if page.codec == "zlib":
        return zlib.decompress(page.compressed)
    if page.codec == "zstd":
        return zstandard.ZstdDecompressor().decompress(page.compressed)
    if page.codec == "zstd-delta" and base is not None:
        dictionary = zstandard.ZstdCompressionDict(base, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
        return zstandard.ZstdDecompressor(dict_data=dictionary).decompress(page.compressed)
    raise EvidenceCorrupt(f"raw page {page.sha256} has unknown codec {page.codec!r}")


def load_raw_page(session: Session, sha: str) -> bytes | None:
    page = session.get(RawPage, sha)
    return None if page is None else read_body(session, page)


def raw_page_text(session: Session, version: Version) -> str:
    """A version's evidence decoded exactly as its live fetch was: with the charset its HTTP header gave
    (versions stored before that was kept fall back to the header the page was first stored with)."""
    page = session.get(RawPage, version.raw_sha256) if version.raw_sha256 else None
    if page is None:
        return ""
    content_type = f"text/html; charset={version.charset}" if version.charset else page.content_type
    return decode_text(read_body(session, page), content_type)


def repack(session: Session) -> Iterator[tuple[str, int, int]]:
    """Rewrite zlib rows as zstd, each article's bodies in version order as deltas against the one before.

    Only zlib rows are rewritten and a base is always a row already in zstd form, so no chain can loop.
    Yields (sha256, bytes before, bytes after) per row rewritten; the caller commits.
    """
    rows = session.execute(
        select(Version.article_id, Version.raw_sha256)
        .where(Version.raw_sha256.is_not(None))
        .order_by(Version.article_id, Version.number)
    )
    previous: tuple[int, str] | None = None
    for article_id, sha in rows:
        assert sha is not None  # the query's own condition, which the column's type does not carry
        page = session.get(RawPage, sha)
        base_sha = previous[1] if previous and previous[0] == article_id and previous[1] != sha else None
        previous = (article_id, sha)
        if page is None or page.codec != "zlib":
            continue
        before = len(page.compressed)
        packed = pack(read_body(session, page), _base(session, base_sha))
        page.compressed, page.codec = packed.compressed, packed.codec
        page.base_sha256, page.depth = packed.base_sha256, packed.depth
        yield sha, before, len(packed.compressed)

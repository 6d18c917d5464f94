"""Raw pages as evidence: compressed, content-addressed, written once and never changed.

A new article's body is kept whole (zstd); a later body of the same article is kept as a zstd delta against
the previous one (the previous body as a raw-content dictionary), which for a news page that changed a
paragraph is a few hundred bytes instead of tens of kilobytes. Every `MAX_DEPTH`th body in a chain is kept
whole again, so reading one back decompresses at most `MAX_DEPTH` + 1 frames. Every read is checked against
the SHA-256 the page is addressed by. Rows written before zstd (codec "zlib") read as before; `repack`
rewrites them.

Where the packed pages live is an `EvidenceStore` (the database by default, a directory tree with
NEWSDELTA_EVIDENCE=file:///path; see `newsdelta.store.evidence_stores`). Packing and reading happen here, on
top of any store, so a delta's base is always read from the store the delta is in.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

import zstandard
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsdelta.fetch.charset import decode_text
from newsdelta.store.models import Version

# zstd level: 19 is slow to write (tens of ms for a news page) but writes happen once per new version.
LEVEL = 19
# Deltas in a row before a full copy: bounds the work of one read.
MAX_DEPTH = 8


class EvidenceCorrupt(Exception):
    """A stored body did not decompress to the bytes its SHA-256 names."""


def body_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredPage:
    """One packed body as a store keeps it. `codec` is zlib (before 0007), zstd, or zstd-delta: compressed
    with the body `base_sha256` as a raw-content dictionary, `depth` deltas away from a full copy."""

    sha256: str
    codec: str
    compressed: bytes
    base_sha256: str | None
    depth: int
    size: int
    content_type: str | None
    first_seen_at: datetime


class EvidenceStore(Protocol):
    """Where packed pages are kept, by SHA-256. `put` keeps the first page given for a SHA-256 unless
    `replace` (only `repack` replaces, with a page of the same bytes)."""

    def put(self, page: StoredPage, *, replace: bool = False) -> None: ...

    def get(self, sha256: str) -> StoredPage | None: ...

    def exists(self, sha256: str) -> bool: ...

    def iterate(self) -> Iterator[str]: ...


# A store for the work of one session: the database store writes in the caller's transaction, others ignore it.
EvidenceOpener = Callable[[Session], EvidenceStore]


@dataclass(frozen=True, slots=True)
class Packed:
    codec: str
    compressed: bytes
    base_sha256: str | None
    depth: int


def pack(body: bytes, base: tuple[StoredPage, bytes] | None = None) -> Packed:
    """Whole, or as a delta against `base` (its page and its bytes) when that keeps the chain short."""
    if base is None or base[0].depth + 1 > MAX_DEPTH:
        return Packed("zstd", zstandard.ZstdCompressor(level=LEVEL).compress(body), None, 0)
    page, base_body = base
    dictionary = zstandard.ZstdCompressionDict(base_body, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    compressed = zstandard.ZstdCompressor(level=LEVEL, dict_data=dictionary).compress(body)
    return Packed("zstd-delta", compressed, page.sha256, page.depth + 1)


def prepare_page(
    store: EvidenceStore, body: bytes, content_type: str | None, now: datetime, *, previous: str | None = None
) -> StoredPage | None:
    """The body packed for `store` (None when the same bytes are kept already): the slow part of keeping a
    page, done before a check takes its lock. `previous` is the SHA-256 of the same article's previous body,
    the base a delta is made against."""
    sha = body_sha256(body)
    if store.exists(sha):
        return None
    packed = pack(body, _base(store, previous))
    return StoredPage(
        sha, packed.codec, packed.compressed, packed.base_sha256, packed.depth, len(body), content_type, now
    )


def keep_raw_page(
    store: EvidenceStore, body: bytes, content_type: str | None, now: datetime, *, previous: str | None = None
) -> str:
    """Store the body unless the same bytes are already kept; return its SHA-256 either way."""
    page = prepare_page(store, body, content_type, now, previous=previous)
    if page is not None:
        store.put(page)
    return body_sha256(body)


def _base(store: EvidenceStore, sha: str | None) -> tuple[StoredPage, bytes] | None:
    page = store.get(sha) if sha else None
    return None if page is None else (page, read_body(store, page))


def read_body(store: EvidenceStore, page: StoredPage) -> bytes:
    """The exact bytes of a stored page, following its delta chain; raises EvidenceCorrupt on a mismatch."""
    chain = [page]
    while chain[-1].base_sha256 is not None:
        base = store.get(chain[-1].base_sha256)
        if base is None or len(chain) > MAX_DEPTH + 1:
            raise EvidenceCorrupt(f"raw page {chain[-1].sha256} lost its delta base {chain[-1].base_sha256}")
        chain.append(base)
    body = _unpack(chain[-1], None)
    for row in reversed(chain[:-1]):
        body = _unpack(row, body)
    if body_sha256(body) != page.sha256:
        raise EvidenceCorrupt(f"raw page {page.sha256} does not read back to its SHA-256")
    return body


def _unpack(page: StoredPage, base: bytes | None) -> bytes:
    if page.codec == "zlib":
        return zlib.decompress(page.compressed)
    if page.codec == "zstd":
        return zstandard.ZstdDecompressor().decompress(page.compressed)
    if page.codec == "zstd-delta" and base is not None:
        dictionary = zstandard.ZstdCompressionDict(base, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
        return zstandard.ZstdDecompressor(dict_data=dictionary).decompress(page.compressed)
    raise EvidenceCorrupt(f"raw page {page.sha256} has unknown codec {page.codec!r}")


def load_raw_page(store: EvidenceStore, sha: str) -> bytes | None:
    page = store.get(sha)
    return None if page is None else read_body(store, page)


def raw_page_text(store: EvidenceStore, version: Version) -> str:
    """A version's evidence decoded exactly as its live fetch was: with the charset its HTTP header gave
    (versions stored before that was kept fall back to the header the page was first stored with)."""
    page = store.get(version.raw_sha256) if version.raw_sha256 else None
    if page is None:
        return ""
    content_type = f"text/html; charset={version.charset}" if version.charset else page.content_type
    return decode_text(read_body(store, page), content_type)


def repack(session: Session, store: EvidenceStore) -> Iterator[tuple[str, int, int]]:
    """Rewrite zlib pages as zstd, each article's bodies in version order as deltas against the one before.

    Only zlib pages are rewritten and a base is always a page already in zstd form, so no chain can loop.
    Yields (sha256, bytes before, bytes after) per page rewritten; the caller commits.
    """
    rows = session.execute(
        select(Version.article_id, Version.raw_sha256)
        .where(Version.raw_sha256.is_not(None))
        .order_by(Version.article_id, Version.number)
    )
    previous: tuple[int, str] | None = None
    for article_id, sha in rows:
        if sha is None:
            continue
        page = store.get(sha)
        base_sha = previous[1] if previous and previous[0] == article_id and previous[1] != sha else None
        previous = (article_id, sha)
        if page is None or page.codec != "zlib":
            continue
        packed = pack(read_body(store, page), _base(store, base_sha))
        store.put(
            replace(
                page,
                codec=packed.codec,
                compressed=packed.compressed,
                base_sha256=packed.base_sha256,
                depth=packed.depth,
            ),
            replace=True,
        )
        yield sha, len(page.compressed), len(packed.compressed)

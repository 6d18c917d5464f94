"""Evidence in a content-addressed directory tree (NEWSDELTA_EVIDENCE=file:///path): `ab/cd/abcd…` per page.

Each file is one JSON header line (codec, delta base, depth, size, content type, first seen) and the
compressed bytes. A file is written under a temporary name and linked into place, so a reader never sees
half a page and the first page stored for a SHA-256 stays (only `repack` replaces one); it is written before the version that cites it commits, so a crash can leave a page no version
cites, never a version without its page.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from newsdelta.store.evidence import EvidenceCorrupt, EvidenceOpener, StoredPage


class FileEvidence:
    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def opener(cls, url: str) -> EvidenceOpener:
        """One store for every session (the tree is shared); a bad URL fails at start, not mid-crawl."""
        store = cls(file_url_path(url))
        return lambda _session: store

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a SHA-256: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, page: StoredPage, *, replace: bool = False) -> None:
        target = self.path(page.sha256)
        if target.exists() and not replace:
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        header = {
            "codec": page.codec,
            "base_sha256": page.base_sha256,
            "depth": page.depth,
            "size": page.size,
            "content_type": page.content_type,
            "first_seen_at": page.first_seen_at.isoformat(),
        }
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(json.dumps(header).encode() + b"\n" + page.compressed)
                stream.flush()
                os.fsync(stream.fileno())
            if replace:
                os.replace(temporary, target)
            else:  # a link fails where a file exists: a concurrent writer's page, as good as ours, stays
                with contextlib.suppress(FileExistsError):
                    os.link(temporary, target)
        finally:
            Path(temporary).unlink(missing_ok=True)

    def get(self, sha256: str) -> StoredPage | None:
        try:
            data = self.path(sha256).read_bytes()
        except FileNotFoundError:
            return None
        line, _, compressed = data.partition(b"\n")
        try:
            header = json.loads(line)
            return StoredPage(
                sha256,
                header["codec"],
                compressed,
                header["base_sha256"],
                header["depth"],
                header["size"],
                header["content_type"],
                datetime.fromisoformat(header["first_seen_at"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise EvidenceCorrupt(f"evidence file {self.path(sha256)} has a broken header: {exc}") from exc

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def iterate(self) -> Iterator[str]:
        for path in sorted(self.root.glob("??/??/*")):
            if not path.name.startswith("."):
                yield path.name


def file_url_path(url: str) -> Path:
    """The directory a file:// URL names; ValueError for anything else (a host, a relative path)."""
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
        raise ValueError(f"evidence URL {url!r} is not file:///absolute/path")
    return Path(unquote(parts.path))

"""One normalisation for every piece of article text, so a hash means the same thing everywhere.

Curly and straight quotes are kept as the page has them: a quote softened from "…" to '…' is an edit.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence

# Zero-width and invisible characters that pages sprinkle in (soft hyphen, ZW space/joiners, BOM, word joiner,
# bidi marks): they change bytes but never what a reader sees.
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u180e]")
_WHITESPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Unicode NFC, invisible characters removed, every run of whitespace (incl. NBSP) folded to one space."""
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)
    return _WHITESPACE.sub(" ", text).strip()


def normalise_paragraphs(paragraphs: Sequence[str]) -> tuple[str, ...]:
    """Normalise each paragraph and drop the ones left empty."""
    cleaned = (normalise(p) for p in paragraphs)
    return tuple(p for p in cleaned if p)


def version_hash(title: str, paragraphs: Sequence[str], standfirst: str = "") -> str:
    """SHA-256 over the normalised title, standfirst and body; equal hashes mean a reader sees the same article.

    No standfirst hashes as before standfirsts were read, so versions stored then keep their hashes.
    """
    digest = hashlib.sha256()
    digest.update(normalise(title).encode())
    if normalise(standfirst):
        digest.update(b"\x1d")
        digest.update(normalise(standfirst).encode())
    for paragraph in normalise_paragraphs(paragraphs):
        digest.update(b"\x1e")
        digest.update(paragraph.encode())
    return digest.hexdigest()

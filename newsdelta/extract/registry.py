"""Choosing the parser for a URL, and turning fetched bytes into text the parsers can read."""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

from newsdelta.extract.base import Extracted, OutletParser
from newsdelta.extract.outlets import OUTLET_PARSERS

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
# WHATWG: a page labelled Latin-1 is decoded as windows-1252 (curly quotes in 0x80-0x9f are real text).
_LABEL_ALIASES = {"iso-8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252"}
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def parser_for(url: str) -> OutletParser | None:
    """The outlet parser whose hosts match the URL, or None for the generic extractor."""
    return next((p for p in OUTLET_PARSERS if p.matches(url)), None)


def is_article_url(url: str) -> bool:
    """Outlet URL rules where an outlet parser covers the host; any other URL may be an article."""
    parser = parser_for(url)
    return True if parser is None else parser.is_article_url(url)


def extract(html: str | bytes, url: str) -> Extracted:
    """Read one page with its outlet's parser, or the generic extractor for other hosts."""
    from newsdelta.extract.generic import GENERIC

    text = decode_html(html) if isinstance(html, bytes) else html
    parser = parser_for(url) or GENERIC
    return parser.parse(text, url)


def decode_html(data: bytes) -> str:
    """Bytes to text: byte-order mark, then the page's own <meta> charset, then UTF-8, then a detector's guess."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, "replace")
    declared = _declared_encoding(data)
    if declared:
        return data.decode(declared, "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        guess = from_bytes(data[:200_000]).best()
        return data.decode(guess.encoding if guess else "cp1252", "replace")


def _declared_encoding(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:8192])
    if not match:
        return None
    label = match.group(1).decode("ascii", "replace").lower()
    try:
        codecs.lookup(label)
    except LookupError:
        return None
    return _LABEL_ALIASES.get(label, label)

"""Turning a body into text the way browsers do, without ever raising on bad bytes.

Order: HTTP header charset, byte-order mark, <meta charset> / http-equiv / XML declaration in the first
4 KB, strict UTF-8, then charset_normalizer's guess. Labels are mapped as WHATWG does (iso-8859-1 and
ascii mean windows-1252 on the web), so curly quotes in "latin-1" pages do not turn into C1 controls.
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

SNIFF_BYTES = 4096
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_DECLARED = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([-\w.:]+)|<\?xml[^>]+encoding\s*=\s*["']([-\w.:]+)""", re.I
)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([-\w.:]+)""", re.I)
# WHATWG Encoding Standard: these labels mean windows-1252 in web content.
_WEB_ALIASES = {"iso8859-1": "cp1252", "latin-1": "cp1252", "ascii": "cp1252"}


def header_charset(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type header, if any."""
    match = _HEADER_CHARSET.search(content_type or "")
    return match.group(1) if match else None


def decode_text(body: bytes, content_type: str | None = None) -> str:
    """Decode a web page or feed; undecodable bytes become U+FFFD instead of errors."""
    for label in (header_charset(content_type), _bom_encoding(body), _declared_charset(body)):
        codec = _codec(label)
        if codec:
            return body.decode(codec, errors="replace").removeprefix("\ufeff")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    return body.decode(_guess_codec(body), errors="replace")


def _guess_codec(body: bytes) -> str:
    """charset_normalizer's best guess; among equally good guesses windows-1252 wins, being the web's
    most common legacy encoding (otherwise French text comes out as cp1250, à as ŕ)."""
    matches = charset_normalizer.from_bytes(body)
    best = matches.best()
    if best is None:
        return "utf-8"
    tied = {
        _codec(m.encoding)
        for m in matches
        if (m.percent_chaos, m.percent_coherence) == (best.percent_chaos, best.percent_coherence)
    }
    return "cp1252" if "cp1252" in tied else _codec(best.encoding) or "utf-8"


def _bom_encoding(body: bytes) -> str | None:
    return next((name for bom, name in _BOMS if body.startswith(bom)), None)


def _declared_charset(body: bytes) -> str | None:
    match = _DECLARED.search(body[:SNIFF_BYTES])
    if not match:
        return None
    label = (match.group(1) or match.group(2)).decode("ascii", "replace")
    # A document that can declare its charset in ASCII bytes is not UTF-16, whatever it claims (WHATWG).
    return "utf-8" if label.lower().startswith("utf-16") else label


def _codec(label: str | None) -> str | None:
    """Python's codec name for a charset label, or None when the label is unknown (then keep sniffing)."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().lower()).name
    except LookupError:
        return None
    return _WEB_ALIASES.get(name, name)

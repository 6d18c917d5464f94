"""Choosing the parser for a URL, and turning fetched bytes into text the parsers can read."""

from __future__ import annotations

import codecs
import dataclasses
import logging
import re
from functools import lru_cache

from charset_normalizer import from_bytes

from newsdelta import settings
from newsdelta.extract.base import FALLBACK_PREFIX, Extracted, OutletParser, UnknownFormat
from newsdelta.extract.outlets import EXPERIMENTAL_PARSERS, OUTLET_PARSERS

log = logging.getLogger(__name__)

_FALLBACK_NAME = re.compile(r"^generic\(fallback:(?P<outlet>[^@)]+)@\d+\)$")

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
# WHATWG: a page labelled Latin-1 is decoded as windows-1252 (curly quotes in 0x80-0x9f are real text).
_LABEL_ALIASES = {"iso-8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252"}
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


# Parsers added at run time by `register_outlet_parser` (a plugin's outlet), checked before the built-in ones.
REGISTERED_PARSERS: list[OutletParser] = []


def register_outlet_parser(parser: OutletParser) -> OutletParser:
    """Add an outlet parser outside `newsdelta.extract.outlets`: one line in the module that defines it."""
    REGISTERED_PARSERS.insert(0, parser)
    return parser


def outlet_parsers() -> tuple[OutletParser, ...]:
    """The outlet parsers in use: those checked against real pages, plus experimental ones switched on."""
    return tuple(REGISTERED_PARSERS) + _enabled_parsers(settings.EXPERIMENTAL_PARSERS.read())


@lru_cache(maxsize=8)
def _enabled_parsers(setting: str) -> tuple[OutletParser, ...]:
    wanted = {name.strip() for name in setting.split(",")}
    return OUTLET_PARSERS + tuple(p for p in EXPERIMENTAL_PARSERS if p.name in wanted or "all" in wanted)


def parser_for(url: str) -> OutletParser | None:
    """The outlet parser whose hosts match the URL, or None for the generic extractor."""
    return next((p for p in outlet_parsers() if p.matches(url)), None)


def fallback_name(outlet: OutletParser) -> str:
    """The parser name of a page the outlet's parser did not recognise, read by the generic extractor.

    It names the outlet parser's version too: when that version changes (a new format rule), the reading is
    no longer current, so the page is fetched and read again and a recognised page becomes a `reparse`.
    """
    return f"{FALLBACK_PREFIX}{outlet.name}@{outlet.version})"


def fallback_outlet(parser_name: str | None) -> str | None:
    """The outlet whose parser fell back, for a parser name written by `fallback_name`; else None."""
    match = _FALLBACK_NAME.match(parser_name or "")
    return match["outlet"] if match else None


def current_readings(url: str) -> frozenset[tuple[str, int]]:
    """The (parser, version) pairs a page of this URL can get now: a stored reading outside them is stale."""
    from newsdelta.extract.generic import GENERIC

    outlet = parser_for(url)
    if outlet is None:
        return frozenset({(GENERIC.name, GENERIC.version)})
    return frozenset({(outlet.name, outlet.version), (fallback_name(outlet), GENERIC.version)})


def is_article_url(url: str) -> bool:
    """Outlet URL rules where an outlet parser covers the host; any other URL may be an article."""
    parser = parser_for(url)
    return True if parser is None else parser.is_article_url(url)


def extract(html: str | bytes, url: str, *, reading: str | None = None) -> Extracted:
    """Read one page with its outlet's parser, or the generic extractor for other hosts.

    A page whose format the outlet parser does not know is read by the generic extractor under
    `fallback_name(outlet)`, so tracking goes on when an outlet changes its HTML. `reading` names the parser
    that must read the page (a stored version's `parser`): re-reading old evidence with the parser that read
    the new fetch is what makes a switch between them a `reparse`, not an edit.
    """
    from newsdelta.extract.generic import GENERIC

    text = decode_html(html) if isinstance(html, bytes) else html
    outlet = parser_for(url)
    if outlet is None:
        return GENERIC.parse(text, url)
    if reading == outlet.name:
        return outlet.parse(text, url)
    if reading is None:
        try:
            return outlet.parse(text, url)
        except UnknownFormat as exc:
            log.info("read by the generic extractor instead: %s", exc)
    generic = GENERIC.parse(text, url)
    return dataclasses.replace(generic, parser=fallback_name(outlet))


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

"""Choosing the parser for a URL. (Stub: the extraction work replaces this with the outlet registry.)"""

from __future__ import annotations

from newsdelta.extract.base import Extracted, OutletParser

OUTLET_PARSERS: tuple[OutletParser, ...] = ()


def parser_for(url: str) -> OutletParser | None:
    """The outlet parser whose hosts match the URL, or None for the generic extractor."""
    return next((p for p in OUTLET_PARSERS if p.matches(url)), None)


def is_article_url(url: str) -> bool:
    parser = parser_for(url)
    return True if parser is None else parser.is_article_url(url)


def extract(html: str | bytes, url: str) -> Extracted:
    from newsdelta.extract.generic import GENERIC

    text = html.decode("utf-8", "replace") if isinstance(html, bytes) else html
    parser = parser_for(url) or GENERIC
    return parser.parse(text, url)

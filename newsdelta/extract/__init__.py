"""Extraction: turn one fetched page into a title, byline, dates and an ordered list of paragraphs.

`extract(html, url)` picks the outlet parser for the URL (or the generic extractor) and returns an
`Extracted` whose text is already normalised by `newsdelta.text.normalise`.
"""

from newsdelta.extract.base import Extracted, ExtractionError, OutletParser
from newsdelta.extract.registry import extract, is_article_url, parser_for

__all__ = ["Extracted", "ExtractionError", "OutletParser", "extract", "is_article_url", "parser_for"]

"""The extraction contract shared by every outlet parser and the generic extractor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

# Parser names of pages an outlet parser did not recognise and the generic extractor read instead.
FALLBACK_PREFIX = "generic(fallback:"


class ExtractionError(Exception):
    """The page holds no article we can read (empty, binary, not an article, unparseable)."""


class UnknownFormat(ExtractionError):
    """An outlet parser does not recognise the page's template: the outlet changed its HTML.

    Not the page's fault, so the generic extractor reads it instead (see `registry.extract`).
    """


@dataclass(frozen=True, slots=True)
class Extracted:
    """What one parser read from one page. Text fields are normalised; datetimes are timezone-aware UTC."""

    title: str
    paragraphs: tuple[str, ...]
    parser: str
    parser_version: int
    byline: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    canonical_url: str | None = None
    standfirst: str = ""  # the summary under the headline, kept apart from the body (see extract.standfirst)


class OutletParser(Protocol):
    """One outlet: which URLs are its articles, and how to read one of its pages.

    `name` and `version` are read-only so that a parser may declare them as class constants.
    """

    @property
    def name(self) -> str:
        """The parser's name, stored with every version it read."""
        ...

    @property
    def version(self) -> int:
        """Bumped when the parser reads the same page differently, so stored versions say which read them."""
        ...

    def matches(self, url: str) -> bool:
        """True when the URL belongs to this outlet (its hosts), article or not."""
        ...

    def is_article_url(self, url: str) -> bool:
        """True for article URLs; False for section fronts, galleries, videos, polls, excluded sections."""
        ...

    def parse(self, html: str, url: str) -> Extracted:
        """Read the page; raise ExtractionError when it holds no article."""
        ...

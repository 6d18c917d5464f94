"""Reuters: the 2021+ Arc/Fusion site, where every body paragraph carries a numbered data-testid.

Built from a hand-made page of that structure (tests/fixtures/outlets/reuters.html), not yet a real capture.
"""

from __future__ import annotations

import re

from newsdelta.extract.declarative import DeclarativeParser, PageFormat

_BODY = "[data-testid=ArticleBody]"


class Reuters(DeclarativeParser):
    name = "reuters"
    version = 1
    hosts = ("reuters.com",)
    article_path = re.compile(r"^/[a-z-]+/(?:[a-z-]+/)*[a-z0-9-]+-\d{4}-\d{2}-\d{2}/?$")
    reject_path = re.compile(r"^/(?:pictures|graphics|video|markets/quote)/")
    formats = (
        PageFormat(
            name="2021-fusion",
            detect=_BODY + " [data-testid^=paragraph-]",
            paragraphs=(f"{_BODY} [data-testid^=paragraph-], {_BODY} h2, {_BODY} [data-testid=SignOff]"),
            title=("h1[data-testid=Heading]", "h1"),
            byline=("[data-testid=AuthorByline]",),
            published=("meta[property='article:published_time']@content",),
        ),
    )


REUTERS = Reuters()

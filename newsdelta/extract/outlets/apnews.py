"""AP News: the 2023+ Brightspot site ("RichTextStoryBody"); embeds in the body are wrapped as "Enhancement".

Built from a hand-made page of that structure (tests/fixtures/outlets/apnews.html), not yet a real capture.
"""

from __future__ import annotations

import re

from newsdelta.extract.declarative import DeclarativeParser, PageFormat, children

_BODY = "div.RichTextStoryBody"


class ApNews(DeclarativeParser):
    name = "apnews"
    version = 1
    hosts = ("apnews.com",)
    article_path = re.compile(r"^/article/[a-z0-9-]*[0-9a-f]{32}/?$")
    reject_path = re.compile(r"^/(?:video|gallery|live|hub)/")
    formats = (
        PageFormat(
            name="2023-brightspot",
            detect=_BODY,
            paragraphs=children(_BODY, "p", "h2", "h3", "ul > li"),
            title=("h1.Page-headline", "h1"),
            # A rule of underscores separates the story from its contributor line.
            skip=r"^_+$",
            byline=("div.Page-authors a",),
            published=("meta[property='article:published_time']@content", "bsp-timestamp@data-timestamp"),
        ),
    )


AP_NEWS = ApNews()

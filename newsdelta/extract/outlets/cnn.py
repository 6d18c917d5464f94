"""CNN: the 2022+ "vossi" site; paragraphs are marked data-component-name="paragraph" and subheads "subheader".

Built from a hand-made page of that structure (tests/fixtures/outlets/cnn.html), not yet a real capture.
"""

from __future__ import annotations

import re
from typing import Any

from newsdelta.extract.declarative import DeclarativeParser, PageFormat, element_text, select

_CONTENT = "div.article__content"


class Cnn(DeclarativeParser):
    name = "cnn"
    version = 1
    hosts = ("cnn.com",)
    article_path = re.compile(r"^/\d{4}/\d{2}/\d{2}/[a-z0-9-]+/[a-z0-9-]+/index\.html$")
    reject_path = re.compile(r"^/(?:videos|gallery|interactive)/|/live-news/")
    formats = (
        PageFormat(
            name="2022-vossi",
            detect=_CONTENT + " [data-component-name=paragraph]",
            paragraphs=f"{_CONTENT} p.paragraph, {_CONTENT} h2.subheader, {_CONTENT} li",
            title=("h1.headline__text", "h1"),
            drop=(
                f"{_CONTENT} [data-component-name=image]",
                f"{_CONTENT} [data-component-name=related-content]",
            ),
            byline=("div.byline__names",),
            published=("meta[property='article:published_time']@content",),
        ),
    )

    def paragraph_texts(self, element: Any) -> list[str]:
        """The dateline is two spans ("London", "CNN") that the site's CSS shows as "London (CNN)"."""
        for source in select(element, "cite.source__cite span.source__text"):
            source.text = f" ({source.text or ''})"
        return [element_text(element)]


CNN = Cnn()

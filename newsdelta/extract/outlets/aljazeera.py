"""Al Jazeera: the 2020+ site; the body is a "wysiwyg" block and the standfirst sits under the headline.

Built from a hand-made page of that structure (tests/fixtures/outlets/aljazeera.html), not yet a real capture.
"""

from __future__ import annotations

import re

from newsdelta.extract.declarative import DeclarativeParser, PageFormat, children

_BODY = "main div.wysiwyg"


class AlJazeera(DeclarativeParser):
    name = "aljazeera"
    version = 1
    hosts = ("aljazeera.com",)
    article_path = re.compile(
        r"^/(?:news|features|opinions|economy|sports)/\d{4}/\d{1,2}/\d{1,2}/[a-z0-9-]+/?$"
    )
    reject_path = re.compile(r"^/(?:video|gallery|program|podcasts|tag|where)/|/liveblog/")
    formats = (
        PageFormat(
            name="2020-wysiwyg",
            detect=_BODY,
            paragraphs="header.article-header p.article__subhead, "
            + children(_BODY, "p", "h2", "h3", "ul > li"),
            title=("header.article-header h1", "h1"),
            byline=("div.article-author-name a.author-link",),
        ),
    )


AL_JAZEERA = AlJazeera()

"""RT: one "article__" template since 2016; the summary under the headline is the first paragraph."""

from __future__ import annotations

import re

from newsdelta.extract.declarative import DeclarativeParser, PageFormat

_TEXT = "div.article__text"


class RT(DeclarativeParser):
    name = "rt"
    version = 1
    hosts = ("rt.com",)
    article_path = re.compile(r"^/[a-z-]+/\d+-[a-z0-9-]+/?$")
    reject_path = re.compile(r"^/(?:in-vision|in-motion|shows|on-air|podcast)/")
    formats = (
        PageFormat(
            name="2016-article",
            detect=_TEXT,
            paragraphs=f"div.article__summary, {_TEXT} > p, {_TEXT} > h2, {_TEXT} > h3, {_TEXT} > blockquote",
            title=("h1.article__heading",),
            drop=(f"{_TEXT} div.read-more", f"{_TEXT} div.rtcode"),
            published=("div.article__date time.date", "span.date_article-header", "time.date"),
        ),
    )


RT_NEWS = RT()

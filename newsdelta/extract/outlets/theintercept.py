"""The Intercept: the 2014 firstlook.org WordPress site and the 2015 React site on theintercept.com."""

from __future__ import annotations

import re

from newsdelta.extract.declarative import DeclarativeParser, PageFormat


class TheIntercept(DeclarativeParser):
    name = "theintercept"
    version = 1
    hosts = ("theintercept.com", "firstlook.org")
    article_path = re.compile(r"^(?:/theintercept)?/\d{4}/\d{2}/\d{2}/[a-z0-9-]+/?$")
    reject_path = re.compile(r"/document/|/staff/")
    formats = (
        PageFormat(
            name="2015-react",
            detect="div.PostContent",
            paragraphs="div.PostContent p, div.PostContent h2, div.PostContent blockquote",
            # Feature pages show a display headline ("The Pentagon's Missionary Spies") above the real one.
            title=("meta[property='og:title']@content", "h1.Post-title", "h1"),
            byline=("div.PostByline-names a", "span.PostByline-name"),
            published=("span.PostByline-date",),
        ),
        PageFormat(
            name="2014-wordpress",
            detect="article.ti-article div.ti-body",
            paragraphs="div.ti-body > p, div.ti-body > h2, div.ti-body > blockquote > p",
            title=("title",),
            title_strip=r"\s+-\s+The Intercept$",
            byline=("div.ti-byline a", "span.author"),
            published=("meta[property='article:published_time']@content", "span.fltimestamp@data-timestamp"),
        ),
    )


THE_INTERCEPT = TheIntercept()

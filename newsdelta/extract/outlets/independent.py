"""The Independent: the 2014 widget ("storyContent") site and the 2015 schema.org ("articleBody") site."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from newsdelta.extract.declarative import DeclarativeParser, PageFormat


class Independent(DeclarativeParser):
    name = "independent"
    version = 1
    hosts = ("independent.co.uk",)
    timezone = ZoneInfo("Europe/London")
    article_path = re.compile(r"-(?:a)?\d{6,}\.html")
    reject_path = re.compile(
        r"^/(?:sport|news/pictures|arts-entertainment/tv/galleries)/|/(?:gallery|video)s?/"
    )
    formats = (
        PageFormat(
            name="2015-article-body",
            detect="div[itemprop=articleBody]",
            paragraphs="div[itemprop=articleBody] > p, div[itemprop=articleBody] > h2",
            title=("h1[itemprop=headline]", "h1"),
            byline=("[itemprop=author] [itemprop=name]", "a[rel=author]"),
        ),
        PageFormat(
            name="2014-story-content",
            detect="div.articleContent",
            paragraphs="div.articleContent p, div.articleContent h2",
            title=("div#main h1.title", "h1.title", "h1"),
            byline=("div.byline a", "span.authorName"),
        ),
    )


INDEPENDENT = Independent()

"""The New York Times: the React site (2018+) serves every article, old ones included, in companion columns."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from newsdelta.extract.declarative import DeclarativeParser, PageFormat

_COLUMN = "div.StoryBodyCompanionColumn"
# Storyline boxes ("Schools Reopening › Updated Sept. 2") sit inside the columns but are site navigation.
_PROMOS = ("[role=complementary]",)
_PUBLISHED = ("meta[itemprop=datePublished]@content", "time[datetime]@datetime")


class NewYorkTimes(DeclarativeParser):
    name = "new_york_times"
    version = 1
    hosts = ("nytimes.com",)
    timezone = ZoneInfo("America/New_York")
    article_path = re.compile(r"^/\d{4}/\d{2}/\d{2}/[a-z0-9/-]+\.html")
    reject_path = re.compile(r"^/(?:video|slideshow|interactive|live)/")
    formats = (
        PageFormat(
            name="2020-article-body",
            detect="section[name=articleBody] " + _COLUMN,
            paragraphs=f"section[name=articleBody] {_COLUMN} p, section[name=articleBody] {_COLUMN} h2",
            title=("h1[data-test-id=headline]", "h1[itemprop=headline]", "h1"),
            byline=("p[itemprop=author]", "span[itemprop=name]"),
            drop=_PROMOS,
            published=_PUBLISHED,
        ),
        PageFormat(
            name="2018-companion-column",
            detect=_COLUMN,
            paragraphs=f"{_COLUMN} p, {_COLUMN} h2",
            title=("h1[itemprop=headline]", "h1"),
            byline=("p[itemprop=author]", "span[itemprop=name]"),
            drop=_PROMOS,
            published=_PUBLISHED,
        ),
    )


NEW_YORK_TIMES = NewYorkTimes()

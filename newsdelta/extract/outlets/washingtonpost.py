"""The Washington Post: the 2014 "wp-column" site, the 2015-2018 PageBuilder site, the 2019 Fusion site and the
2023+ WPDS site; all four still serve articles from 2014."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from newsdelta.extract.declarative import DeclarativeParser, PageFormat, children

_PUBLISHED = (
    "meta[property='article:published_time']@content",
    "span[itemprop=datePublished]@content",
    "meta[itemprop=datePublished]@content",
)


class WashingtonPost(DeclarativeParser):
    name = "washingtonpost"
    version = 1
    hosts = ("washingtonpost.com",)
    timezone = ZoneInfo("America/New_York")
    article_path = re.compile(r"/\d{4}/\d{2}/\d{2}/[0-9a-f-]+_story\.html|/\d{4}/\d{2}/\d{2}/[a-z0-9-]+/?$")
    reject_path = re.compile(r"^/(?:video|photography|graphics)/|/wp/tag/")
    formats = (
        PageFormat(
            name="2023-wpds",
            detect="div.article-body[data-qa=article-body]",
            paragraphs="div.article-body[data-qa=article-body] p, div.article-body[data-qa=article-body] h2",
            title=("h1[data-qa=headline]", "h1"),
            byline=("[data-qa=author-name]",),
            published=_PUBLISHED,
        ),
        PageFormat(
            name="2019-fusion",
            detect="div#fusion-app div.article-body",
            paragraphs="div.article-body p.font--body, div.article-body h2, div.article-body li.font--body",
            title=("h1[data-qa=headline]", "h1"),
            byline=("[data-qa=author-name]", "a.author-name"),
            published=_PUBLISHED,
        ),
        PageFormat(
            name="2015-pagebuilder",
            detect="div#article-body article",
            paragraphs=children("div#article-body article", "p", "h3", "div.subhead", "blockquote"),
            title=("div#article-topper h1", "h1"),
            byline=("span.pb-byline", "span[itemprop=author] span[itemprop=name]"),
            published=("span.pb-timestamp@content", *_PUBLISHED),
        ),
        PageFormat(
            name="2014-wp-column",
            detect="div#article_body article",
            paragraphs=children("div#article_body article", "p:not(.pin-and-stack)", "blockquote"),
            title=("div#article-leaf-page h1", "h1"),
            byline=("p.authors a", "span[itemprop=author] span[itemprop=name]"),
            published=("span.timestamp[datetitle=published]@epochtime", *_PUBLISHED),
        ),
    )


WASHINGTON_POST = WashingtonPost()

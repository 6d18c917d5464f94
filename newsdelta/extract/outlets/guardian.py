"""The Guardian: the 2011 "article-body-blocks" site, the 2014-2019 "content__article-body" site and the
2020+ rendering (DCR), including the guardian.co.uk host it left in 2013."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from newsdelta.extract.declarative import DeclarativeParser, PageFormat, children

_CONTENT_BODY = "div.content__article-body"
_TIMES = ("time[itemprop=datePublished]@datetime", "time[itemprop=datePublished]@data-timestamp")


class Guardian(DeclarativeParser):
    name = "guardian"
    version = 1
    hosts = ("theguardian.com", "guardian.co.uk")
    timezone = ZoneInfo("Europe/London")
    article_path = re.compile(r"^/[a-z0-9-]+/(?:[a-z0-9-]+/)?\d{4}/[a-z]{3}/\d{2}/[a-z0-9-]+/?(?:\?.*)?$")
    reject_path = re.compile(r"/(?:video|gallery|poll|cartoon|audio|picture|ng-interactive)/\d{4}/")
    formats = (
        PageFormat(
            name="2020-dcr",
            detect="main article div#maincontent",
            paragraphs=(
                "div[data-gu-name=standfirst] p,"
                " div#maincontent div.article-body-commercial-selector > p,"
                " div#maincontent div.article-body-commercial-selector > h2,"
                " div#maincontent div.article-body-commercial-selector > ul > li"
            ),
            title=("main article h1", "h1"),
            byline=("a[rel=author]", "address[aria-label]"),
            published=("meta[property='article:published_time']@content",),
        ),
        PageFormat(
            name="2019-headline-standfirst",
            detect="div.content__headline-standfirst-wrapper",
            paragraphs="div.content__standfirst p, " + children(_CONTENT_BODY, "p", "h2", "ul > li"),
            title=("h1.content__headline",),
            byline=("p.byline a[rel=author]", "p.byline"),
            published=_TIMES,
        ),
        PageFormat(
            name="2014-content-api",
            detect=_CONTENT_BODY,
            paragraphs=children(_CONTENT_BODY, "p", "h2", "ul > li"),
            title=("h1.content__headline",),
            byline=("p.byline a[rel=author]", "p.byline"),
            published=_TIMES,
        ),
        PageFormat(
            name="2011-article-body-blocks",
            detect="div#article-body-blocks",
            paragraphs=children("div#article-body-blocks", "p", "h2", "blockquote > p"),
            title=("div#main-article-info h1",),
            byline=("div#article-header a.contributor", "li.byline a.contributor"),
            published=("meta[property='article:published_time']@content", "li.publication time@datetime"),
        ),
    )


GUARDIAN = Guardian()

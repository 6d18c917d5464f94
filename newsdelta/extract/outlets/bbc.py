"""BBC News: six page templates from 2006 to today, all still served for old article URLs."""

from __future__ import annotations

import re

from newsdelta.extract.declarative import DeclarativeParser, PageFormat

_HIDDEN = ("[class*=VisuallyHidden]", ".visually-hidden")
# Embedded promos ("Policy guide: ..."), not article text.
_INCLUDES = ("[data-component=include-block]",)
# 2020+ pages are a list of typed blocks; captions are kept as paragraphs (a changed caption is an edit).
_BLOCKS = "article [data-component={}] {}"
_BLOCK_PARAGRAPHS = ", ".join(
    _BLOCKS.format(component, element)
    for component, element in (
        ("text-block", "p"),
        ("text-block", "li"),
        ("crosshead-block", "h2"),
        ("subheadline-block", "h2"),
        ("unordered-list-block", "li"),
        ("ordered-list-block", "li"),
        ("media-block", "figcaption"),
        ("image-block", "figcaption"),
        ("video-block", "figcaption"),
    )
)
_OPD = "meta[name=OriginalPublicationDate]@content"


class BbcNews(DeclarativeParser):
    name = "bbc_news"
    version = 1
    hosts = ("bbc.co.uk", "bbc.com")
    article_path = re.compile(r"^/(news/(articles/[a-z0-9]+$|.*[0-9]+$)|\d/(hi|low)/.*\d+\.stm$)")
    reject_path = re.compile(r"in_pictures|pop_ups|sport1|/default\.stm$|/blogs/|have_your_say")
    formats = (
        PageFormat(
            name="2020-blocks",
            detect="article [data-component=text-block]",
            paragraphs=_BLOCK_PARAGRAPHS,
            title=("article h1#main-heading", "h1"),
            drop=_HIDDEN + _INCLUDES,
            byline=("article [class*=Contributor] strong", "article [class*=TextContributorName]"),
            published=("article time[datetime]@datetime",),
        ),
        PageFormat(
            name="2022-video",
            detect="div[class*=StyledSummary] div[class*=RichTextContainer]",
            paragraphs="div[class*=StyledSummary] div[class*=RichTextContainer] p",
            title=("h1#main-heading", "h1"),
            published=("time[datetime]@datetime",),
        ),
        PageFormat(
            name="2015-story-body-inner",
            detect="div.story-body__inner",
            paragraphs="div.story-body__inner > p, div.story-body__inner > h2, div.story-body__inner > h3",
            title=("h1.story-body__h1",),
            byline=("span.byline__name",),
            published=(_OPD, "div.story-body div.date[data-seconds]@data-seconds"),
        ),
        PageFormat(
            name="2011-story-body",
            detect="div.story-body, div#story-body",
            paragraphs=(
                "div.story-body > p, div.story-body > span.cross-head,"
                " div#story-body > p, div#story-body > span.cross-head"
            ),
            title=("h1.story-header", "div#meta-information h1", "meta[name=Headline]@content"),
            skip=r"^Read your comments$",
            byline=("span.byline-name",),
            published=(_OPD,),
        ),
        PageFormat(
            name="2008-storybody",
            detect="td.storybody",
            paragraphs="td.storybody > p",
            # Magazine pages end with a reader-comment form: its prompt and small print are not the story.
            drop=("td.storybody > hr ~ p",),
            skip=r"^Add your comments on this story",
            title=("div.mxb h1", "meta[name=Headline]@content"),
            byline=("td.storybody > div.mvb",),
            published=(_OPD,),
        ),
        PageFormat(
            name="2006-comment-markers",
            detect="meta[name=Headline]",
            markers=("S BO", "E BO"),
            title=("div.mxb div.sh", "meta[name=Headline]@content"),
            published=(_OPD,),
        ),
    )


BBC_NEWS = BbcNews()

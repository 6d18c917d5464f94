"""HTML pages and feeds of the simulated newsroom, written by hand for speed and full control of the markup.

Article pages look like a real outlet's: the story inside <article>, chrome (nav, ads, related links, comment
counts, footer) around it, OpenGraph and JSON-LD metadata (without articleBody, so extractors must read the
HTML). Feeds are RSS 2.0, Atom 1.0, JSON Feed 1.1 and a Google News sitemap.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from html import escape
from xml.sax.saxutils import escape as xml_escape

from newsdelta.testing.script import FeedItem, Revision, ScriptedArticle

SITE_NAME = "The Newsroom"
SECTIONS = ("local", "politics", "business", "health", "education", "environment", "culture", "sport")
RSS_TRACKING = "?utm_source=rss&utm_medium=feed"


@dataclass(frozen=True)
class Chrome:
    """Everything on an article page that is not the article: it must never create a version. `pointer`
    is a "read also" line (text, href) set between the story's first two paragraphs."""

    related: tuple[tuple[str, str], ...]
    comments: int
    ad: str
    updated_minutes: int | None = None
    request_id: str | None = None
    pointer: tuple[str, str] | None = None


@dataclass(frozen=True)
class Locale:
    """How a page in one language words its chrome: byline lead-in, dates, labels."""

    lead_in: str
    published: Callable[[datetime], str]
    updated: Callable[[datetime], str]
    updated_ago: Callable[[int], str]
    related: str
    comments: str
    read_also: str


LOCALES = {
    "en": Locale(
        "By ",
        lambda d: f"Published {d:%-d %B %Y, %H:%M} GMT",
        lambda d: f"Updated {d:%H:%M} GMT",
        lambda n: f"Updated {n} minutes ago",
        "Related stories",
        "comments",
        "Read more",
    ),
    "de": Locale(
        "Von ",
        lambda d: f"Veröffentlicht am {d:%d.%m.%Y}, {d:%H:%M} Uhr",
        lambda d: f"Aktualisiert {d:%H:%M} Uhr",
        lambda n: f"Aktualisiert vor {n} Minuten",
        "Mehr zum Thema",
        "Kommentare",
        "Lesen Sie auch",
    ),
    "fr": Locale(
        "Par ",
        lambda d: f"Publié le {d:%d/%m/%Y} à {d:%H}h{d:%M}",
        lambda d: f"Mis à jour à {d:%H}h{d:%M}",
        lambda n: f"Mis à jour il y a {n} minutes",
        "Sur le même sujet",
        "commentaires",
        "À lire aussi",
    ),
    "es": Locale(
        "Por ",
        lambda d: f"Publicado el {d:%d/%m/%Y} a las {d:%H:%M}",
        lambda d: f"Actualizado a las {d:%H:%M}",
        lambda n: f"Actualizado hace {n} minutos",
        "Noticias relacionadas",
        "comentarios",
        "Te puede interesar",
    ),
}


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


def _nav(malformed: bool) -> str:
    links = "".join(
        f"<li><a href=/section/{s}>{s.title()}</a>"
        if malformed
        else f'<li><a href="/section/{s}">{s.title()}</a></li>'
        for s in SECTIONS
    )
    if malformed:
        return f"<header class=site-header><span class=logo><a href=/>{SITE_NAME}</a><nav><ul>{links}</nav></span></header>"
    return f'<header class="site-header"><a href="/">{SITE_NAME}</a><nav><ul>{links}</ul></nav></header>'


def _story_body(paragraphs: Sequence[str], malformed: bool, pointer: str = "") -> str:
    if malformed:
        # Unclosed <p>, raw ampersands, a stray end tag: lenient parsers still recover every paragraph.
        return "<div class=story-body>\n" + "\n".join(f"<p>{p}" for p in paragraphs) + "\n</span></div>"
    lines = [f"<p>{escape(p, quote=False)}</p>" for p in paragraphs]
    if pointer:
        lines.insert(1, pointer)
    return '<div class="story-body">\n' + "\n".join(lines) + "\n</div>"


def _pointer(locale: Locale, chrome: Chrome) -> str:
    if chrome.pointer is None:
        return ""
    text, href = chrome.pointer
    return f'<p>{escape(locale.read_also)}: <a href="{escape(href)}">{escape(text)}</a></p>'


def _json_ld(
    base_url: str, article: ScriptedArticle, revision: Revision, published: datetime, updated: datetime
) -> str:
    lead_in = LOCALES[article.language].lead_in
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": revision.title,
        "author": {"@type": "Person", "name": revision.byline.removeprefix(lead_in)},
        "datePublished": iso(published),
        "dateModified": iso(updated),
        "articleSection": article.section,
        "mainEntityOfPage": base_url + article.path,
        "publisher": {"@type": "Organization", "name": SITE_NAME},
    }
    text = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    return f'<script type="application/ld+json">{text}</script>'


def render_article(
    base_url: str,
    article: ScriptedArticle,
    revision: Revision,
    published: datetime,
    updated: datetime,
    chrome: Chrome,
) -> str:
    malformed = article.malformed
    locale = LOCALES[article.language]
    title = escape(revision.title)
    canonical = escape(base_url + article.path)
    request_meta = f'<meta name="request-id" content="{chrome.request_id}">' if chrome.request_id else ""
    minutes = chrome.updated_minutes
    ago = f' <span class="ago">{escape(locale.updated_ago(minutes))}</span>' if minutes is not None else ""
    related = "".join(
        f'<li><a href="{escape(href)}">{escape(text)}</a></li>' for text, href in chrome.related
    )
    json_ld = "" if malformed else _json_ld(base_url, article, revision, published, updated)
    body = _story_body(revision.paragraphs, malformed, _pointer(locale, chrome))
    tail = "" if malformed else "\n</body>\n</html>\n"
    page = f"""<!DOCTYPE html>
<html lang="{article.language}">
<head>
<meta charset="{article.encoding}">
<title>{title} | {SITE_NAME}</title>
<link rel="canonical" href="{canonical}">
<meta property="og:type" content="article">
<meta property="og:title" content="{title}">
<meta property="og:url" content="{canonical}">
<meta name="author" content="{escape(revision.byline)}">
<meta property="article:published_time" content="{iso(published)}">
<meta property="article:modified_time" content="{iso(updated)}">
{request_meta}{json_ld}
</head>
<body class="section-{article.section}">
{_nav(malformed)}
<div class="ad ad-leaderboard" data-slot="top">{escape(chrome.ad)}</div>
<main>
<article class="story">
<header class="story-header">
<h1>{title}</h1>
<p class="byline">{escape(revision.byline)}</p>
<p class="dateline"><time class="published" datetime="{iso(published)}">{escape(locale.published(published))}</time>
<time class="updated" datetime="{iso(updated)}">{escape(locale.updated(updated))}</time>{ago}</p>
</header>
{body}
</article>
<aside class="related"><h2>{escape(locale.related)}</h2><ul>{related}</ul></aside>
<div class="comments"><a href="#comments">{chrome.comments} {escape(locale.comments)}</a></div>
<div class="ad ad-mpu" data-slot="side">{escape(chrome.ad)}</div>
</main>
<footer class="site-footer"><p>&copy; 2026 {SITE_NAME}. <a href="/about">About us</a> · <a href="/privacy">Privacy</a></p></footer>{tail}"""
    return _CLASS_ATTRIBUTE.sub("", page) if article.plain_markup else page


# Stripped from `plain_markup` pages: then no class name tells the story from its chrome.
_CLASS_ATTRIBUTE = re.compile(r' class="[^"]*"')


def render_gone(article: ScriptedArticle) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Gone | {SITE_NAME}</title></head>'
        f"<body><h1>This article has been removed</h1><p>{escape(article.path)} is no longer available.</p></body></html>\n"
    )


def render_not_found(path: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Not found | {SITE_NAME}</title></head>'
        f"<body><h1>Page not found</h1><p>{escape(path)}</p></body></html>\n"
    )


def render_listing(base_url: str, heading: str, items: Sequence[FeedItem]) -> str:
    """The front page and section fronts: links to articles among navigation (not articles themselves)."""
    entries = "\n".join(
        f'<li class="teaser"><a href="{escape(item.path)}">{escape(item.title)}</a>'
        f' <time datetime="{iso(item.published)}">{item.published:%H:%M}</time></li>'
        for item in items
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{escape(heading)} | {SITE_NAME}</title>
<link rel="alternate" type="application/rss+xml" href="{base_url}/rss.xml">
<link rel="alternate" type="application/atom+xml" href="{base_url}/atom.xml"></head>
<body>
{_nav(False)}
<main><h1>{escape(heading)}</h1>
<ul class="teasers">
{entries}
</ul>
<p><a href="/video/highlights">Video highlights</a> · <a href="/live/today">Live: today's news</a></p>
</main>
<footer class="site-footer"><p>&copy; 2026 {SITE_NAME}.</p></footer>
</body>
</html>
"""


def render_robots(base_url: str) -> str:
    return f"User-agent: *\nDisallow: /private/\nDisallow: /_control/\n\nSitemap: {base_url}/sitemap.xml\n"


def render_rss(base_url: str, items: Sequence[FeedItem], built: datetime, hub: str | None = None) -> str:
    entries = "".join(
        f"""
<item>
<title>{xml_escape(item.title)}</title>
<link>{xml_escape(base_url + item.path + RSS_TRACKING)}</link>
<guid isPermaLink="false">newsroom-{item.slug}</guid>
<description>{xml_escape(item.summary)}</description>
<category>{item.section}</category>
<pubDate>{http_date(item.published)}</pubDate>
</item>"""
        for item in items
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
<title>{SITE_NAME}</title>
<link>{base_url}/</link>
<description>Latest stories from {SITE_NAME}</description>
<language>en-gb</language>
<lastBuildDate>{http_date(built)}</lastBuildDate>
<atom:link href="{base_url}/rss.xml" rel="self" type="application/rss+xml"/>{_hub_link(hub, "atom:link")}{entries}
</channel>
</rss>
"""


def render_atom(base_url: str, items: Sequence[FeedItem], updated: datetime, hub: str | None = None) -> str:
    entries = "".join(
        f"""
<entry>
<title>{xml_escape(item.title)}</title>
<link rel="alternate" href="{xml_escape(base_url + item.path)}"/>
<id>tag:newsroom.test,2026:{item.slug}</id>
<published>{iso(item.published)}</published>
<updated>{iso(item.updated)}</updated>
<summary>{xml_escape(item.summary)}</summary>
<category term="{item.section}"/>
</entry>"""
        for item in items
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<title>{SITE_NAME}</title>
<id>{base_url}/</id>
<link rel="alternate" href="{base_url}/"/>
<link rel="self" href="{base_url}/atom.xml"/>{_hub_link(hub, "link")}
<updated>{iso(updated)}</updated>
<author><name>{SITE_NAME}</name></author>{entries}
</feed>
"""


def _hub_link(hub: str | None, element: str) -> str:
    """A feed's WebSub hub declaration (W3C WebSub §4: a link element with rel="hub")."""
    return "" if hub is None else f'\n<{element} rel="hub" href="{xml_escape(hub)}"/>'


def render_json_feed(base_url: str, items: Sequence[FeedItem], hub: str | None = None) -> str:
    feed: dict[str, object] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": SITE_NAME,
        "home_page_url": base_url + "/",
        "feed_url": base_url + "/feed.json",
        "language": "en-GB",
        "items": [
            {
                "id": f"newsroom-{item.slug}",
                "url": base_url + item.path,
                "title": item.title,
                "summary": item.summary,
                "content_text": item.summary,
                "date_published": iso(item.published),
                "date_modified": iso(item.updated),
                "tags": [item.section],
            }
            for item in items
        ],
    }
    if hub is not None:
        feed["hubs"] = [{"type": "WebSub", "url": hub}]
    return json.dumps(feed, ensure_ascii=False, indent=1)


def render_sitemap(base_url: str, items: Sequence[FeedItem]) -> str:
    urls = "".join(
        f"""
<url>
<loc>{xml_escape(base_url + item.sitemap_path)}</loc>
<lastmod>{iso(item.updated)}</lastmod>
<news:news>
<news:publication><news:name>{SITE_NAME}</news:name><news:language>en</news:language></news:publication>
<news:publication_date>{iso(item.published)}</news:publication_date>
<news:title>{xml_escape(item.title)}</news:title>
</news:news>
</url>"""
        for item in items
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}
</urlset>
"""


def render_sitemap_index(base_url: str, pages: int, updated: datetime) -> str:
    entries = "".join(
        f"\n<sitemap><loc>{base_url}/sitemaps/{page}.xml</loc><lastmod>{iso(updated)}</lastmod></sitemap>"
        for page in range(1, pages + 1)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}
</sitemapindex>
"""

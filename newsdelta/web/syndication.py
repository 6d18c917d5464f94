"""RSS 2.0 and Atom feeds of new versions: everything, one source, one article, one search.

Each item points at the diff of that version with its predecessor and says in one line what changed, so a
reader of the feed knows whether to click.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from feedgen.feed import FeedGenerator
from markupsafe import Markup
from sqlalchemy.orm import Session

from newsdelta.diff import render_spans_html
from newsdelta.store import checklog, queries
from newsdelta.store import search as fulltext
from newsdelta.store.queries import Change
from newsdelta.vocabulary import Origin
from newsdelta.web.deps import DiffsDep, SessionDep, page_url, site_url
from newsdelta.web.diffing import ChangeNote, DiffCache, describe
from newsdelta.web.kinds import KindQuery
from newsdelta.web.params import ArticleId, SearchText, SourcePath

router = APIRouter(include_in_schema=False)

Format = Literal["rss", "atom"]
ITEMS = 30
MEDIA_TYPES = {"rss": "application/rss+xml; charset=utf-8", "atom": "application/atom+xml; charset=utf-8"}


@dataclass(frozen=True, slots=True)
class Item:
    title: str
    link: str
    summary: str
    at: datetime
    categories: tuple[str, ...] = ()  # the version's kinds of change
    content: str = ""  # HTML: the changed words themselves


# Characters XML 1.0 cannot carry at all, not even escaped: stored titles are whatever outlets wrote.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """`text` without the characters XML forbids (lxml refuses them outright, which would fail the whole feed)."""
    return _NOT_XML.sub("", text)


def render_feed(fmt: Format, *, title: str, page_url: str, self_url: str, items: Iterable[Item]) -> Response:
    feed = FeedGenerator()
    feed.id(self_url)
    feed.title(xml_text(title))
    feed.author({"name": "newsdelta"})
    # Self first: feedgen's RSS <link> is the last link given, and it must be the page, not the feed.
    feed.link(href=self_url, rel="self")
    feed.link(href=page_url, rel="alternate")
    feed.description(f"{xml_text(title)}: new versions of news articles and what changed in each.")
    feed.language("en")
    feed.generator("newsdelta")
    newest: datetime | None = None
    for item in items:
        entry = feed.add_entry(order="append")
        entry.id(item.link)
        entry.guid(item.link, permalink=True)
        entry.title(xml_text(item.title))
        entry.link(href=item.link)
        entry.summary(xml_text(item.summary))  # Atom <summary>, RSS <description>
        if item.content:
            entry.content(xml_text(item.content), type="html")  # Atom <content>, RSS <content:encoded>
        entry.published(item.at)
        entry.updated(item.at)
        for term in item.categories:
            entry.category(term=term)
        newest = max(newest or item.at, item.at)
    feed.updated(newest or datetime(2000, 1, 1, tzinfo=UTC))
    body = feed.rss_str(pretty=True) if fmt == "rss" else feed.atom_str(pretty=True)
    return Response(body, media_type=MEDIA_TYPES[fmt])


def change_items(db: Session, diffs: DiffCache, base: str, changes: list[Change]) -> list[Item]:
    notes = describe(db, diffs, [c.key for c in changes], with_keys=True)
    items = []
    for change in changes:
        note = notes[(change.article_id, change.number)]
        if change.number == 0:
            link = f"{base}/articles/{change.article_id}/versions/0"
        else:
            link = f"{base}/articles/{change.article_id}/diff/{change.number - 1}/{change.number}"
        summary = note.summary
        if change.origin != Origin.FETCH:
            summary = f"{summary} (version {change.number}: {Origin(change.origin).label})"
        title = f"{change.title} [{change.source}, version {change.number}]"
        if note.title_changed:
            title = f"Headline changed: {note.old_title} → {note.new_title} [{change.source}, version {change.number}]"
        items.append(
            Item(title, link, summary, change.fetched_at, tuple(change.kinds or ()), key_changes_html(note))
        )
    return items


def key_changes_html(note: ChangeNote) -> str:
    """The item's content: each key change's deleted and inserted words, escaped, in <del>/<ins>."""
    lines = [
        Markup("<li>%s paragraph %s: %s</li>") % (key.label, key.anchor[1:], render_spans_html(key.spans))
        for key in note.keys
    ]
    if note.title_changed:
        lines.insert(
            0, Markup("<li>Headline: <del>%s</del> → <ins>%s</ins></li>") % (note.old_title, note.new_title)
        )
    if not lines:
        return ""
    return str(Markup("<p>%s</p><ul>%s</ul>") % (note.summary, Markup("").join(lines)))


def changes_feed(
    request: Request,
    fmt: Format,
    db: Session,
    diffs: DiffCache,
    title: str,
    page_path: str,
    changes: list[Change],
    extra: Iterable[Item] = (),
) -> Response:
    """The feed, or 304 when the reader already has these exact bytes (readers poll feeds often).

    `extra` items (an article's flip-flops) join the changes newest first, ITEMS in all."""
    items = sorted(
        [*change_items(db, diffs, site_url(request), changes), *extra], key=lambda item: item.at, reverse=True
    )
    response = render_feed(
        fmt,
        title=title,
        page_url=site_url(request, page_path),
        self_url=page_url(request),
        items=items[:ITEMS],
    )
    etag = '"' + hashlib.sha256(response.body).hexdigest()[:32] + '"'
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers={"etag": etag})
    response.headers["etag"] = etag
    return response


@router.get("/feed.{fmt}")
def all_changes(
    request: Request, fmt: Format, db: SessionDep, diffs: DiffsDep, kind: KindQuery = None
) -> Response:
    changes = queries.recent_changes(db, per_page=ITEMS, kind=kind or None).items
    return changes_feed(request, fmt, db, diffs, "newsdelta: all changes", "/", changes)


@router.get("/sources/{name}/feed.{fmt}")
def source_changes(
    request: Request, name: SourcePath, fmt: Format, db: SessionDep, diffs: DiffsDep, kind: KindQuery = None
) -> Response:
    queries.source_by_name(db, name)
    changes = queries.recent_changes(db, per_page=ITEMS, source=name, kind=kind or None).items
    return changes_feed(request, fmt, db, diffs, f"newsdelta: changes at {name}", f"/sources/{name}", changes)


@router.get("/articles/{article_id}/feed.{fmt}")
def article_changes(
    request: Request,
    article_id: ArticleId,
    fmt: Format,
    db: SessionDep,
    diffs: DiffsDep,
    kind: KindQuery = None,
) -> Response:
    queries.visible_article(db, article_id)
    changes = queries.recent_changes(db, per_page=ITEMS, article_id=article_id, kind=kind or None).items
    title = f"newsdelta: changes to “{changes[0].title if changes else f'article {article_id}'}”"
    flips = flipflop_items(db, site_url(request), article_id)
    return changes_feed(request, fmt, db, diffs, title, f"/articles/{article_id}", changes, flips)


def flipflop_items(db: Session, base: str, article_id: int) -> list[Item]:
    """An item per check that found an older version's text again: an A/B headline test shows as its switches."""
    flips = checklog.flipflops(db, article_id)[-ITEMS:]
    titles = {row.number: row.title for row in queries.version_rows(db, article_id)} if flips else {}
    items = []
    for flip in flips:
        title = titles.get(flip.back_to, "")
        link = f"{base}/articles/{article_id}/versions/{flip.back_to}"
        summary = f"The article switched back to version {flip.back_to}'s text; no new version was stored."
        # The link is the version's page, shared by every switch back to it: the time keeps the ids apart.
        items.append(
            Item(
                f"Switched back to version {flip.back_to}: {title}",
                f"{link}#{flip.at:%Y%m%dT%H%M%SZ}",
                summary,
                flip.at,
            )
        )
    return items


@router.get("/search/feed.{fmt}")
def search_changes(
    request: Request,
    fmt: Format,
    db: SessionDep,
    diffs: DiffsDep,
    q: SearchText = "",
    kind: KindQuery = None,
) -> Response:
    """Follow a story or a name as it is edited: an item for each version where the search's words appeared in
    a matching article or were taken out of it, linked to that version's diff with its predecessor."""
    hits = fulltext.search(db, q, per_page=ITEMS).items
    turns = fulltext.term_changes(db, q, [hit.article_id for hit in hits])
    turns = [(change, appeared) for change, appeared in turns if not kind or kind in (change.kinds or ())]
    turns.sort(key=lambda turn: (turn[0].fetched_at, turn[0].number), reverse=True)
    turns = turns[:ITEMS]
    items = change_items(db, diffs, site_url(request), [change for change, _ in turns])
    titled = [
        replace(item, title=term_title(q, change, appeared))
        for item, (change, appeared) in zip(items, turns, strict=True)
    ]
    page_path = "/search?" + urlencode({"q": q})
    return changes_feed(request, fmt, db, diffs, f"newsdelta: search for “{q}”", page_path, [], titled)


def term_title(query: str, change: Change, appeared: bool) -> str:
    where = f"“{change.title}” [{change.source}, version {change.number}]"
    return f"“{query}” {'appeared in' if appeared else 'removed from'} {where}"

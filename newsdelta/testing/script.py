"""What the newsroom publishes and when: articles as timed revisions, and the truth a crawler must reach.

An article's state is a pure function of the clock offset (seconds since the script's start), so tests can
jump anywhere in the day and know exactly what every page says.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from newsdelta.text import version_hash

ARTICLE_PREFIX = "/news/"
PRIVATE_PREFIX = "/private/"


@dataclass(frozen=True)
class Revision:
    """One state of an article as a reader sees it."""

    title: str
    paragraphs: tuple[str, ...]
    byline: str = "By Newsroom Staff"

    def __post_init__(self) -> None:
        object.__setattr__(self, "paragraphs", tuple(self.paragraphs))

    @property
    def hash(self) -> str:
        return version_hash(self.title, self.paragraphs)


@dataclass(frozen=True)
class ScriptedArticle:
    """An article's timed revisions plus the misbehaviours its page shows.

    `events` are (offset_seconds, Revision), the first one being publication; offsets may be negative
    (published before the day starts). `redirect_from` paths answer 301 to the article; feeds link the first
    of them and the sitemap the last, so a crawler meets one article under several URLs.
    """

    slug: str
    section: str
    events: Sequence[tuple[float, Revision]]  # stored as a tuple
    gone_at: float | None = None
    private: bool = False
    redirect_from: tuple[str, ...] = ()
    conditional: bool = True
    chrome_churn: bool = False
    slow: bool = False
    fail_first: int = 0
    malformed: bool = False
    encoding: str = "utf-8"
    language: str = "en"  # a key of render.LOCALES: how the page words its chrome
    plain_markup: bool = False  # no class attributes: nothing but structure tells story from chrome
    offsets: tuple[float, ...] = field(init=False, repr=False, compare=False)
    path: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        events = tuple((float(offset), revision) for offset, revision in self.events)
        if not events:
            raise ValueError(f"{self.slug}: an article needs at least one revision")
        offsets = tuple(offset for offset, _ in events)
        if list(offsets) != sorted(offsets):
            raise ValueError(f"{self.slug}: revisions must be in time order")
        if self.gone_at is not None and self.gone_at <= offsets[0]:
            raise ValueError(f"{self.slug}: cannot be deleted before it is published")
        object.__setattr__(self, "events", events)
        object.__setattr__(self, "offsets", offsets)
        object.__setattr__(self, "redirect_from", tuple(self.redirect_from))
        object.__setattr__(self, "path", (PRIVATE_PREFIX if self.private else ARTICLE_PREFIX) + self.slug)

    @property
    def published_at(self) -> float:
        return self.offsets[0]

    @property
    def listed_path(self) -> str:
        """The path the feeds and the front page link to."""
        return self.redirect_from[0] if self.redirect_from else self.path

    @property
    def sitemap_path(self) -> str:
        return self.redirect_from[-1] if self.redirect_from else self.path

    def revision_index(self, offset: float) -> int | None:
        """Index of the revision live at `offset`, None before publication."""
        index = bisect.bisect_right(self.offsets, offset) - 1
        return index if index >= 0 else None

    def is_gone(self, offset: float) -> bool:
        return self.gone_at is not None and offset >= self.gone_at

    def change_offsets(self) -> tuple[float, ...]:
        """Every moment the article's public state changes (revisions and deletion)."""
        return self.offsets if self.gone_at is None else (*self.offsets, self.gone_at)


@dataclass(frozen=True)
class ExpectedVersion:
    """A version a correct crawler stores: the first revision with a hash never seen before."""

    title: str
    byline: str
    paragraphs: tuple[str, ...]
    published: datetime
    updated: datetime
    hash: str

    def as_json(self, *, with_paragraphs: bool = True) -> dict[str, object]:
        data: dict[str, object] = {
            "title": self.title,
            "byline": self.byline,
            "published": self.published.isoformat(),
            "updated": self.updated.isoformat(),
            "hash": self.hash,
        }
        if with_paragraphs:
            data["paragraphs"] = list(self.paragraphs)
        return data


@dataclass(frozen=True)
class Replay:
    """What the script made of one article up to a moment."""

    versions: tuple[ExpectedVersion, ...]
    flip_flops: int
    gone: bool


def replay(article: ScriptedArticle, start: datetime, offset: float) -> Replay:
    """Apply the core's version rule: new hash → version; hash of an OLDER version → flip-flop event.

    A robots-disallowed article yields nothing: a polite crawler never fetches it."""
    if article.private:
        return Replay((), 0, article.is_gone(offset))
    versions: list[ExpectedVersion] = []
    seen: set[str] = set()
    latest = ""
    flip_flops = 0
    published = start + timedelta(seconds=article.published_at)
    for at, revision in article.events:
        if at > offset:
            break
        digest = revision.hash
        if digest == latest:
            continue
        if digest in seen:
            flip_flops += 1
        else:
            seen.add(digest)
            updated = start + timedelta(seconds=at)
            versions.append(
                ExpectedVersion(
                    revision.title, revision.byline, revision.paragraphs, published, updated, digest
                )
            )
        latest = digest
    return Replay(tuple(versions), flip_flops, article.is_gone(offset))


@dataclass(frozen=True)
class FeedItem:
    """One entry of the newsroom's feeds, as of a moment."""

    slug: str
    path: str
    sitemap_path: str
    title: str
    summary: str
    section: str
    published: datetime
    updated: datetime


class Script:
    """A fixed set of scripted articles starting at `start`; subclasses may build articles lazily."""

    def __init__(self, articles: Iterable[ScriptedArticle], start: datetime) -> None:
        self.start = start
        self._articles = {article.slug: article for article in articles}
        self._by_path = {article.path: article for article in self._articles.values()}
        self._redirects = {
            old: article.path for article in self._articles.values() for old in article.redirect_from
        }
        self._changes = sorted(t for a in self._articles.values() for t in a.change_offsets())

    def __len__(self) -> int:
        return len(self._articles)

    def slugs(self) -> Sequence[str]:
        return list(self._articles)

    def article(self, slug: str) -> ScriptedArticle:
        return self._articles[slug]

    def articles(self) -> list[ScriptedArticle]:
        """Every article, in script order (a synthetic script builds them all: seconds for 10,000)."""
        return [self.article(slug) for slug in self.slugs()]

    def article_at(self, path: str) -> ScriptedArticle | None:
        return self._by_path.get(path)

    def gone_slugs(self, offset: float) -> list[str]:
        return [slug for slug, article in self._articles.items() if article.is_gone(offset)]

    def private_paths(self) -> list[str]:
        return [article.path for article in self._articles.values() if article.private]

    def redirect_for(self, path: str) -> str | None:
        return self._redirects.get(path)

    def epoch(self, offset: float) -> int:
        """How many public changes happened by `offset`: feeds are identical within one epoch."""
        return bisect.bisect_right(self._changes, offset)

    def next_change_offset(self, offset: float) -> float | None:
        """When the next public change after `offset` happens; None when the script has no more."""
        epoch = self.epoch(offset)
        return self._changes[epoch] if epoch < len(self._changes) else None

    def change_offset(self, epoch: int) -> float:
        """When `epoch` began (the script's start for epoch 0): the Last-Modified of feeds."""
        return self._changes[epoch - 1] if epoch > 0 else 0.0

    def feed_items(self, offset: float) -> list[FeedItem]:
        """Articles published and not deleted by `offset`, newest first, with their current titles."""
        items = []
        for article in self._articles.values():
            index = article.revision_index(offset)
            if index is None or article.is_gone(offset):
                continue
            at, revision = article.events[index]
            items.append(
                FeedItem(
                    article.slug,
                    article.listed_path,
                    article.sitemap_path,
                    revision.title,
                    revision.paragraphs[0] if revision.paragraphs else "",
                    article.section,
                    self.start + timedelta(seconds=article.published_at),
                    self.start + timedelta(seconds=at),
                )
            )
        items.sort(key=lambda item: (item.published, item.slug), reverse=True)
        return items

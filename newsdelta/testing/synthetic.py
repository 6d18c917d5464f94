"""A big newsroom for benchmarks: thousands of realistic-sized articles generated lazily from a seed.

Nothing is held per article but a few numbers; bodies are regenerated on demand (tens of µs each) and a
small LRU keeps the hot ones, so 10,000 articles cost a few MB rather than a few hundred.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import accumulate, pairwise
from typing import NamedTuple

from newsdelta.testing.script import ARTICLE_PREFIX, FeedItem, Revision, Script, ScriptedArticle

_VOCABULARY = (
    "the council government minister report police city people year week plans said would could "
    "local national new public health school transport budget money workers union talks strike court "
    "judge case evidence witness officials spokesperson statement company shares market prices energy "
    "water housing homes families children residents business jobs economy growth inflation rates bank "
    "election vote party leader campaign policy reform review inquiry investigation safety hospital "
    "patients doctors nurses waiting services funding cuts rise fall increase decrease record figures "
    "data survey study research university students teachers parents community support criticism "
    "concerns warning decision announcement meeting agreement deal proposal scheme project development "
    "road rail bus airport flights passengers delays weather storm flood rain wind snow river coast "
    "centre region county district area town village street building site land park museum library "
    "after before during since while because although however meanwhile later earlier today yesterday "
    "on in at for with about against between under over through across into from by of to and but "
    "more less than most many several some few other further major minor senior former current"
)
_WORDS = tuple(_VOCABULARY.split())
_SECTIONS = ("local", "politics", "business", "health", "education", "transport", "environment", "sport")
_HOUR = 3600.0
_BANK_SIZE = 5000
_SLUG = re.compile(r"story-(\d{5,})$")


def _sentence(rng: random.Random) -> str:
    words = rng.choices(_WORDS, k=rng.randint(14, 26))
    return " ".join(words).capitalize() + "."


@lru_cache(maxsize=8)
def _sentence_bank(seed: int) -> tuple[str, ...]:
    """Bodies are stretches of a bank of random sentences: a few draws per article instead of ~800 word
    draws, so a crawl pass over 10,000 never-cached pages is not limited by the server."""
    rng = random.Random(seed)
    return tuple(_sentence(rng) for _ in range(_BANK_SIZE))


def _paragraphs(rng: random.Random, bank: Sequence[str], count: int) -> tuple[str, ...]:
    """`count` paragraphs of 2-3 sentences from a random stretch of the bank: two draws per article."""
    sizes = rng.choices((2, 3), k=count)
    first = rng.randrange(len(bank) - sum(sizes))
    bounds = accumulate(sizes, initial=first)
    return tuple(" ".join(bank[start:end]) for start, end in pairwise(bounds))


class _Header(NamedTuple):
    rng: random.Random
    conditional: bool  # answers 304 to conditional requests
    edit_at: float | None
    title: str


class SyntheticScript(Script):
    """`n_articles` articles, all published before the day starts; a fraction edited once during the day."""

    def __init__(
        self,
        start: datetime,
        n_articles: int = 10_000,
        *,
        edit_fraction: float = 0.02,
        not_modified_fraction: float = 0.3,
        seed: int = 1,
    ) -> None:
        super().__init__((), start)
        self.n_articles = n_articles
        self.edit_fraction = edit_fraction
        self.not_modified_fraction = not_modified_fraction
        self.seed = seed
        self._changes = sorted(self._published_offset(i) for i in range(n_articles))
        self._cached = lru_cache(maxsize=1024)(self._build)

    def __len__(self) -> int:
        return self.n_articles

    def slugs(self) -> Sequence[str]:
        return [self._slug(i) for i in range(self.n_articles)]

    def article_at(self, path: str) -> ScriptedArticle | None:
        index = self._index(path.removeprefix(ARTICLE_PREFIX)) if path.startswith(ARTICLE_PREFIX) else None
        return None if index is None else self.article(self._slug(index))

    def gone_slugs(self, offset: float) -> list[str]:
        return []  # the benchmark newsroom never deletes

    def private_paths(self) -> list[str]:
        return []

    def edited_slugs(self) -> list[str]:
        return [self._slug(i) for i in range(self.n_articles) if self._header(i).edit_at is not None]

    def feed_items(self, offset: float) -> list[FeedItem]:
        items = []
        for i in range(self.n_articles):
            published_offset = self._published_offset(i)
            if published_offset > offset:
                continue
            title = self._header(i).title
            published = self.start + timedelta(seconds=published_offset)
            path = ARTICLE_PREFIX + self._slug(i)
            section = _SECTIONS[i % len(_SECTIONS)]
            items.append(FeedItem(self._slug(i), path, path, title, title, section, published, published))
        items.sort(key=lambda item: (item.published, item.slug), reverse=True)
        return items

    @staticmethod
    def _slug(index: int) -> str:
        return f"story-{index:05d}"

    def _index(self, slug: str) -> int | None:
        match = _SLUG.fullmatch(slug)
        index = int(match.group(1)) if match else -1
        return index if 0 <= index < self.n_articles else None

    def _published_offset(self, index: int) -> float:
        """Spread over the day before the start, one a minute, so feeds are ordered but all visible."""
        return -60.0 * (1 + index % 1440)

    def _header(self, index: int) -> _Header:
        """One generator per article (seeding is the costly part); the header is drawn first so feeds
        can list titles without generating bodies."""
        rng = random.Random(self.seed * 1_000_003 + index)  # int seeds do not depend on PYTHONHASHSEED
        conditional = rng.random() < self.not_modified_fraction
        edited = rng.random() < self.edit_fraction
        edit_at = rng.uniform(1 * _HOUR, 23 * _HOUR)
        title = " ".join(rng.choices(_WORDS, k=rng.randint(6, 11))).capitalize()
        return _Header(rng, conditional, edit_at if edited else None, title)

    def article(self, slug: str) -> ScriptedArticle:
        return self._cached(slug)

    def _build(self, slug: str) -> ScriptedArticle:
        index = self._index(slug)
        if index is None:
            raise KeyError(slug)
        rng, conditional, edit_at, title = self._header(index)
        bank = _sentence_bank(self.seed)
        paragraphs = _paragraphs(rng, bank, rng.randint(12, 18))
        byline = (
            f"By {rng.choice(('Alex', 'Sam', 'Jo', 'Kim', 'Lee'))} {rng.choice(('Reed', 'Shaw', 'Nunn'))}"
        )
        first = Revision(title, paragraphs, byline)
        events = [(self._published_offset(index), first)]
        if edit_at is not None:
            changed = rng.randrange(len(paragraphs))
            edited = (*paragraphs[:changed], *_paragraphs(rng, bank, 1), *paragraphs[changed + 1 :])
            events.append((edit_at, Revision(title, edited, byline)))
        return ScriptedArticle(slug, _SECTIONS[index % len(_SECTIONS)], events, conditional=conditional)

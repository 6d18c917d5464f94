"""A big newsroom for benchmarks: thousands of realistic-sized articles generated lazily from a seed.

Nothing is held per article but a few numbers; bodies are regenerated on demand (about 0.5 ms each) and a
small LRU keeps the hot ones, so 10,000 articles cost a few MB rather than a few hundred.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache

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
_SLUG = re.compile(r"story-(\d{5,})$")


def _sentence(rng: random.Random) -> str:
    words = rng.choices(_WORDS, k=rng.randint(14, 26))
    return " ".join(words).capitalize() + "."


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(2, 3)))


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
        self.article = lru_cache(maxsize=2048)(self._build)  # type: ignore[method-assign]

    def __len__(self) -> int:
        return self.n_articles

    def slugs(self) -> Sequence[str]:
        return [self._slug(i) for i in range(self.n_articles)]

    def article_at(self, path: str) -> ScriptedArticle | None:
        index = self._index(path.removeprefix(ARTICLE_PREFIX)) if path.startswith(ARTICLE_PREFIX) else None
        return None if index is None else self.article(self._slug(index))

    def edited_slugs(self) -> list[str]:
        return [self._slug(i) for i in range(self.n_articles) if self._traits(i)[1] is not None]

    def feed_items(self, offset: float) -> list[FeedItem]:
        items = []
        for i in range(self.n_articles):
            published_offset = self._published_offset(i)
            if published_offset > offset:
                continue
            title = self._title(i)
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

    def _rng(self, index: int, purpose: str) -> random.Random:
        return random.Random(f"{self.seed}:{index}:{purpose}")

    def _title(self, index: int) -> str:
        return _sentence(self._rng(index, "title")).rstrip(".")[:90]

    def _traits(self, index: int) -> tuple[bool, float | None]:
        """(answers 304 to conditional requests, offset of its one edit or None)."""
        rng = self._rng(index, "traits")
        conditional = rng.random() < self.not_modified_fraction
        edit_at = rng.uniform(1 * _HOUR, 23 * _HOUR) if rng.random() < self.edit_fraction else None
        return conditional, edit_at

    def _build(self, slug: str) -> ScriptedArticle:
        index = self._index(slug)
        if index is None:
            raise KeyError(slug)
        rng = self._rng(index, "body")
        paragraphs = tuple(_paragraph(rng) for _ in range(rng.randint(12, 18)))
        byline = (
            f"By {rng.choice(('Alex', 'Sam', 'Jo', 'Kim', 'Lee'))} {rng.choice(('Reed', 'Shaw', 'Nunn'))}"
        )
        first = Revision(self._title(index), paragraphs, byline)
        events = [(self._published_offset(index), first)]
        conditional, edit_at = self._traits(index)
        if edit_at is not None:
            changed = rng.randrange(len(paragraphs))
            edited = (*paragraphs[:changed], _paragraph(rng), *paragraphs[changed + 1 :])
            events.append((edit_at, Revision(first.title, edited, byline)))
        return ScriptedArticle(slug, _SECTIONS[index % len(_SECTIONS)], events, conditional=conditional)

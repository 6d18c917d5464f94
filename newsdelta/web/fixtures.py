"""Demo and test data written straight through the models: the seed-guardian showcase and the awkward cases.

What is real: versions 3 and 4 of the Guardian article are the corpus texts (`seed-guardian/v3.txt`, `v4.txt`),
9 hours 8 minutes apart. Versions 0–2 and 5 are made up from them (paragraphs dropped or a correction added) so
the version navigation has somewhere to go. Everything else — a live article, a retired one, one that was
removed, one hidden after a legal request, hostile markup in a title — is invented to cover each page state.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from newsdelta.store.checklog import LoggedCheck, log_checks
from newsdelta.store.evidence import EvidenceOpener, keep_raw_page
from newsdelta.store.evidence_db import DatabaseEvidence
from newsdelta.store.models import Article, Source, Version
from newsdelta.text import version_hash
from newsdelta.vocabulary import ArticleState, Origin, Outcome

GUARDIAN_URL = "https://www.theguardian.com/world/2017/nov/21/syria-military-operation-wrapping-up-putin-tells-assad-in-russia-talks"
HOSTILE_HTML = (
    b"<html><head><title>x</title></head><body><script>alert('pwned')</script><p>Body</p></body></html>"
)


@dataclass(frozen=True, slots=True)
class Seeded:
    guardian: int
    live: int
    retired: int
    gone: int
    hidden: int


def read_seed(path: Path) -> tuple[str, list[str]]:
    """The corpus layout: title on line 1, a blank line, then one paragraph per line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return lines[0].strip(), [line.strip() for line in lines[2:] if line.strip()]


def new_article(source: Source, url: str, first_seen: datetime, **fields: object) -> Article:
    """An article row with the crawler's defaults; retired (never checked again) unless `next_check_at` is given."""
    defaults: dict[str, object] = {
        "state": ArticleState.LIVE,
        "check_period_seconds": 1800.0,
        "next_check_at": None,
        "error_streak": 0,
        "version_count": 0,
        "hidden": False,
    }
    defaults.update(fields)
    return Article(source=source, url=url, first_seen_at=first_seen, **defaults)


def add_version(
    session: Session,
    article: Article,
    title: str,
    paragraphs: list[str],
    at: datetime,
    *,
    origin: Origin = Origin.FETCH,
    raw: bytes | None = None,
    byline: str | None = None,
    evidence: EvidenceOpener = DatabaseEvidence,
) -> Version:
    """Append the next version and keep the article's counters (and its raw page) as the crawler would."""
    raw_sha = None
    if raw is not None:
        raw_sha = keep_raw_page(evidence(session), raw, "text/html; charset=utf-8", at)
    version = Version(
        article=article,
        number=article.version_count,
        origin=origin,
        title=title,
        byline=byline,
        published=article.published_at,
        paragraphs=paragraphs,
        text_hash=version_hash(title, paragraphs)
        if origin != Origin.REMOVED
        else f"removed:{at.isoformat()}",
        fetched_at=at,
        http_status=410 if origin == Origin.REMOVED else 200,
        final_url=article.url,
        parser="fixture",
        parser_version=1,
        raw_sha256=raw_sha,
    )
    session.add(version)
    article.version_count += 1
    if version.number:
        article.last_changed_at = at
    session.flush()
    _log(session, LoggedCheck(article.id, at, Outcome.NEW_VERSION, 200, version.number))
    return version


def _log(session: Session, check: LoggedCheck) -> None:
    log_checks(session.connection(), [check])


def seed_demo(
    sessions: sessionmaker[Session],
    corpus: Path,
    now: datetime | None = None,
    *,
    evidence: EvidenceOpener = DatabaseEvidence,
) -> Seeded:
    """Fill a fresh database with the showcase and one article in each state; return their ids."""
    now = now or datetime.now(UTC)
    with sessions.begin() as session:
        guardian = Source(name="guardian", created_at=datetime(2017, 1, 1, tzinfo=UTC))
        bbc = Source(name="bbc", created_at=now - timedelta(days=3))
        session.add_all([guardian, bbc])
        seed = _seed_guardian(session, guardian, corpus / "seed-guardian", evidence)
        live = _live_article(session, bbc, now)
        retired = _retired_article(session, bbc, now)
        gone = _gone_article(session, bbc, now)
        hidden = _hidden_article(session, bbc, now)
        session.flush()
        return Seeded(seed.id, live.id, retired.id, gone.id, hidden.id)


def _seed_guardian(session: Session, source: Source, folder: Path, evidence: EvidenceOpener) -> Article:
    title3, body3 = read_seed(folder / "v3.txt")
    title4, body4 = read_seed(folder / "v4.txt")
    published = datetime(2017, 11, 21, 6, 5, tzinfo=UTC)
    article = new_article(source, GUARDIAN_URL, published, published_at=published, next_check_at=None)
    session.add(article)
    v3_at = datetime(2017, 11, 21, 10, 12, tzinfo=UTC)
    drafts = [(body3[:4], 0), (body3[:6], 1), (body3[:-1], 2)]
    for paragraphs, hours in drafts:
        add_version(session, article, title3, paragraphs, published + timedelta(minutes=10 + 40 * hours))
    add_version(
        session,
        article,
        title3,
        body3,
        v3_at,
        raw=HOSTILE_HTML,
        byline="Shaun Walker in Moscow",
        evidence=evidence,
    )
    add_version(
        session,
        article,
        title4,
        body4,
        v3_at + timedelta(hours=9, minutes=8),
        byline="Shaun Walker in Moscow",
    )
    correction = "This article was amended on 22 November 2017 to correct the spelling of Sochi."
    add_version(session, article, title4, [*body4, correction], v3_at + timedelta(days=1, hours=2))
    return article


def _live_article(session: Session, source: Source, now: datetime) -> Article:
    article = new_article(
        source,
        "https://www.bbc.co.uk/news/live-demo",
        now - timedelta(hours=5),
        next_check_at=now + timedelta(minutes=30),
        last_checked_at=now - timedelta(minutes=2),
    )
    session.add(article)
    body = ["Ministers met on Tuesday.", "Talks are expected to continue.", "More to follow."]
    progress = [*body[:2], "Ministers say progress was made."]
    add_version(session, article, "Talks begin", body, now - timedelta(hours=5))
    add_version(session, article, "Talks begin", progress, now - timedelta(hours=2))
    _log(session, LoggedCheck(article.id, now - timedelta(minutes=60), Outcome.ERROR, 200))
    # A better parser found the caption it used to drop: a re-read of stored evidence, not an outlet edit.
    reparsed = [*progress, "Photograph: the talks venue."]
    add_version(session, article, "Talks begin", reparsed, now - timedelta(minutes=40), origin=Origin.REPARSE)
    _log(session, LoggedCheck(article.id, now - timedelta(minutes=20), Outcome.NOT_MODIFIED, 200))
    edited = ["Ministers met on Tuesday and agreed a deal.", *reparsed[1:]]
    add_version(
        session, article, "Talks end <script>alert('x')</script> & agree", edited, now - timedelta(minutes=7)
    )
    _log(session, LoggedCheck(article.id, now - timedelta(minutes=2), Outcome.UNCHANGED, 200))
    return article


def _retired_article(session: Session, source: Source, now: datetime) -> Article:
    first = now - timedelta(days=70)
    article = new_article(source, "https://www.bbc.co.uk/news/old-story", first, published_at=first)
    session.add(article)
    add_version(session, article, "An old story", ["It happened.", "Then it ended."], first)
    add_version(
        session,
        article,
        "An old story",
        ["It happened.", "Then it ended quietly."],
        first + timedelta(days=1),
    )
    return article


def _gone_article(session: Session, source: Source, now: datetime) -> Article:
    first = now - timedelta(days=2)
    article = new_article(
        source,
        "https://www.bbc.co.uk/news/withdrawn",
        first,
        state=ArticleState.GONE,
        gone_at=now - timedelta(hours=20),
    )
    session.add(article)
    add_version(session, article, "A withdrawn story", ["A claim that was later withdrawn."], first)
    add_version(session, article, "A withdrawn story", [], now - timedelta(hours=20), origin=Origin.REMOVED)
    return article


def _hidden_article(session: Session, source: Source, now: datetime) -> Article:
    first = now - timedelta(days=1)
    article = new_article(
        source,
        "https://www.bbc.co.uk/news/legal",
        first,
        hidden=True,
        hidden_reason="Removed after a legal request.",
        next_check_at=now + timedelta(hours=1),
    )
    session.add(article)
    add_version(session, article, "Secret hidden story", ["A zebracorn paragraph about someone."], first)
    add_version(
        session,
        article,
        "Secret hidden story",
        ["A zebracorn paragraph, amended."],
        first + timedelta(hours=3),
    )
    return article


def seed_live_blog(
    sessions: sessionmaker[Session], *, words: int = 10_000, versions: int = 50, seed: int = 4
) -> int:
    """A live blog of about `words` words that gains posts and edits over `versions` versions (for bench/web.py)."""
    rng = random.Random(seed)
    vocabulary = [f"w{n}" for n in range(3000)]

    def post() -> str:
        return " ".join(rng.choice(vocabulary) for _ in range(rng.randint(40, 90))).capitalize() + "."

    start = datetime(2026, 1, 1, 6, tzinfo=UTC)
    # Each version adds one post of ~65 words on top, so the blog reaches about `words` at the last version.
    paragraphs = [post() for _ in range(max(words // 65 - (versions - 1), 1))]
    with sessions.begin() as session:
        source = Source(name="liveblog", created_at=start)
        article = new_article(
            source, "https://example.org/live", start, next_check_at=start + timedelta(days=1)
        )
        session.add(article)
        for n in range(versions):
            if n:
                paragraphs.insert(0, post())
                edited = rng.randrange(len(paragraphs))
                paragraphs[edited] = paragraphs[edited].replace("w1", "x1", 2) + " Updated."
            add_version(
                session, article, f"Live: day one ({n})", list(paragraphs), start + timedelta(minutes=15 * n)
            )
        session.flush()
        return article.id

"""The tables. Every distinct version of an article is a row; the raw page behind it is kept as evidence.

Invariants the constraints enforce, so concurrent or repeated checks can never duplicate anything:
one article per canonical URL, one version per (article, number) and per (article, text hash), one raw page per
SHA-256 of its bytes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from newsdelta.vocabulary import ArticleState, ChangeKind, Origin, Outcome

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python on every backend (SQLite stores naive datetimes)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


E = TypeVar("E", bound=StrEnum)


class Word(TypeDecorator[E]):
    """A word of `newsdelta.vocabulary` in a VARCHAR column: its value is stored, its member read back."""

    impl = String
    cache_ok = True

    def __init__(self, vocabulary: type[E], length: int) -> None:
        super().__init__(length)
        self.vocabulary = vocabulary

    def process_bind_param(self, value: E | str | None, dialect: object) -> str | None:
        return None if value is None else self.vocabulary(value).value

    def process_result_value(self, value: str | None, dialect: object) -> E | None:
        return None if value is None else self.vocabulary(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Source(Base):
    __tablename__ = "source"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    feeds: Mapped[list[Feed]] = relationship(back_populates="source")


class Feed(Base):
    __tablename__ = "feed"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"), index=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    period_seconds: Mapped[float] = mapped_column(Float)
    exclude_patterns: Mapped[list[str]] = mapped_column(JSON, default=list)
    next_check_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(128))
    error_streak: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(128))

    source: Mapped[Source] = relationship(back_populates="feeds")


class HubSubscription(Base):
    """A feed's WebSub subscription at the hub it declares (newsdelta.crawl.websub, newsdelta.web.websub).

    `mode` is what we want of the hub; `requested_at` is set while such a request awaits the hub's
    verification of intent, which only then succeeds. `next_check_at` is when the hub is next asked (renewal
    before the lease runs out, a retry, an unsubscription), claimed like a feed's poll. A removed feed leaves
    its row behind (`feed_id` None, mode unsubscribe) until the hub lets it go.
    """

    __tablename__ = "websub_subscription"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed_id: Mapped[int | None] = mapped_column(ForeignKey("feed.id", ondelete="SET NULL"), unique=True)
    hub_url: Mapped[str] = mapped_column(String(2048))
    topic_url: Mapped[str] = mapped_column(String(2048))
    # The unguessable last segment of the callback URL: the only thing naming the subscription to the hub.
    callback_token: Mapped[str] = mapped_column(String(64), unique=True)
    callback_url: Mapped[str | None] = mapped_column(String(2048))
    secret: Mapped[str] = mapped_column(String(128))
    mode: Mapped[str] = mapped_column(String(16), default="subscribe")  # subscribe | unsubscribe
    state: Mapped[str] = mapped_column(String(16), default="new")  # new | pending | active | denied
    requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the hub last asked
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    last_notification_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notifications: Mapped[int] = mapped_column(Integer, default=0)
    error_streak: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    feed: Mapped[Feed | None] = relationship()


class Article(Base):
    __tablename__ = "article"
    __table_args__ = (
        # The scheduler's due-work query: live, not retired, ordered by due time.
        Index("ix_article_due", "next_check_at", postgresql_where="next_check_at IS NOT NULL"),
        # The home page: changed articles, the most recently changed first (migration 0003_reader).
        Index("ix_article_last_changed", "last_changed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"), index=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    guid: Mapped[str | None] = mapped_column(String(2048))
    parser: Mapped[str | None] = mapped_column(String(64))
    parser_version: Mapped[int | None] = mapped_column(Integer)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[ArticleState] = mapped_column(Word(ArticleState, 16), default=ArticleState.LIVE)
    check_period_seconds: Mapped[float] = mapped_column(Float)
    # None = retired: "won't be checked again for changes".
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    gone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error_streak: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(128))
    # SHA-256 of the last response body: identical bytes need no extraction at all.
    body_sha256: Mapped[str | None] = mapped_column(String(64))
    # Hash of the text currently on the page (may equal an older version after a flip-flop).
    current_hash: Mapped[str | None] = mapped_column(String(64))
    version_count: Mapped[int] = mapped_column(Integer, default=0)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    hidden_reason: Mapped[str | None] = mapped_column(Text)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    # The newest "last modified" a feed or sitemap gave for the article: only a newer one is news.
    signal_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # While a signal has brought the next check forward, the check the schedule had planned: a signal that
    # proves wrong (nothing changed) costs that one request, and the schedule resumes as planned.
    planned_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who gave the pending signal: "feed" (a poll of a feed or sitemap) or "websub" (a hub's notification).
    signal_origin: Mapped[str | None] = mapped_column(String(16))

    source: Mapped[Source] = relationship()
    versions: Mapped[list[Version]] = relationship(
        back_populates="article", order_by="Version.number", cascade="all, delete-orphan"
    )


class ArticleAlias(Base):
    """Another URL of a tracked article (an old slug, the http address, a feed's tracking link).

    Remembered so that rediscovering the alias never creates a second article for the same story.
    """

    __tablename__ = "article_alias"

    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"), index=True)


class RawPage(Base):
    """A fetched page body, compressed and addressed by the SHA-256 of its bytes: citable evidence, in the
    default evidence store (store/evidence_db.py).

    `codec` is zlib (rows from before 0005), zstd, or zstd-delta: compressed with the body `base_sha256` as a
    raw-content dictionary, `depth` deltas away from a full copy (store/evidence.py keeps chains short).
    """

    __tablename__ = "raw_page"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    compressed: Mapped[bytes] = mapped_column(LargeBinary)
    codec: Mapped[str] = mapped_column(String(16), default="zlib", server_default="zlib")
    base_sha256: Mapped[str | None] = mapped_column(String(64))
    depth: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    size: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(255))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Version(Base):
    __tablename__ = "version"
    __table_args__ = (
        UniqueConstraint("article_id", "number", name="uq_version_article_number"),
        UniqueConstraint("article_id", "text_hash", name="uq_version_article_hash"),
        Index("ix_version_fetched_at", "fetched_at"),
        # Covers the version tables of article pages and feeds without touching the paragraphs (migration 0002).
        Index(
            "ix_version_listing",
            "article_id",
            "number",
            "fetched_at",
            "origin",
            "http_status",
            "raw_sha256",
            "title",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)  # 0 for the first
    origin: Mapped[Origin] = mapped_column(Word(Origin, 16), default=Origin.FETCH)
    title: Mapped[str] = mapped_column(Text)
    # The summary under the headline, part of the text (and its hash) but not of the body (migration 0009).
    standfirst: Mapped[str | None] = mapped_column(Text)
    byline: Mapped[str | None] = mapped_column(Text)
    published: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paragraphs: Mapped[list[str]] = mapped_column(JSON)
    text_hash: Mapped[str] = mapped_column(String(64))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    http_status: Mapped[int] = mapped_column(Integer)
    final_url: Mapped[str | None] = mapped_column(String(2048))
    parser: Mapped[str | None] = mapped_column(String(64))
    parser_version: Mapped[int | None] = mapped_column(Integer)
    # The SHA-256 of the raw page in the evidence store (not a foreign key: the store need not be this
    # database; migration 0009).
    raw_sha256: Mapped[str | None] = mapped_column(String(64))
    # The charset the HTTP header gave when this version was fetched: re-reading the evidence decodes it the
    # same way (the raw page is shared by content, so its own content type is only the first fetch's).
    charset: Mapped[str | None] = mapped_column(String(64))
    # The HTTP exchange behind the fetch: request (method, URL, our headers), response status line and headers
    # as received, when; and the address the connection went to (migration 0005).
    exchange: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    remote_ip: Mapped[str | None] = mapped_column(String(45))
    # The Internet Archive's capture of the URL, when Save Page Now is configured (newsdelta.crawl.wayback).
    archive_url: Mapped[str | None] = mapped_column(Text)

    article: Mapped[Article] = relationship(back_populates="versions")

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


class Check(Base):
    """A check that told more than its span and counters (store/checklog.py): a new version, a flip-flop, a
    removal, an error and its reason, a note; kept for a window. Unchanged and 304 checks get no row.

    `outcome` is one of the stored `Outcome`s (newsdelta.vocabulary).
    """

    __tablename__ = "article_check"
    __table_args__ = (
        Index("ix_article_check_article_at", "article_id", "at"),
        Index("ix_article_check_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[Outcome] = mapped_column(Word(Outcome, 16))
    http_status: Mapped[int | None] = mapped_column(Integer)
    version_number: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(Text)


class CheckSpan(Base):
    """A run of consecutive successful checks that saw the same version of an article (store/checklog.py).

    The check log's lasting part: detailed `article_check` rows are pruned after a window, spans are not.
    `first_outcome` is the check that opened the span (new_version, flipflop, reparsed, gone or, for an
    article whose first checks predate its spans, any successful one).
    """

    __tablename__ = "check_span"
    __table_args__ = (Index("ix_check_span_article", "article_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"))
    version_number: Mapped[int | None] = mapped_column(Integer)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)
    checks: Mapped[int] = mapped_column(Integer)
    first_outcome: Mapped[str] = mapped_column(String(16))
    last_outcome: Mapped[str] = mapped_column(String(16))
    last_status: Mapped[int | None] = mapped_column(Integer)


class CheckCount(Base):
    """How many checks of a source's articles had an outcome in an hour (store/checklog.py): what the last
    day's health counts read, at a fixed size per source and hour however many checks there were."""

    __tablename__ = "check_count"

    hour: Mapped[int] = mapped_column(Integer, primary_key=True)  # hours since 1970-01-01 00:00 UTC
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id", ondelete="CASCADE"), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16), primary_key=True)
    checks: Mapped[int] = mapped_column(Integer)


class Subscription(Base):
    """Who is told about which changes, through which channel (an apprise URL or a signed http(s) webhook).

    `cursor` is the highest version id already turned into notifications: delivery reads stored versions
    past it, never a check's state, so a crawler killed after storing a version still notifies it later.
    """

    __tablename__ = "subscription"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(128))
    # Rules; empty lists and None mean "any".
    sources: Mapped[list[str]] = mapped_column(JSON, default=list)
    article_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    url_pattern: Mapped[str | None] = mapped_column(Text)
    term: Mapped[str | None] = mapped_column(Text)
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    min_change: Mapped[int] = mapped_column(Integer, default=0)
    digest: Mapped[str | None] = mapped_column(String(16))  # None | hourly | daily
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cursor: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Delivery health, shown on /health and by `newsdelta status`.
    failure_streak: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Notification(Base):
    """One matching version for one subscription: the outbox row delivery works through until it is sent.

    Unique per (subscription, version), so re-reading versions past a cursor can never queue one twice.
    """

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("subscription_id", "version_id", name="uq_notification_subscription_version"),
        Index("ix_notification_pending", "subscription_id", "delivered_at", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscription.id", ondelete="CASCADE"))
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("version.id", ondelete="CASCADE"))
    version_number: Mapped[int] = mapped_column(Integer)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class ArchiveCursor(Base):
    """The newest version id already queued for Save Page Now (one row)."""

    __tablename__ = "archive_cursor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(Integer)


class ArchiveSubmission(Base):
    """A version's URL on its way to the Internet Archive: submitted (`job_id`), polled, done or given up."""

    __tablename__ = "archive_submission"
    __table_args__ = (Index("ix_archive_submission_due", "done_at", "next_attempt_at"),)

    version_id: Mapped[int] = mapped_column(ForeignKey("version.id", ondelete="CASCADE"), primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    job_id: Mapped[str | None] = mapped_column(String(128))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class VolatileRule(Base):
    """A mask learned where two fetches of an article seconds apart disagreed (see newsdelta.fidelity).

    It holds for its article; a rule learned on several articles of a source holds for the whole source.
    """

    __tablename__ = "volatile_rule"
    __table_args__ = (UniqueConstraint("article_id", "key", name="uq_volatile_rule_article_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"), index=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))  # slot | drop
    pattern: Mapped[str] = mapped_column(Text)
    masked: Mapped[str] = mapped_column(Text)
    learned_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SourceParagraph(Base):
    """Which articles of a source carry a paragraph (by hash): one carried by many is boilerplate."""

    __tablename__ = "source_paragraph"

    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"), primary_key=True)
    paragraph_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("article.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class VersionChange(Base):
    """A version compared sentence by sentence with the one before it (see `newsdelta.changes`).

    Computed once when the version is stored; `newsdelta changes backfill` computes the missing ones and those
    of an older `algorithm`. `sentences` holds NewsEdits-style rows [old index, new index, action, similarity]
    into both versions' sentence splits (which are deterministic for a given algorithm).
    """

    __tablename__ = "version_change"

    version_id: Mapped[int] = mapped_column(ForeignKey("version.id", ondelete="CASCADE"), primary_key=True)
    previous_number: Mapped[int | None] = mapped_column(Integer)  # None for a first version
    algorithm: Mapped[int] = mapped_column(Integer)
    size_words: Mapped[int] = mapped_column(Integer, index=True)
    additions: Mapped[int] = mapped_column(Integer)
    deletions: Mapped[int] = mapped_column(Integer)
    edits: Mapped[int] = mapped_column(Integer)
    refactors: Mapped[int] = mapped_column(Integer)
    kinds: Mapped[list[str]] = mapped_column(JSON)  # as in version_kind, for readers of whole rows
    sentences: Mapped[list[list[object]]] = mapped_column(JSON)

    version: Mapped[Version] = relationship()


class VersionKind(Base):
    """One kind of change a version made (headline, correction_note, …): a row each, so lists filter by index."""

    __tablename__ = "version_kind"
    __table_args__ = (Index("ix_version_kind_kind", "kind", "version_id"),)

    version_id: Mapped[int] = mapped_column(ForeignKey("version.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[ChangeKind] = mapped_column(Word(ChangeKind, 32), primary_key=True)

    version: Mapped[Version] = relationship()

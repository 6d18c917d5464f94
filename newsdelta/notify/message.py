"""What a notification says, built from stored versions, and how each kind of channel writes it.

One `ChangeMessage` per (subscription, article, version), its `id` stable across retries and restarts so a
receiver can drop repeats. Deletions and insertions are marked the channel's way: Markdown (~~old~~ **new**),
HTML (<del>/<ins>) or plain text ([-old-] {+new+}).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from newsdelta import settings
from newsdelta.diff import Span, VersionDiff
from newsdelta.notify.rules import Candidate, change_kinds
from newsdelta.store.models import Article, Version
from newsdelta.vocabulary import Origin

Format = Literal["markdown", "html", "text"]
EXCERPT_SENTENCES = 3
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=\S)")


def site_url() -> str:
    """Where the web site is reachable by the people notified: links in messages point there."""
    return (settings.BASE_URL.read() or "http://127.0.0.1:8000").rstrip("/")


def message_id(subscription_id: int, article_id: int, version_number: int) -> str:
    return f"newsdelta:{subscription_id}:{article_id}:{version_number}"


def digest_id(subscription_id: int, period_start: datetime) -> str:
    return f"newsdelta:{subscription_id}:digest:{period_start.isoformat()}"


def _sentences(spans: Sequence[Span]) -> Iterator[list[Span]]:
    """Split a paragraph's spans at sentence ends inside unchanged text; changed runs stay whole."""
    current: list[Span] = []
    for span in spans:
        if span.op != "equal":
            current.append(span)
            continue
        pieces = _SENTENCE_END.split(span.text)
        for piece in pieces[:-1]:
            current.append(Span("equal", piece))
            yield current
            current = []
        if pieces[-1]:
            current.append(Span("equal", pieces[-1]))
    if current:
        yield current


def changed_sentences(diff: VersionDiff, limit: int = EXCERPT_SENTENCES) -> list[tuple[Span, ...]]:
    """The first `limit` sentences of the body that hold a deletion or an insertion, in reading order."""
    found: list[tuple[Span, ...]] = []
    for row in diff.rows:
        if row.kind in ("equal", "moved"):
            continue
        for sentence in _sentences(row.spans):
            if any(span.op != "equal" for span in sentence):
                found.append(tuple(sentence))
                if len(found) == limit:
                    return found
    return found


@dataclass(frozen=True, slots=True)
class ChangeMessage:
    id: str
    subscription_id: int
    source: str
    article_id: int
    url: str
    old_number: int
    new_number: int
    origin: Origin
    fetched_at: datetime
    kinds: tuple[str, ...]
    old_title: str
    new_title: str
    summary: str
    excerpt: tuple[tuple[Span, ...], ...]

    @property
    def permalink(self) -> str:
        return f"{site_url()}/articles/{self.article_id}/diff/{self.old_number}/{self.new_number}"

    @property
    def card_url(self) -> str:
        return f"{self.permalink}.png"

    @property
    def headline(self) -> str:
        return self.new_title if self.origin != Origin.REMOVED else self.old_title

    def to_json(self) -> dict[str, Any]:
        """The webhook body (documented as `ChangeEvent` in the OpenAPI schema)."""
        return {
            "type": "change",
            "id": self.id,
            "subscription": self.subscription_id,
            "source": self.source,
            "article": {"id": self.article_id, "url": self.url},
            "version": {
                "old": self.old_number,
                "new": self.new_number,
                "origin": self.origin,
                "fetched_at": self.fetched_at.isoformat(),
            },
            "kinds": list(self.kinds),
            "headline": {"old": self.old_title, "new": self.new_title},
            "summary": self.summary,
            "excerpt": [[span.to_dict() for span in sentence] for sentence in self.excerpt],
            "permalink": self.permalink,
            "card": self.card_url,
        }


def build_message(subscription_id: int, change: Candidate) -> ChangeMessage:
    diff = change.diff
    removed = change.new.origin == Origin.REMOVED
    return ChangeMessage(
        id=message_id(subscription_id, change.article_id, change.new.number),
        subscription_id=subscription_id,
        source=change.source,
        article_id=change.article_id,
        url=change.url,
        old_number=change.old.number,
        new_number=change.new.number,
        origin=change.new.origin,
        fetched_at=change.new.fetched_at,
        kinds=tuple(sorted(change_kinds(change))),
        old_title=change.old.title,
        new_title=change.new.title,
        summary="The page was removed" if removed else diff.summary(),
        excerpt=() if removed else tuple(changed_sentences(diff)),
    )


def pair_message(article: Article, old: Version, new: Version, diff: VersionDiff) -> ChangeMessage:
    """The message for any two versions, outside a subscription: what a share card shows."""
    return build_message(0, Candidate(article.source.name, article.id, article.url, old, new, diff))


# How each format marks a span: (escape, deleted, inserted).
_MARKS: dict[Format, tuple[Any, str, str]] = {
    "markdown": (lambda text: re.sub(r"([\\`*_~\[\]<>#|])", r"\\\1", text), "~~{}~~", "**{}**"),
    "html": (html.escape, '<del style="color:#b3261e">{}</del>', '<ins style="color:#1b7a34">{}</ins>'),
    "text": (lambda text: text, "[-{}-]", "{{+{}+}}"),
}


def _marked(mark: str, text: str) -> str:
    """Mark a changed run with its surrounding whitespace left outside (Markdown needs that)."""
    core = text.strip()
    left = text[: len(text) - len(text.lstrip())]
    return left + mark.format(core) + text[len(left) + len(core) :]


def render_spans(spans: Sequence[Span], fmt: Format) -> str:
    """One sentence with its changes marked; a replacement reads "~~old~~ **new**", not "~~old~~**new**"."""
    escape, deleted, inserted = _MARKS[fmt]
    parts = []
    previous = "equal"
    for span in spans:
        text = escape(span.text)
        mark = {"delete": deleted, "insert": inserted}.get(span.op)
        if mark is not None and span.text.strip():
            text = (" " if previous == "delete" and span.op == "insert" else "") + _marked(mark, text)
        parts.append(text)
        previous = span.op
    return "".join(parts).strip()


def _link(url: str, label: str, fmt: Format) -> str:
    if fmt == "markdown":
        return f"[{label}]({url})"
    if fmt == "html":
        return f'<a href="{html.escape(url)}">{html.escape(label)}</a>'
    return f"{label}: {url}"


def title_line(message: ChangeMessage) -> str:
    return f"{message.source}: {message.headline}"


def render_body(message: ChangeMessage, fmt: Format) -> str:
    """The message in one channel's markup: headline change, summary, changed sentences, links, id."""
    escape = _MARKS[fmt][0]
    lines = []
    if message.old_title != message.new_title and message.origin != Origin.REMOVED:
        lines.append(f"{escape(message.old_title)} → {escape(message.new_title)}")
    lines.append(escape(message.summary))
    lines.extend(f"> {render_spans(sentence, fmt)}" for sentence in message.excerpt)
    lines.append(_link(message.permalink, "See the diff", fmt))
    lines.append(escape(f"id: {message.id}"))
    separator = "<br>\n" if fmt == "html" else "\n\n"
    return separator.join(lines)


def render_digest(messages: Sequence[ChangeMessage], fmt: Format) -> str:
    """One entry per change: headline, summary, link; each with its own id."""
    escape = _MARKS[fmt][0]
    entries = [
        f"{escape(title_line(m))} — {escape(m.summary)} — {_link(m.permalink, 'diff', fmt)} ({escape(m.id)})"
        for m in messages
    ]
    separator = "<br>\n" if fmt == "html" else "\n\n"
    return separator.join(entries)


def sample_message(now: datetime) -> ChangeMessage:
    """What `notify test` sends: a made-up change that shows every part of a real message."""
    return ChangeMessage(
        id=f"newsdelta:test:{int(now.timestamp())}",
        subscription_id=0,
        source="newsdelta",
        article_id=0,
        url="https://example.org/news/test-message",
        old_number=0,
        new_number=1,
        origin=Origin.FETCH,
        fetched_at=now,
        kinds=("any", "headline"),
        old_title="Test message from newsdelta",
        new_title="Test message from newsdelta: it works",
        summary="Headline changed; 1 paragraph edited",
        excerpt=(
            (
                Span("equal", "This channel will hear of "),
                Span("delete", "nothing"),
                Span("insert", "every change it subscribes to"),
                Span("equal", "."),
            ),
        ),
    )

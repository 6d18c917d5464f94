"""Which stored versions a subscription wants: kinds of change, size of change, sources, articles, terms.

A change's kinds are the ones `newsdelta.changes` stored with the version (headline, correction_note, quote,
number, removed, …), so a subscription, the API, the feeds and the pages all use one vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from newsdelta.diff import VersionDiff
from newsdelta.store.models import Subscription, Version
from newsdelta.vocabulary import ChangeKind, Origin

ANY = "any"
KINDS = (ANY, *(kind.value for kind in ChangeKind))  # plain words: click and the forms compare them
DIGESTS = {"hourly": 3600, "daily": 86400}
# Versions that are not the outlet's edit: the first sighting, and a better parser re-reading old evidence.
_NOT_CHANGES = frozenset({Origin.REPARSE})


def is_change(version: Version) -> bool:
    """A version that people may be told about: an edit or a removal by the outlet, not a first sighting."""
    return version.number > 0 and version.origin not in _NOT_CHANGES


def change_kinds(change: Candidate) -> frozenset[str]:
    """The kinds stored with the change's version, `any` included; a removal is only `removed`.

    A version stored before kinds existed (not yet backfilled) gets the kinds its paragraph diff shows.
    """
    if change.new.origin == Origin.REMOVED:
        return frozenset({ANY, ChangeKind.REMOVED})
    if change.stored_kinds is not None:
        return frozenset({ANY, *change.stored_kinds})
    kinds = {ANY}
    if change.diff.title_changed:
        kinds.add(ChangeKind.HEADLINE)
    if change.diff.counts.deleted:
        kinds.add(ChangeKind.PARAGRAPHS_REMOVED)
    return frozenset(kinds)


def change_size(diff: VersionDiff) -> int:
    """Words deleted plus words inserted, headline included: what `--min-change` compares against."""
    spans = [*(diff.title_spans or ()), *(span for row in diff.rows for span in row.spans)]
    return sum(len(span.text.split()) for span in spans if span.op != "equal")


def validate(kinds: Iterable[str], digest: str | None, url_pattern: str | None) -> None:
    """Reject what could never match before it is stored, with a message that names the problem."""
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        raise ValueError(f"unknown kind {', '.join(unknown)}; kinds are {', '.join(KINDS)}")
    if digest is not None and digest not in DIGESTS:
        raise ValueError(f"digest must be one of {', '.join(DIGESTS)}")
    if url_pattern:
        try:
            re.compile(url_pattern)
        except re.error as exc:
            raise ValueError(f"bad URL pattern {url_pattern!r}: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Candidate:
    """A change as the rules see it: where it happened and what it was."""

    source: str
    article_id: int
    url: str
    old: Version
    new: Version
    diff: VersionDiff
    stored_kinds: tuple[str, ...] | None = (
        None  # newsdelta.changes' kinds, None before the version is compared
    )


def matches(subscription: Subscription, change: Candidate) -> bool:
    """Every rule the subscription sets must hold; unset rules hold for everything."""
    if subscription.sources and change.source not in subscription.sources:
        return False
    if subscription.article_ids and change.article_id not in subscription.article_ids:
        return False
    if subscription.url_pattern and not re.search(subscription.url_pattern, change.url):
        return False
    if subscription.term and not _mentions(subscription.term, change):
        return False
    wanted = set(subscription.kinds) or {ANY}
    if not wanted & change_kinds(change):
        return False
    return change.new.origin == Origin.REMOVED or change_size(change.diff) >= subscription.min_change


def _mentions(term: str, change: Candidate) -> bool:
    """The term in either version's headline or text (a removal's text is the old version's)."""
    needle = term.casefold()
    return any(needle in f"{v.title}\n{v.text}".casefold() for v in (change.old, change.new))

"""The words the store keeps and the JSON, feeds and pages show: check outcomes, version origins, article
states and the kinds of change. One definition each; the values are the stored strings, so the database
and the JSON keep them.
"""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    """What one check of an article found. The first eight are stored in `article_check`; the last three
    are only returned (the crawl's counters): the work was someone else's, so nothing is recorded."""

    NEW_VERSION = "new_version"  # text never seen before: a version stored
    UNCHANGED = "unchanged"  # the page answered with the latest version's text
    NOT_MODIFIED = "not_modified"  # HTTP 304 to a conditional request
    FLIPFLOP = "flipflop"  # an older version's text again (an A/B headline test, a reverted edit)
    REPARSED = "reparsed"  # a newer parser re-read the stored page first (a `reparse` version)
    GONE = "gone"  # HTTP 404/410: a `removed` version, the article stops being checked
    ERROR = "error"  # the fetch or the extraction failed; the article backs off
    ROBOTS = "robots"  # robots.txt forbids the page
    SKIPPED = "skipped"  # the lease was no longer ours (a redelivered task, work taken or finished)
    CONFLICT = "conflict"  # a concurrent check stored another URL of the same article: due again at once
    MERGED = "merged"  # the page turned out to be another tracked article's (its URL became an alias)


# Checks that reached the outlet and got a usable answer: a source's last success, its health.
SUCCESS_OUTCOMES = (
    Outcome.NEW_VERSION,
    Outcome.UNCHANGED,
    Outcome.NOT_MODIFIED,
    Outcome.FLIPFLOP,
    Outcome.REPARSED,
    Outcome.GONE,
)


class Origin(StrEnum):
    """Where a version's text came from."""

    FETCH = "fetch"  # the outlet's page
    REPARSE = "reparse"  # a newer parser re-read stored evidence: not an edit by the outlet
    REMOVED = "removed"  # the page went away: a version with no text

    @property
    def label(self) -> str:
        """How the pages and feeds name a version of this origin; empty for an ordinary fetch."""
        return _ORIGIN_LABELS[self]


_ORIGIN_LABELS = {
    Origin.FETCH: "",
    Origin.REPARSE: "re-read by a newer parser, not an outlet edit",
    Origin.REMOVED: "the page was removed",
}


class ArticleState(StrEnum):
    LIVE = "live"
    GONE = "gone"  # the outlet answered 404/410: no longer checked


class ChangeKind(StrEnum):
    """What kind of change a new version made (see `newsdelta.changes.kinds` for how each is found).
    Lists of kinds follow this order."""

    HEADLINE = "headline"
    STANDFIRST = "standfirst"
    LEDE = "lede"
    BYLINE = "byline"
    PUBLISHED_DATE = "published_date"
    UPDATED_DATE = "updated_date"
    CORRECTION_NOTE = "correction_note"
    QUOTE = "quote"
    NUMBER = "number"
    ATTRIBUTION = "attribution"
    PARAGRAPHS_ADDED = "paragraphs_added"
    PARAGRAPHS_REMOVED = "paragraphs_removed"
    REORDERED = "reordered"
    TYPO = "typo"
    REMOVED = "removed"
    UNANNOUNCED = "unannounced"

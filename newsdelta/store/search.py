"""Full-text search over every version's title and text: FTS5 on SQLite, a tsvector expression index on
PostgreSQL (both built by migration 0002), one hit per article; and where a search's match began or ended,
for search feeds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select, text, tuple_
from sqlalchemy.orm import Session, load_only

from newsdelta.store.models import Version
from newsdelta.store.queries import Change, ResultsPage, change_rows, page_of
from newsdelta.vocabulary import Origin

# Must match the index expression of migration 0002 character for character, or PostgreSQL will not use it.
PG_SEARCH_DOCUMENT = "(setweight(to_tsvector('english'::regconfig, title), 'A') || to_tsvector('english'::regconfig, paragraphs))"


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One article matching a search, collapsed over all its matching versions."""

    article_id: int
    source: str
    url: str
    number: int  # the newest matching version
    title: str
    fetched_at: datetime
    origin: Origin
    matching_versions: int
    snippet: str


_WORD = re.compile(r"\w+", re.UNICODE)


def search_terms(query: str) -> list[str]:
    return _WORD.findall(query)[:16]


def _fts5_query(terms: list[str]) -> str:
    """Every word quoted, so user input can never be FTS5 syntax (AND of all words)."""
    return " ".join('"' + term.replace('"', '""') + '"' for term in terms)


_SQLITE_SEARCH = text("""
    WITH hits AS MATERIALIZED (
        SELECT rowid AS version_id, bm25(version_fts, 4.0, 1.0) AS score
        FROM version_fts WHERE version_fts MATCH :match
    )
    SELECT v.article_id, max(v.number) AS number, min(hits.score) AS score, count(*) AS n
    FROM hits JOIN version v ON v.id = hits.version_id JOIN article a ON a.id = v.article_id
    WHERE a.hidden = 0
    GROUP BY v.article_id
    ORDER BY score, number DESC, v.article_id DESC
    LIMIT :limit OFFSET :offset
""")

_PG_SEARCH = text(f"""
    WITH q AS (SELECT websearch_to_tsquery('english', :match) AS query)
    SELECT v.article_id, max(v.number) AS number, -max(ts_rank({PG_SEARCH_DOCUMENT}, q.query)) AS score,
           count(*) AS n
    FROM version v CROSS JOIN q JOIN article a ON a.id = v.article_id
    WHERE {PG_SEARCH_DOCUMENT} @@ q.query AND NOT a.hidden
    GROUP BY v.article_id
    ORDER BY score, number DESC, v.article_id DESC
    LIMIT :limit OFFSET :offset
""")


def search(session: Session, query: str, *, page: int = 1, per_page: int = 20) -> ResultsPage[SearchHit]:
    """Titles and text of every version; one hit per article, best match first."""
    terms = search_terms(query)
    if not terms:
        return ResultsPage([], page, per_page, has_next=False)
    postgres = session.get_bind().dialect.name == "postgresql"
    statement = _PG_SEARCH if postgres else _SQLITE_SEARCH
    match = " ".join(terms) if postgres else _fts5_query(terms)
    rows = session.execute(
        statement, {"match": match, "limit": per_page + 1, "offset": (page - 1) * per_page}
    ).all()
    hits = [_hit(session, article_id, number, n, terms) for article_id, number, _score, n in rows]
    return page_of(hits, page, per_page)


_SQLITE_MATCHING = text("""
    SELECT v.article_id, v.number FROM version_fts JOIN version v ON v.id = version_fts.rowid
    WHERE version_fts MATCH :match AND v.article_id IN :ids
""").bindparams(bindparam("ids", expanding=True))

_PG_MATCHING = text(f"""
    SELECT v.article_id, v.number FROM version v, websearch_to_tsquery('english', :match) AS q
    WHERE {PG_SEARCH_DOCUMENT} @@ q AND v.article_id IN :ids
""").bindparams(bindparam("ids", expanding=True))


def term_changes(session: Session, query: str, article_ids: Sequence[int]) -> list[tuple[Change, bool]]:
    """The versions of these articles where the search started or stopped matching (all its words), each
    with True where it appeared and False where it went: what a search feed's reader wants to be told."""
    terms = search_terms(query)
    if not terms or not article_ids:
        return []
    postgres = session.get_bind().dialect.name == "postgresql"
    statement = _PG_MATCHING if postgres else _SQLITE_MATCHING
    match = " ".join(terms) if postgres else _fts5_query(terms)
    found = session.execute(statement, {"match": match, "ids": list(article_ids)})
    matching = {(article_id, number) for article_id, number in found}
    numbers = session.execute(
        select(Version.article_id, Version.number)
        .where(Version.article_id.in_(article_ids))
        .order_by(Version.article_id, Version.number)
    )
    turns: dict[tuple[int, int], bool] = {}
    before: tuple[int, bool] | None = None  # the previous version's article and whether it matched
    for article_id, number in numbers:
        key = (article_id, number)
        matches = key in matching
        matched = before is not None and before[0] == key[0] and before[1]
        if matches != matched:
            turns[key] = matches
        before = (key[0], matches)
    if not turns:
        return []
    rows = session.execute(
        change_rows().where(tuple_(Version.article_id, Version.number).in_(sorted(turns)))
    ).all()
    changes = [Change(*row) for row in rows]
    return [(change, turns[change.key]) for change in changes]


def _hit(session: Session, article_id: int, number: int, matching: int, terms: list[str]) -> SearchHit:
    version = session.scalars(
        select(Version)
        .options(
            load_only(
                Version.title, Version.paragraphs, Version.fetched_at, Version.origin, Version.article_id
            )
        )
        .where(Version.article_id == article_id, Version.number == number)
    ).one()
    article = version.article
    return SearchHit(
        article_id=article_id,
        source=article.source.name,
        url=article.url,
        number=number,
        title=version.title,
        fetched_at=version.fetched_at,
        origin=version.origin,
        matching_versions=matching,
        snippet=snippet(version.paragraphs, terms),
    )


def snippet(paragraphs: Sequence[str], terms: Sequence[str], width: int = 220) -> str:
    """The stretch of the first paragraph that mentions a search word (plain text: templates escape it)."""
    lowered = [term.lower() for term in terms]
    for paragraph in paragraphs:
        text_lower = paragraph.lower()
        positions = [pos for pos in (text_lower.find(term) for term in lowered) if pos >= 0]
        if positions:
            start = max(min(positions) - width // 3, 0)
            if start:  # begin at a word, not inside one
                start = paragraph.find(" ", start, min(positions)) + 1 or min(positions)
            piece = paragraph[start : start + width]
            return ("…" if start else "") + piece + ("…" if start + width < len(paragraph) else "")
    first = paragraphs[0] if paragraphs else ""
    return first[:width] + ("…" if len(first) > width else "")

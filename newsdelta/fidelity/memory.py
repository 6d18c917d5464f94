"""What the store remembers about volatile text, so later checks mask it without fetching twice.

Rules are kept per article; a rule learned on several articles of one source holds for all of its articles.
Paragraphs are counted per source by the articles whose first version carries them; one carried by many is
boilerplate. Their shapes (numbers as slots) are counted too: a shape many articles carry, each with its own
numbers ("Updated 5 hours ago", "212 comments"), is a template line whose numbers are masked, so chrome that
changes too slowly for the confirming fetch to see it is known all the same. Only first versions count: a template's text (sign-ups, disclaimers) is there from the start,
while a note added later, even in the same words on many articles (a standard correction), is an edit.
Every write is an insert that ignores rows already there, so concurrent checks never conflict.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import distinct, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from newsdelta.fidelity.volatility import BOILERPLATE_ARTICLES, Masks, Rule, paragraph_key, shape_key
from newsdelta.store.models import SourceParagraph, VolatileRule

# A rule learned on this many articles of a source holds for every article of the source.
SOURCE_RULE_ARTICLES = 2


def load_masks(session: Session, source_id: int, article_id: int, paragraphs: Sequence[str]) -> Masks:
    """The article's own rules, its source's shared rules, and which of `paragraphs` are boilerplate."""
    shared = (
        select(VolatileRule.key)
        .where(VolatileRule.source_id == source_id)
        .group_by(VolatileRule.key)
        .having(func.count(distinct(VolatileRule.article_id)) >= SOURCE_RULE_ARTICLES)
    )
    rows = session.execute(
        select(VolatileRule.kind, VolatileRule.pattern, VolatileRule.masked, func.min(VolatileRule.id))
        .where(
            VolatileRule.source_id == source_id,
            or_(VolatileRule.article_id == article_id, VolatileRule.key.in_(shared)),
        )
        .group_by(VolatileRule.kind, VolatileRule.pattern, VolatileRule.masked)
        .order_by(func.min(VolatileRule.id))
    )
    rules = tuple(Rule(kind, pattern, masked) for kind, pattern, masked, _ in rows)
    keys = {paragraph_key(p) for p in paragraphs}
    shapes = {k for k in map(shape_key, paragraphs) if k}
    recurring = set(
        session.scalars(
            select(SourceParagraph.paragraph_key)
            .where(SourceParagraph.source_id == source_id, SourceParagraph.paragraph_key.in_(keys | shapes))
            .group_by(SourceParagraph.paragraph_key)
            .having(func.count() >= BOILERPLATE_ARTICLES)
        )
    )
    return Masks(rules, frozenset(recurring & keys), frozenset(recurring & shapes))


def remember_rules(
    session: Session, source_id: int, article_id: int, rules: Iterable[Rule], now: datetime
) -> None:
    rows = [
        {
            "source_id": source_id,
            "article_id": article_id,
            "key": rule.key,
            "kind": rule.kind,
            "pattern": rule.pattern,
            "masked": rule.masked,
            "learned_at": now,
        }
        for rule in rules
    ]
    _insert_ignoring_duplicates(session, VolatileRule, rows)


def count_paragraphs(session: Session, source_id: int, article_id: int, paragraphs: Iterable[str]) -> None:
    """Note that this article carries these paragraphs and their shapes (the boilerplate count)."""
    paragraphs = list(paragraphs)
    keys = {paragraph_key(p) for p in paragraphs} | {k for k in map(shape_key, paragraphs) if k}
    rows = [{"source_id": source_id, "paragraph_key": k, "article_id": article_id} for k in keys]
    _insert_ignoring_duplicates(session, SourceParagraph, rows)


def _insert_ignoring_duplicates(
    session: Session, model: type[VolatileRule] | type[SourceParagraph], rows: list[dict[str, Any]]
) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(model).values(rows).on_conflict_do_nothing())

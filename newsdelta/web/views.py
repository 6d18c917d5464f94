"""Diff views: each is a key for `?view=`, a label for the switcher and a template partial.

A new view is one module that calls `register_view` (one line); the diff page, its switcher and the
`view` parameter's validation all read `DIFF_VIEWS`, so nothing else changes. A view's partial receives
`rows` (the diff's rows, with "changes only" folds) and `view_rows` (what `arrange` made of them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from jinja2 import ChoiceLoader, DictLoader

from newsdelta.diff import Row
from newsdelta.web.diffing import Fold, side_by_side
from newsdelta.web.render import templates

Rows = Sequence[Row | Fold]


def _as_is(rows: Rows) -> Sequence[object]:
    return rows


@dataclass(frozen=True, slots=True)
class DiffView:
    key: str
    label: str
    template: str
    arrange: Callable[[Rows], Sequence[object]] = _as_is


DIFF_VIEWS: dict[str, DiffView] = {}
DEFAULT_VIEW = "side"

# Partials given as source by `register_view` (a plugin's view need not ship a template directory).
_SOURCES: dict[str, str] = {}
templates.env.loader = ChoiceLoader([templates.env.loader, DictLoader(_SOURCES)])  # type: ignore[list-item]


def register_view(view: DiffView, source: str | None = None) -> DiffView:
    """Add a view; with `source`, its partial is that template text (stored under `view.template`)."""
    if source is not None:
        _SOURCES[view.template] = source
    DIFF_VIEWS[view.key] = view
    return view


def diff_view(key: str) -> DiffView | None:
    return DIFF_VIEWS.get(key)


register_view(
    DiffView("side", "Side by side", "views/side.html", lambda rows: list(side_by_side(list(rows))))
)
register_view(DiffView("inline", "Inline", "views/inline.html"))

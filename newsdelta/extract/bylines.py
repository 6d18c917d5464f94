"""Bylines: who wrote the article, as clean names, from wherever the page says it.

Structured data (JSON-LD `author`) is read in `structured`; this module reads the rest, in order of how
deliberately the page states it: `<meta name=author>` and its kin, `rel=author` links, `itemprop=author`
microdata, then markup whose class or id says "byline" or "author". Text read off markup is cleaned the same
way in every language: the lead-in word ("By", "Von", "Par", "Por"…), dates, times and "Updated" labels go,
and the names are split at commas and at the word for "and". Those words never decide what a byline is (the
markup does); they only trim text the markup already named one, and a lead-in they do not know stays part of
the name rather than losing it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from newsdelta.text import normalise

# <meta> names that hold a byline, most deliberate first. URLs (article:author on Facebook) are skipped.
AUTHOR_META = ("author", "article:author", "parsely-author", "sailthru.author", "dc.creator", "byl")
# Elements whose text is never a name: dates, scripts, icons.
_NOT_NAMES = frozenset(
    {"time", "script", "style", "noscript", "svg", "button", "img", "figure"}
    | {"form", "label", "input", "textarea"}
)
_BYLINE_HOOK = re.compile(r"byline|\bauthor(?:s|-?name)?\b|\bcontributors?\b", re.IGNORECASE)
# Hooks that name a block about authors (biographies, their other articles) or by readers (comments).
_NOT_BYLINE_HOOK = re.compile(
    r"bio|avatar|image|photo|img|pic|social|follow|more|related|comment|form|reply", re.IGNORECASE
)
# Blocks written by readers: their authors are not the article's.
_READERS_HOOK = re.compile(r"comment|reply|discussion", re.IGNORECASE)
# The lead-in before the names, in the languages of the outlets we know of.
_LEAD_IN = re.compile(
    r"^(?:(?:written|reported|posted|words)\s+by|by|von|par|por|di|door|av|af|przez|от|text|texte|texto|tekst)"
    r"\s*:?\s+",
    re.IGNORECASE,
)
# Labels that introduce a date inside a byline ("Updated 3:45 PM"); dates themselves are cut at their digits.
_DATE_LABEL = re.compile(
    r"\b(?:updated|published|posted|aktualisiert|veröffentlicht|mis à jour|publié|actualizado|publicado|"
    r"aggiornato|pubblicato|bijgewerkt|gepubliceerd)\b.*$",
    re.IGNORECASE,
)
# Between names: punctuation, or the word "and" in the languages above (lower case: "E." is an initial).
_BETWEEN_NAMES = re.compile(r"\s*(?:[,;|/•·]|&|\b(?:and|und|et|y|e|en|och|og|i|и|oraz|ve)\b)\s*")
# Lead-ins that are also surname particles ("Di Maio", "Von Trier"): capitalised before one word, a name.
_PARTICLES = frozenset({"von", "di", "af", "av"})
_FIRST_DIGIT = re.compile(r"\d.*$", re.DOTALL)
MAX_NAME_WORDS = 6
MAX_NAMES = 8
MAX_BYLINE_CHARS = 300


def clean_byline(text: str | None) -> tuple[str, ...]:
    """Names in a byline as written on the page; () when it holds none."""
    text = normalise(_FIRST_DIGIT.sub("", text or ""))
    text = _DATE_LABEL.sub("", text)
    names = (strip_lead_in(part).strip(" -–—:()[]") for part in _BETWEEN_NAMES.split(text))
    kept = [n for n in names if n and _is_name(n)]
    return tuple(dict.fromkeys(kept))[:MAX_NAMES]


def strip_lead_in(name: str) -> str:
    """The name without its lead-in word ("By Reuters" is Reuters, but "Di Maio" is a surname)."""
    rest = _LEAD_IN.sub("", name, count=1)
    first = name.split(maxsplit=1)[0] if name.strip() else ""
    particle = first[:1].isupper() and first.casefold() in _PARTICLES and len(rest.split()) < 2
    return name if particle else rest


def _is_name(text: str) -> bool:
    words = text.split()
    only_lead_in = not _LEAD_IN.sub("", f"{text} ", count=1)
    return len(words) <= MAX_NAME_WORDS and any(c.isalpha() for c in text) and not only_lead_in


def meta_byline(meta: dict[str, str]) -> tuple[str, ...]:
    """Names from the first byline <meta> that holds a name rather than a link."""
    for key in AUTHOR_META:
        value = meta.get(key, "")
        if value and "://" not in value and (names := clean_byline(value)):
            return names
    return ()


def markup_byline(tree: Any) -> tuple[str, ...]:
    """Names from rel=author links, itemprop=author, then byline markup, before any of it is removed."""
    for names in _markup_candidates(tree):
        if names:
            return names
    return ()


def _markup_candidates(tree: Any) -> Iterator[tuple[str, ...]]:
    yield _names_of(e for e in tree.iter("a") if "author" in (e.get("rel") or "").lower().split())
    yield _names_of(_itemprop_authors(tree))
    hooked = [e for e in tree.iter() if _is_byline_hook(e)]
    inner = set(hooked)
    for element in hooked:  # the innermost hook is the names; its containers add outlet names and dates
        inner.difference_update(element.iterancestors())
    # Innermost first; their containers after, for bylines whose inner hooks are empty.
    for element in sorted(hooked, key=lambda e: e not in inner):
        text = _visible_text(element)
        if text and len(text) <= MAX_BYLINE_CHARS:
            yield _links_or_text(element, text)


def _is_byline_hook(element: Any) -> bool:
    hook = _hook(element)
    return (
        bool(_BYLINE_HOOK.search(hook))
        and not _NOT_BYLINE_HOOK.search(hook)
        and element.tag not in _NOT_NAMES
        and not any(_READERS_HOOK.search(_hook(a)) for a in element.iterancestors())
    )


def _hook(element: Any) -> str:
    return f"{element.get('class') or ''} {element.get('id') or ''}"


def _itemprop_authors(tree: Any) -> Iterator[Any]:
    for element in tree.iter():
        if "author" in (element.get("itemprop") or "").split():
            named = [e for e in element.iter() if e.get("itemprop") == "name"]
            yield from named or [element]


def _names_of(elements: Iterable[Any]) -> tuple[str, ...]:
    found: list[str] = []
    for element in elements:
        found.extend(clean_byline(element.get("content") or _visible_text(element)))
    return tuple(dict.fromkeys(found))[:MAX_NAMES]


def _links_or_text(element: Any, text: str) -> tuple[str, ...]:
    """Linked names where the byline links its authors (the rest is lead-in and dates), else its text."""
    return _names_of(element.iter("a")) or clean_byline(text)


def _visible_text(element: Any) -> str:
    parts: list[str] = []
    _collect_text(element, parts)
    return normalise(" ".join(parts))


def _collect_text(element: Any, parts: list[str]) -> None:
    if element.tag in _NOT_NAMES or not isinstance(element.tag, str):
        return
    parts.append(element.text or "")
    for child in element:
        _collect_text(child, parts)
        parts.append(child.tail or "")

"""The held-out chrome vocabulary: fixed by the seed, fresh on every request, and disjoint from the default one
(the masks were developed against the default; only chrome they never saw says whether they generalise)."""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping

import pytest
from lxml import html as lxml_html

from newsdelta.testing.chrome import HELD_OUT_KINDS, HELD_OUT_PLACES, KINDS, PLACES, VolatilePage

PARAGRAPH = "The council met on {} to discuss the budget for the new bridge across the river, and voted."
PAGE = (
    "<html><head><title>Bridge vote</title></head><body><article><h1>Council votes on the bridge</h1>"
    + "".join(f"<p>{PARAGRAPH.format(day)}</p>" for day in ("Monday", "Tuesday", "Wednesday", "Thursday"))
    + "</article></body></html>"
)


def _served(seed: int, requests: int) -> list[bytes]:
    page = VolatilePage(PAGE, seed=seed, vocabulary="held-out")
    return [page.render() for _ in range(requests)]


@pytest.mark.parametrize("seed", range(6))
def test_held_out_chrome_is_fixed_by_the_seed_and_new_on_every_request(seed: int) -> None:
    assert (
        VolatilePage(PAGE, seed=seed, vocabulary="held-out").slots
        == VolatilePage(PAGE, seed=seed, vocabulary="held-out").slots
    )
    served = _served(seed, 3)
    assert served == _served(seed, 3)  # the same seed serves the same bytes, request by request
    assert len(set(served)) == 3  # and every request differs from the last
    assert all(b"class=" not in page for page in served)  # plain markup
    # The article itself is there on every request, chrome only added around and inside it.
    text = " ".join(lxml_html.fromstring(served[0]).text_content().split())
    assert PARAGRAPH.format("Monday").removesuffix(".") in text


def test_held_out_layouts_differ_from_the_default_ones() -> None:
    held_out = [VolatilePage(PAGE, seed=seed, vocabulary="held-out").slots for seed in range(40)]
    default = [VolatilePage(PAGE, seed=seed).slots for seed in range(40)]
    assert {s.kind for slots in held_out for s in slots} == set(HELD_OUT_KINDS)
    assert {s.place for slots in held_out for s in slots} == set(HELD_OUT_PLACES)
    assert {s.place for slots in default for s in slots} <= set(PLACES)
    assert all(s.cls is None for slots in held_out for s in slots)


def _words(kinds: Mapping[str, tuple[Callable[[random.Random], str], ...]]) -> set[str]:
    return {
        word.lower()
        for makers in kinds.values()
        for make in makers
        for n in range(30)
        for word in re.findall(r"[^\W\d_]+", make(random.Random(n)))
    }


def test_the_held_out_vocabulary_shares_no_word_but_short_ones_with_the_default() -> None:
    shared = _words(HELD_OUT_KINDS) & _words(KINDS)
    assert all(len(word) <= 4 for word in shared), shared  # "ago", "min", "and": nothing a mask could key on
    with pytest.raises(ValueError, match="vocabulary"):
        VolatilePage(PAGE, seed=1, vocabulary="other")

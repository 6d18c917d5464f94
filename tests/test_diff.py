"""The diff engine: word spans, paragraph rows, version diffs and their HTML, on seed-guardian and made-up text."""

from __future__ import annotations

import itertools
import json
import random
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from markupsafe import Markup, escape

from newsdelta.diff import (
    Row,
    Span,
    VersionDiff,
    VersionText,
    diff_paragraphs,
    diff_versions,
    diff_words,
    render_spans_html,
    side_text,
)
from newsdelta.diff.paragraphs import EXHAUSTIVE_PAIRS

# --- helpers -------------------------------------------------------------------------------------------------


def load_version(path: Path) -> VersionText:
    """seed-guardian's format: the title, a blank line, then one paragraph per line."""
    title, blank, *paragraphs = path.read_text(encoding="utf-8").split("\n")
    assert blank == ""
    return VersionText(title=title, paragraphs=tuple(p for p in paragraphs if p))


def column(rows: list[Row] | tuple[Row, ...], side: str) -> list[str]:
    """One column of the side-by-side view, top to bottom, as paragraph texts."""
    if side == "old":
        return [side_text(row.old_spans, "old") for row in rows if row.old_index is not None]
    return [side_text(row.new_spans, "new") for row in rows if row.new_index is not None]


def column_indexes(rows: list[Row] | tuple[Row, ...], side: str) -> list[int]:
    attribute = "old_index" if side == "old" else "new_index"
    return [getattr(row, attribute) for row in rows if getattr(row, attribute) is not None]


def confetti(spans: tuple[Span, ...] | list[Span]) -> list[str]:
    """Equal runs that are a single short word (or bare punctuation) squeezed between two edits."""
    found = []
    for before, span, after in zip(spans, spans[1:], spans[2:], strict=False):
        if span.op == "equal" and before.op != "equal" and after.op != "equal":
            words = re.findall(r"\w+", span.text)
            if len(words) == 0 or (len(words) == 1 and len(words[0]) <= 4):
                found.append(span.text)
    return found


def pairs_of_kind(rows: list[Row] | tuple[Row, ...], kind: str) -> list[tuple[int | None, int | None]]:
    return [(row.old_index, row.new_index) for row in rows if row.kind == kind]


_WORDS = [
    "Putin",
    "Assad",
    "talks",
    "Syria",
    "opposition",
    "peace",
    "said",
    "the",
    "of",
    "and",
    "a",
    "in",
    "to",
    "military",
    "political",
    "process",
    "Geneva",
    "Sochi",
    "Riyadh",
    "negotiating",
    "team",
    "summit",
    "Kremlin",
    "leaders",
    "Turkey",
    "Iran",
    "victory",
    "terrorists",
    "week",
    "Monday",
]


def random_text(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(_WORDS) for _ in range(words))
    return re.sub(r" (of|and) ", lambda m: rng.choice([f", {m[1]} ", f" {m[1]} ", f" ({m[1]}) "]), text)


def mutate_words(rng: random.Random, text: str, edits: int) -> str:
    tokens = text.split(" ")
    for _ in range(edits):
        place = rng.randrange(len(tokens) + 1)
        action = rng.choice(("insert", "delete", "replace"))
        if action == "insert" or not tokens:
            tokens.insert(place, rng.choice(_WORDS))
        elif action == "delete":
            del tokens[min(place, len(tokens) - 1)]
        else:
            tokens[min(place, len(tokens) - 1)] = rng.choice(_WORDS) + rng.choice(["", ",", ".", "’s"])
    return " ".join(tokens)


def mutate_paragraphs(rng: random.Random, paragraphs: list[str]) -> list[str]:
    result = list(paragraphs)
    for _ in range(rng.randint(0, 6)):
        action = rng.choice(("edit", "insert", "delete", "move", "duplicate"))
        if action == "insert" or not result:
            result.insert(rng.randrange(len(result) + 1), random_text(rng, rng.randint(0, 30)))
        elif action == "edit":
            index = rng.randrange(len(result))
            result[index] = mutate_words(rng, result[index], rng.randint(1, 5))
        elif action == "delete":
            del result[rng.randrange(len(result))]
        elif action == "move":
            paragraph = result.pop(rng.randrange(len(result)))
            result.insert(rng.randrange(len(result) + 1), paragraph)
        else:
            result.insert(rng.randrange(len(result) + 1), rng.choice(result))
    return result


# --- word diff -----------------------------------------------------------------------------------------------


def test_identical_text_is_one_equal_span() -> None:
    assert diff_words("Putin met Assad.", "Putin met Assad.") == [Span("equal", "Putin met Assad.")]
    assert diff_words("", "") == []


def test_pure_insertion_and_deletion() -> None:
    spans = diff_words("Putin met Assad.", "Putin met Assad in Sochi.")
    assert [span.op for span in spans] == ["equal", "insert", "equal"]
    assert spans[1].text == " in Sochi"
    spans = diff_words("Putin met Assad in Sochi.", "Putin met Assad.")
    assert [(span.op, span.text) for span in spans if span.op != "equal"] == [("delete", " in Sochi")]
    assert diff_words("", "New paragraph.") == [Span("insert", "New paragraph.")]
    assert diff_words("Old paragraph.", "") == [Span("delete", "Old paragraph.")]


def test_small_edit_is_marked_word_by_word() -> None:
    spans = diff_words(
        "The talks are due to last two days in Riyadh.", "The talks are due to last three days in Riyadh."
    )
    assert [(span.op, span.text) for span in spans] == [
        ("equal", "The talks are due to last "),
        ("delete", "two"),
        ("insert", "three"),
        ("equal", " days in Riyadh."),
    ]


def test_short_equalities_between_edits_are_folded() -> None:
    # The optimal LCS matches " the " and " of " across two unrelated clauses; the clean-up must not.
    tail = " on Monday morning, according to a statement from the Kremlin"
    old = "Talks began in the capital of Syria" + tail
    new = "Officials walked out of the meeting of ministers" + tail
    spans = diff_words(old, new)
    assert [span.op for span in spans] == ["delete", "insert", "equal"]
    assert spans[-1] == Span("equal", tail)
    assert side_text(spans, "old") == old and side_text(spans, "new") == new


def test_a_mostly_rewritten_pair_is_one_deletion_and_one_insertion() -> None:
    old = "The cat sat on the mat in the sun all of the afternoon."
    new = "A dog ran through the park in the rain for an hour."
    assert diff_words(old, new) == [Span("delete", old), Span("insert", new)]


def test_sentence_appended_to_a_paragraph_keeps_the_old_text_equal() -> None:
    old = "Putin hosted Assad in Sochi."
    addition = (
        " The talks were not disclosed until Assad had returned to Damascus, the Kremlin said on Tuesday,"
        " and western diplomats said they had not been told in advance."
    )
    assert diff_words(old, old[:-1] + "." + addition) == [Span("equal", old), Span("insert", addition)]


def test_word_diff_round_trips_on_random_edits() -> None:
    rng = random.Random(4)
    for _ in range(400):
        old = random_text(rng, rng.randint(0, 60))
        new = mutate_words(rng, old, rng.randint(0, 12)) if rng.random() < 0.8 else random_text(rng, 20)
        spans = diff_words(old, new)
        assert side_text(spans, "old") == old
        assert side_text(spans, "new") == new
        assert all(span.text for span in spans)
        assert all(a.op != b.op for a, b in itertools.pairwise(spans))


def test_word_diff_keeps_every_character_of_unusual_text() -> None:
    old = "Tab\there, NBSP\u00a0here; émigrés’ «quotes» — 3.5% of 1,000 \U0001f600 end"
    new = "Tab\there, NBSP here; emigres' «quotes» – 3.6% of 1,000 \U0001f601 end!"
    spans = diff_words(old, new)
    assert side_text(spans, "old") == old
    assert side_text(spans, "new") == new


# --- paragraph rows ------------------------------------------------------------------------------------------


def test_identical_versions_are_all_equal_rows() -> None:
    paragraphs = ["One.", "Two.", "Three."]
    rows = diff_paragraphs(paragraphs, list(paragraphs))
    assert [row.kind for row in rows] == ["equal"] * 3
    assert [(row.old_index, row.new_index) for row in rows] == [(0, 0), (1, 1), (2, 2)]
    assert diff_paragraphs([], []) == []


def test_inserted_and_deleted_paragraphs_get_their_own_rows() -> None:
    old = ["Putin met Assad in Sochi.", "The talks lasted four hours."]
    new = [
        "Putin met Assad in Sochi.",
        "Trump was briefed by phone afterwards.",
        "The talks lasted four hours.",
    ]
    rows = diff_paragraphs(old, new)
    assert [(row.kind, row.old_index, row.new_index) for row in rows] == [
        ("equal", 0, 0),
        ("inserted", None, 1),
        ("equal", 1, 2),
    ]
    assert rows[1].new_spans == (Span("insert", new[1]),) and rows[1].old_spans == ()
    rows = diff_paragraphs(new, old)
    assert [(row.kind, row.old_index, row.new_index) for row in rows] == [
        ("equal", 0, 0),
        ("deleted", 1, None),
        ("equal", 2, 1),
    ]
    assert rows[1].old_spans == (Span("delete", new[1]),) and rows[1].new_spans == ()


def test_edited_paragraph_pairs_with_its_counterpart() -> None:
    old = ["Intro.", "The talks are due to last two days in Riyadh.", "Outro."]
    new = ["Intro.", "The talks are due to last three days in Riyadh, officials said.", "Outro."]
    rows = diff_paragraphs(old, new)
    assert [row.kind for row in rows] == ["equal", "changed", "equal"]
    assert Span("insert", "three") in rows[1].spans


def test_paragraph_moved_far_is_a_move_not_a_delete_and_insert() -> None:
    old = [f"Paragraph {name} about the summit in Sochi and {name} things." for name in "ABCDEFGH"]
    new = [old[0], *old[2:], old[1]]
    rows = diff_paragraphs(old, new)
    moved = [row for row in rows if row.kind == "moved"]
    assert [(row.old_index, row.new_index, row.moved_to, row.moved_from) for row in moved] == [
        (1, None, 7, None),
        (None, 7, None, 1),
    ]
    assert pairs_of_kind(rows, "deleted") == [] and pairs_of_kind(rows, "inserted") == []
    assert moved[0].spans == (Span("equal", old[1]),)


def test_moved_and_lightly_edited_paragraph_is_still_a_move_with_word_marks() -> None:
    old = [f"Paragraph {name} about the summit in Sochi and {name} things." for name in "ABCDEFGH"]
    edited = old[6].replace("summit", "meeting")
    new = [old[0], edited, *old[1:6], old[7]]
    rows = diff_paragraphs(old, new)
    moved = [row for row in rows if row.kind == "moved"]
    assert {(row.moved_to, row.moved_from) for row in moved} == {(1, None), (None, 6)}
    assert Span("insert", "meeting") in moved[0].spans
    assert column(rows, "old") == old and column(rows, "new") == new


def test_swapped_neighbours_give_one_move() -> None:
    old = ["Alpha talks began.", "Bravo leaders met.", "Charlie opposition quit.", "Delta summit ended."]
    new = [old[0], old[2], old[1], old[3]]
    rows = diff_paragraphs(old, new)
    # One paragraph moved: a row where it left and a row where it arrived.
    assert sum(row.kind == "moved" for row in rows) == 2
    assert sum(row.kind == "equal" for row in rows) == 3


def test_the_paragraph_that_jumped_is_the_move_not_the_edited_ones_it_jumped_over() -> None:
    old = [
        "Putin hosted Assad in Sochi for four hours of talks on Monday.",
        "The Kremlin released details of the talks on Tuesday morning.",
        "Western diplomats fear the UN peace process in Geneva will be bypassed.",
        "The Saudi-backed opposition meets in Riyadh on Wednesday.",
        "Turkey wants Kurdish groups excluded from the process.",
    ]
    new = [
        old[0],
        old[2].replace("fear", "worry that"),
        old[3].replace("Wednesday", "Thursday"),
        old[1],
        old[4],
    ]
    rows = diff_paragraphs(old, new)
    assert pairs_of_kind(rows, "changed") == [(2, 1), (3, 2)]
    assert [
        (row.old_index, row.moved_to, row.new_index, row.moved_from) for row in rows if row.kind == "moved"
    ] == [
        (1, 3, None, None),
        (None, None, 3, 1),
    ]


def test_unrelated_rewrite_in_place_is_a_deletion_and_an_insertion() -> None:
    old = ["Intro.", "Turkey will press for Kurdish groups to be excluded from the process.", "Outro."]
    new = ["Intro.", "The US will keep a military presence inside Syria for now.", "Outro."]
    kinds = [row.kind for row in diff_paragraphs(old, new)]
    assert kinds == ["equal", "deleted", "inserted", "equal"]


def test_long_articles_pair_every_edited_paragraph() -> None:
    """Past EXHAUSTIVE_PAIRS the engine scores only pairs sharing a distinctive word (or with none)."""
    rng = random.Random(5)
    old = [f"{random_text(rng, 30)} Report number {index} from correspondent{index}." for index in range(60)]
    old += [random_text(rng, 30) for _ in range(10)]  # no distinctive word at all
    new = [mutate_words(rng, paragraph, 1) for paragraph in old]
    rows = diff_paragraphs(old, new)
    edited = {index for index, (before, after) in enumerate(zip(old, new, strict=True)) if before != after}
    assert len(old) * len(new) > EXHAUSTIVE_PAIRS and len(edited) > 60
    assert pairs_of_kind(rows, "changed") == [(index, index) for index in sorted(edited)]


def test_rows_round_trip_on_random_versions() -> None:
    """Each column of the rows, read top to bottom, is its version exactly and in order."""
    rng = random.Random(11)
    for _ in range(300):
        old = [random_text(rng, rng.randint(0, 40)) for _ in range(rng.randint(0, 12))]
        new = mutate_paragraphs(rng, old)
        rows = diff_paragraphs(old, new)
        assert column(rows, "old") == old
        assert column(rows, "new") == new
        assert column_indexes(rows, "old") == list(range(len(old)))
        assert column_indexes(rows, "new") == list(range(len(new)))
        for row in rows:
            if row.kind == "moved":
                other = row.moved_to if row.old_index is not None else row.moved_from
                assert other is not None
            if row.kind == "equal":
                assert old[row.old_index] == new[row.new_index]  # type: ignore[index]


# --- seed-guardian v3 → v4 -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_diff(corpus: Path) -> tuple[VersionText, VersionText, VersionDiff]:
    old = load_version(corpus / "seed-guardian" / "v3.txt")
    new = load_version(corpus / "seed-guardian" / "v4.txt")
    return old, new, diff_versions(old, new)


def test_seed_headline_is_a_title_change(seed_diff: tuple[VersionText, VersionText, VersionDiff]) -> None:
    old, new, diff = seed_diff
    assert diff.title_changed
    assert diff.title_spans == (Span("delete", old.title), Span("insert", new.title))


def test_seed_rewritten_paragraphs_pair_with_their_counterparts(
    seed_diff: tuple[VersionText, VersionText, VersionDiff],
) -> None:
    _, new, diff = seed_diff
    changed = pairs_of_kind(diff.rows, "changed")
    # Sochi summit ¶2→¶2, Putin's "most important thing" quote ¶4→¶11 (the quote's first half was
    # rewritten into a paragraph of its own), Assad's "at this stage" quote ¶6→¶12, the HNC resignations
    # ¶9→¶17, the Riyadh talks ¶11→¶19 (1-based).
    assert changed == [(1, 1), (3, 10), (5, 11), (8, 16), (10, 18)]
    quote = next(row for row in diff.rows if row.old_index == 3)
    assert side_text(quote.spans, "new") == new.paragraphs[10]
    assert any(span.op == "equal" and "most important thing" in span.text for span in quote.spans)
    assad_quote = next(row for row in diff.rows if row.old_index == 5)
    assert assad_quote.spans[0] == Span("insert", "In carefully scripted words, ")


def test_seed_last_saudi_paragraph_is_inserted(
    seed_diff: tuple[VersionText, VersionText, VersionDiff],
) -> None:
    _, new, diff = seed_diff
    last = diff.rows[-1]
    assert (last.kind, last.new_index) == ("inserted", len(new.paragraphs) - 1)
    assert last.new_spans[0].text.startswith("The pressure for a revised negotiating team")
    # v3's Saudi paragraph is not passed off as its earlier form: it is removed.
    assert ("deleted", 11) in [(row.kind, row.old_index) for row in diff.rows]


def test_seed_has_no_confetti(seed_diff: tuple[VersionText, VersionText, VersionDiff]) -> None:
    _, _, diff = seed_diff
    for row in diff.rows:
        assert confetti(row.spans) == [], row


def test_seed_rows_round_trip(seed_diff: tuple[VersionText, VersionText, VersionDiff]) -> None:
    old, new, diff = seed_diff
    assert column(diff.rows, "old") == list(old.paragraphs)
    assert column(diff.rows, "new") == list(new.paragraphs)


def test_seed_paragraph_moved_far_is_a_moved_row(
    seed_diff: tuple[VersionText, VersionText, VersionDiff],
) -> None:
    """v4 with Assad's quote moved from the middle to the end, and retouched: a move, found across an
    unchanged backbone, carrying its word-level edit."""
    _, new, _ = seed_diff
    paragraphs = list(new.paragraphs)
    quote = paragraphs.pop(11).replace("In carefully scripted words", "In scripted words")
    moved = (*paragraphs, quote)
    rows = diff_paragraphs(new.paragraphs, moved)
    moves = [
        (row.old_index, row.new_index, row.moved_to, row.moved_from) for row in rows if row.kind == "moved"
    ]
    assert moves == [(11, None, 19, None), (None, 19, None, 11)]
    edits = [(span.op, span.text.strip()) for span in next(row for row in rows if row.kind == "moved").spans]
    assert edits.count(("delete", "carefully")) == 1 and "insert" not in {op for op, _ in edits}
    assert [row.kind for row in rows].count("equal") == 19


def test_seed_rewritten_paragraph_moved_far_is_a_moved_row(
    seed_diff: tuple[VersionText, VersionText, VersionDiff],
) -> None:
    """v3 against v4 with its Sochi-summit paragraph (v3's ¶2, rewritten) moved to the end: the move
    is found through the rewrite, and the other counterparts stay paired."""
    old, new, _ = seed_diff
    paragraphs = list(new.paragraphs)
    paragraphs.append(paragraphs.pop(1))
    rows = diff_paragraphs(old.paragraphs, paragraphs)
    moved = [row for row in rows if row.kind == "moved"]
    assert [(row.old_index, row.moved_to, row.new_index, row.moved_from) for row in moved] == [
        (1, 19, None, None),
        (None, None, 19, 1),
    ]
    assert any(span.op == "equal" and "Black Sea resort of Sochi" in span.text for span in moved[0].spans)
    assert pairs_of_kind(rows, "changed") == [(3, 9), (5, 10), (8, 15), (10, 17)]


def test_seed_summary_and_counts(seed_diff: tuple[VersionText, VersionText, VersionDiff]) -> None:
    _, _, diff = seed_diff
    assert diff.summary() == "Headline changed; 5 paragraphs edited, 15 added, 14 removed"
    assert diff.counts.changed + diff.counts.deleted + diff.counts.moved == 19  # v3's paragraphs
    assert diff.counts.changed + diff.counts.inserted + diff.counts.moved == 20  # v4's paragraphs


# --- version diffs, JSON and HTML --------------------------------------------------------------------------


def test_metadata_changes_and_summary() -> None:
    when = datetime(2017, 11, 21, 9, 0, tzinfo=UTC)
    old = VersionText("Title", ("Same.", "Gone."), byline="Patrick Wintour", published=when)
    new = VersionText(
        "Title", ("Same.",), byline="Patrick Wintour and Shaun Walker", published=when, updated=when
    )
    diff = diff_versions(old, new)
    assert not diff.title_changed and diff.published is None
    assert diff.byline is not None and diff.byline.new == "Patrick Wintour and Shaun Walker"
    assert diff.updated is not None and diff.updated.old is None
    assert diff.summary() == "Byline changed; update time changed; 1 paragraph removed"
    payload = json.loads(json.dumps(diff.to_dict()))
    assert payload["updated"] == {"old": None, "new": "2017-11-21T09:00:00+00:00"}
    assert payload["rows"][1] == {
        "kind": "deleted",
        "old_index": 1,
        "new_index": None,
        "moved_from": None,
        "moved_to": None,
        "spans": [{"op": "delete", "text": "Gone."}],
        "old_spans": [{"op": "delete", "text": "Gone."}],
        "new_spans": [],
    }
    assert payload["counts"] == {"equal": 1, "changed": 0, "inserted": 0, "deleted": 1, "moved": 0}


def test_unchanged_versions_say_so() -> None:
    version = VersionText("Title", ("Body.",), byline="A. Writer")
    diff = diff_versions(version, version)
    assert not diff.changed
    assert diff.summary() == "No visible changes"


def test_html_escapes_hostile_text_and_marks_edits() -> None:
    old, new = '<b>Hi</b> & "you"', "<script>alert('x')</script> & \"you\""
    spans = diff_words(old, new)
    html = render_spans_html(spans, "both")
    assert isinstance(html, Markup)
    assert "<script" not in html and "<b>" not in html and "&amp;" in html
    assert html.count("<del>") == html.count("</del>") == 1
    assert html.count("<ins>") == html.count("</ins>") == 1
    old_column, new_column = render_spans_html(spans, "old"), render_spans_html(spans, "new")
    assert "<ins>" not in old_column and "<del>" in old_column
    assert "<del>" not in new_column and "<ins>" in new_column
    assert re.sub(r"</?del>", "", old_column) == escape(old)
    assert re.sub(r"</?ins>", "", new_column) == escape(new)


def test_html_of_a_column_is_its_escaped_text_plus_tags() -> None:
    spans = diff_words("a < b", "a > b")
    stripped = re.sub(r"</?(?:del|ins)>", "", render_spans_html(spans, "new"))
    assert stripped == "a &gt; b"

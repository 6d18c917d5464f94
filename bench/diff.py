"""Diff engine speed, against difflib in the same run (targets live here, never in unit tests).

1. Word diff of a 1,000-word paragraph pair with 40 scattered edits, then with one edit (a typical
   correction): newsdelta.diff.diff_words against difflib.SequenceMatcher(autojunk=False) over the same
   tokens (what NewsDiffs-style tools run). Target: about 1 ms for newsdelta.
2. A 10,000-word, 150-paragraph article pair with edited, inserted, deleted and moved paragraphs:
   newsdelta.diff.diff_paragraphs (alignment + word diffs) against difflib over paragraphs, then over the
   words of each replaced block.

Run: .venv/bin/python bench/diff.py [--repeat N]
"""

from __future__ import annotations

import argparse
import difflib
import random
import statistics
import time
from collections.abc import Callable
from functools import partial

from newsdelta.diff import diff_paragraphs, diff_words
from newsdelta.diff.words import tokenise

_FUNCTION_WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "is",
    "that",
    "for",
    "on",
    "said",
    "with",
    "as",
    "was",
    "by",
    "he",
    "it",
    "at",
    "from",
    "his",
    "an",
    "were",
    "are",
]
_NAMES = [
    "Putin",
    "Assad",
    "Syria",
    "Russia",
    "Trump",
    "Geneva",
    "Sochi",
    "Riyadh",
    "Turkey",
    "Iran",
    "Kremlin",
    "Moscow",
]


def _content_words(rng: random.Random, count: int) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(3, 10))) for _ in range(count)]


_VOCABULARY = [*_NAMES, *_content_words(random.Random(1), 5000)]
# Zipf-like weights: news prose reuses a few words a lot and most words rarely.
_WEIGHTS = [1 / rank for rank in range(1, len(_VOCABULARY) + 1)]


def words(rng: random.Random, count: int) -> list[str]:
    """Prose-like: about half function words, the rest drawn from a Zipf-weighted vocabulary."""
    content = rng.choices(_VOCABULARY, _WEIGHTS, k=count)
    return [rng.choice(_FUNCTION_WORDS) if rng.random() < 0.45 else word for word in content]


def sentence_text(tokens: list[str]) -> str:
    return " ".join(tokens) + "."


def edited(rng: random.Random, tokens: list[str], edits: int) -> list[str]:
    """Replace, insert or delete single words and short phrases at random places."""
    result = list(tokens)
    for _ in range(edits):
        place = rng.randrange(len(result))
        action = rng.choice(("replace", "insert", "delete"))
        if action == "replace":
            result[place : place + 2] = words(rng, rng.randint(1, 3))
        elif action == "insert":
            result[place:place] = words(rng, rng.randint(1, 4))
        else:
            del result[place : place + rng.randint(1, 3)]
    return result


def article_pair(rng: random.Random) -> tuple[list[str], list[str]]:
    """150 paragraphs of ~67 words; the new version edits 20, deletes 5, inserts 5 and moves 3."""
    old = [sentence_text(words(rng, rng.randint(40, 95))) for _ in range(150)]
    new = list(old)
    for index in rng.sample(range(150), 20):
        new[index] = sentence_text(edited(rng, new[index][:-1].split(), 4))
    for index in sorted(rng.sample(range(150), 5), reverse=True):
        del new[index]
    for _ in range(5):
        new.insert(rng.randrange(len(new)), sentence_text(words(rng, 60)))
    for _ in range(3):
        paragraph = new.pop(rng.randrange(len(new)))
        new.insert(rng.randrange(len(new)), paragraph)
    return old, new


def difflib_words(old: str, new: str) -> list[tuple[str, int, int, int, int]]:
    return difflib.SequenceMatcher(None, tokenise(old), tokenise(new), autojunk=False).get_opcodes()


def difflib_article(old: list[str], new: list[str]) -> int:
    blocks = 0
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if tag == "replace":
            blocks += len(difflib_words(" ".join(old[old_start:old_end]), " ".join(new[new_start:new_end])))
    return blocks


def timed(function: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall time and median CPU time of this process, in milliseconds. CPU time is the figure to
    compare when other work shares the machine; wall time is what a reader waits."""
    wall, cpu = [], []
    for _ in range(repeat):
        wall_start, cpu_start = time.perf_counter(), time.process_time()
        function()
        cpu.append((time.process_time() - cpu_start) * 1000)
        wall.append((time.perf_counter() - wall_start) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def report(label: str, function: Callable[[], object], repeat: int) -> float:
    wall, cpu = timed(function, repeat)
    print(f"  {label:<46} wall {wall:9.3f} ms   cpu {cpu:9.3f} ms   (median of {repeat})")
    return cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200, help="runs of the fast cases (difflib runs fewer)")
    repeat = parser.parse_args().repeat
    rng = random.Random(20171121)

    old_tokens = words(rng, 1000)
    for edits in (40, 1):
        old, new = sentence_text(old_tokens), sentence_text(edited(rng, old_tokens, edits))
        print(f"1,000-word paragraph pair, {edits} edit(s) ({len(old):,} / {len(new):,} characters)")
        ours = report("newsdelta diff_words (Indel + clean-up)", partial(diff_words, old, new), repeat)
        theirs = report(
            "difflib.SequenceMatcher(autojunk=False)", partial(difflib_words, old, new), max(3, repeat // 20)
        )
        print(f"  difflib / newsdelta (cpu): {theirs / ours:.0f}x\n")

    old_article, new_article = article_pair(rng)
    word_count = sum(len(paragraph.split()) for paragraph in old_article)
    print(f"{word_count:,}-word, {len(old_article)}-paragraph article pair (20 edited, 5+5 in/out, 3 moved)")
    ours = report(
        "newsdelta diff_paragraphs (rows + word diffs)",
        lambda: diff_paragraphs(old_article, new_article),
        max(3, repeat // 10),
    )
    theirs = report(
        "difflib paragraphs, then words of replaced", lambda: difflib_article(old_article, new_article), 3
    )
    print(f"  difflib / newsdelta (cpu): {theirs / ours:.0f}x")
    kinds: dict[str, int] = {}
    for row in diff_paragraphs(old_article, new_article):
        kinds[row.kind] = kinds.get(row.kind, 0) + 1
    print(f"  newsdelta rows by kind: {kinds}")


if __name__ == "__main__":
    main()

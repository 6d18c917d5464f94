"""Sentence alignment between two versions, with NewsEdits' actions: addition, deletion, edit, refactor.

Similarity is 1 − the normalised Indel distance between the two sentences' *token* sequences (words and
punctuation marks, case kept): the share of tokens the two have in common, in order. Tokens rather than
characters, because a changed word is one edit whatever its length, and a typo in a 40-word sentence must
still count as an edit (a character ratio would call it 99.5 % equal). As in NewsEdits (Spangher et al.,
NAACL 2022):

- sentences are matched in both directions: each old sentence to its most similar new one and each new
  sentence to its most similar old one, when their distance is below MATCH_DISTANCE (0.44); the union of the
  two allows a sentence split in two or two merged into one;
- a matched pair farther apart than EDIT_DISTANCE (0.01) is an edit, and so is any pair whose words differ
  (a sentence of over 100 tokens with one word changed is below 0.01; only punctuation is let pass there);
- matched pairs that cross others are refactors (moved): those outside a longest order-preserving chain;
- sentences matched in neither direction are additions (new side) and deletions (old side).

Identical sentences are paired first, in order, so only the changed remainder is scored (rapidfuzz's
`extractOne` over tokens encoded as characters).
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from rapidfuzz.distance import Indel
from rapidfuzz.process import extractOne

# Bump when splitting, matching or kinds change: stored alignments of an older algorithm are recomputed.
ALGORITHM = 1
MATCH_DISTANCE = 0.44
EDIT_DISTANCE = 0.01

TOKEN = re.compile(r"\w+|[^\w\s]")
WORD = re.compile(r"\w+")


class Action(StrEnum):
    UNCHANGED = "unchanged"
    ADDITION = "addition"
    DELETION = "deletion"
    EDIT = "edit"
    REFACTOR = "refactor"


@dataclass(frozen=True, slots=True)
class SentencePair:
    """One row of an alignment: indexes into the old and new sentence lists (None on the missing side)."""

    old: int | None
    new: int | None
    action: Action
    similarity: float


class Encoder:
    """Maps each distinct token (or sentence) to one character, so rapidfuzz compares token sequences at C speed."""

    def __init__(self) -> None:
        self.codes: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        return self.tokens(TOKEN.findall(text))

    def tokens(self, tokens: Sequence[str]) -> str:
        return "".join(map(self.code, tokens))

    def code(self, token: str) -> str:
        code = self.codes.get(token)
        if code is None:
            number = len(self.codes) + 0x100
            code = self.codes[token] = chr(number + 0x800 if number >= 0xD800 else number)
        return code


def align(old: Sequence[str], new: Sequence[str]) -> list[SentencePair]:
    """Align two versions' sentences; every sentence of both sides appears in exactly the rows it belongs to."""
    encode = Encoder()
    old_codes = [encode(text) for text in old]
    new_codes = [encode(text) for text in new]
    matches = _identical(old_codes, new_codes)
    matches.update(_similar(old_codes, new_codes, matches))
    edited = {
        (i, j)
        for (i, j), distance in matches.items()
        if distance > EDIT_DISTANCE or (distance and WORD.findall(old[i]) != WORD.findall(new[j]))
    }
    return _rows(len(old), len(new), matches, edited)


def _identical(old: Sequence[str], new: Sequence[str]) -> dict[tuple[int, int], float]:
    """Identical sentences: a longest common subsequence first (so repeated sentences pair in order), then
    the identical ones left over (moved), first come first served."""
    encode = Encoder()
    old_seq, new_seq = "".join(map(encode.code, old)), "".join(map(encode.code, new))
    pairs: dict[tuple[int, int], float] = {}
    for block in Indel.opcodes(old_seq, new_seq):
        if block.tag == "equal":
            for offset in range(block.src_end - block.src_start):
                pairs[(block.src_start + offset, block.dest_start + offset)] = 0.0
    waiting: dict[str, deque[int]] = defaultdict(deque)
    paired_old = {i for i, _ in pairs}
    paired_new = {j for _, j in pairs}
    for index, code in enumerate(old):
        if index not in paired_old:
            waiting[code].append(index)
    for index, code in enumerate(new):
        if index not in paired_new and waiting.get(code):
            pairs[(waiting[code].popleft(), index)] = 0.0
    return pairs


def _similar(
    old: Sequence[str], new: Sequence[str], taken: dict[tuple[int, int], float]
) -> dict[tuple[int, int], float]:
    """Best matches in both directions among the sentences not paired with an identical one."""
    old_left = sorted(set(range(len(old))) - {i for i, _ in taken})
    new_left = sorted(set(range(len(new))) - {j for _, j in taken})
    if not old_left or not new_left:
        return {}
    pairs: dict[tuple[int, int], float] = {}
    for i in old_left:
        best = _best(old[i], [new[j] for j in new_left])
        if best is not None:
            pairs[(i, new_left[best[1]])] = best[0]
    for j in new_left:
        best = _best(new[j], [old[i] for i in old_left])
        if best is not None:
            pairs[(old_left[best[1]], j)] = best[0]
    return _true_merges_and_splits(pairs, old, new)


def _true_merges_and_splits(
    pairs: dict[tuple[int, int], float], old: Sequence[str], new: Sequence[str]
) -> dict[tuple[int, int], float]:
    """Several sentences matched to one are a merge (or a split) only if, joined, they match it better than
    the closest of them alone; otherwise the others were near-duplicates and only the closest stays."""
    for side in (0, 1):  # 0: several old sentences on one new one (a merge); 1: a split
        groups: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for pair in pairs:
            groups[pair[1 - side]].append(pair)
        for one, group in groups.items():
            if len(group) < 2:
                continue
            joined = "".join((old, new)[side][pair[side]] for pair in sorted(group))
            closest = min(group, key=pairs.__getitem__)
            if Indel.normalized_distance(joined, (new, old)[side][one]) >= pairs[closest]:
                for pair in group:
                    if pair != closest:
                        del pairs[pair]
    return pairs


def _best(query: str, choices: list[str]) -> tuple[float, int] | None:
    """The closest choice's (distance, position), if closer than MATCH_DISTANCE (ties: the first)."""
    found = extractOne(query, choices, scorer=Indel.normalized_distance, score_cutoff=MATCH_DISTANCE)
    if found is None or found[1] >= MATCH_DISTANCE:
        return None
    return float(found[1]), found[2]


def _in_order(pairs: Sequence[tuple[int, int]]) -> set[tuple[int, int]]:
    """A longest chain of pairs non-decreasing on both sides (patience sorting): the pairs that did not move.

    Non-decreasing, so a sentence split in two or two merged into one stay in the chain."""
    tails: list[int] = []  # smallest new index ending a chain of each length
    tail_at: list[int] = []  # which pair ends it
    previous: list[int] = []
    for position, (_, new) in enumerate(pairs):
        length = bisect.bisect_right(tails, new)
        if length == len(tails):
            tails.append(new)
            tail_at.append(position)
        else:
            tails[length] = new
            tail_at[length] = position
        previous.append(tail_at[length - 1] if length else -1)
    chain: set[tuple[int, int]] = set()
    position = tail_at[-1] if tail_at else -1
    while position >= 0:
        chain.add(pairs[position])
        position = previous[position]
    return chain


def _settled(matches: dict[tuple[int, int], float]) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """The in-order pairs and the moved ones. A crossing pair that shares a sentence with an in-order pair is
    a second, spurious match (a near-duplicate sentence elsewhere), not a move: it is dropped."""
    kept = _in_order(sorted(matches))
    kept_old = {i for i, _ in kept}
    kept_new = {j for _, j in kept}
    moved = {(i, j) for i, j in matches if (i, j) not in kept and i not in kept_old and j not in kept_new}
    return kept, moved


def _rows(
    old_count: int, new_count: int, matches: dict[tuple[int, int], float], edited: set[tuple[int, int]]
) -> list[SentencePair]:
    """Rows in the new version's reading order; a deleted sentence follows its old predecessor's row."""
    kept, moved = _settled(matches)
    rows: list[tuple[float, int, SentencePair]] = []
    for i, j in kept | moved:
        if (i, j) in moved:
            action = Action.REFACTOR
        elif (i, j) in edited:
            action = Action.EDIT
        else:
            action = Action.UNCHANGED
        rows.append((j, i, SentencePair(i, j, action, round(1.0 - matches[(i, j)], 4))))
    matched_new = {j for _, j in kept | moved}
    rows.extend(
        (j, -1, SentencePair(None, j, Action.ADDITION, 0.0)) for j in range(new_count) if j not in matched_new
    )
    # A deletion goes just after the row of the nearest earlier old sentence kept in order.
    anchor = -0.5
    anchors = dict(sorted(kept))
    matched_old = {i for i, _ in kept | moved}
    for i in range(old_count):
        if i in anchors:
            anchor = anchors[i] + 0.5
        elif i not in matched_old:
            rows.append((anchor, i, SentencePair(i, None, Action.DELETION, 0.0)))
    rows.sort(key=lambda row: (row[0], row[1]))
    return [row[2] for row in rows]

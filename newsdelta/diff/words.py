"""Word-level diff of two paragraphs: an optimal token LCS, then a clean-up that a reader can follow.

The raw LCS is optimal but not readable: two unrelated sentences share "the", "of" and spaces, and an
optimal diff shows them as a confetti of one-word matches. The clean-up (diff-match-patch's
cleanupSemantic rule) folds every equality that is no longer than the edits on both sides of it into
those edits, and a pair that keeps too little is shown as one deletion and one insertion.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rapidfuzz.distance import Indel, Opcodes

from newsdelta.diff.model import Span

# Words, runs of whitespace, and single punctuation characters: together they cover every character, so
# joining the tokens gives the text back exactly.
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")

# Below this share of the shorter side's visible characters left unchanged, word-level marks stop helping.
MIN_KEPT_SHARE = 0.3


def tokenise(text: str) -> list[str]:
    return _TOKEN.findall(text)


def diff_words(old: str, new: str) -> list[Span]:
    """Spans that turn `old` into `new`; equal + delete spans give `old`, equal + insert spans give `new`."""
    if old == new:
        return [Span("equal", old)] if old else []
    if not old or not new:
        return _replace_whole(old, new)
    head, tail = _common_ends(old, new)
    old_middle, new_middle = old[head : len(old) - tail], new[head : len(new) - tail]
    equalities, edits = _token_diff(tokenise(old_middle), tokenise(new_middle))
    equalities[0], equalities[-1] = old[:head] + equalities[0], equalities[-1] + old[len(old) - tail :]
    equalities, edits = _cleanup_semantic(equalities, edits)
    if _kept_share(equalities, old, new) < MIN_KEPT_SHARE:
        return _replace_whole(old, new)
    return _spans(equalities, edits)


def _common_ends(old: str, new: str) -> tuple[int, int]:
    """Lengths of the shared start and end, cut back to a space so that no word is split.

    Most edits touch a few words of a long paragraph; the text around them need not be tokenised.
    """
    shortest = min(len(old), len(new))
    head = _longest(lambda size: old[:size] == new[:size], shortest)
    head = max(old.rfind(" ", 0, head), 0)
    tail = _longest(lambda size: old[len(old) - size :] == new[len(new) - size :], shortest - head)
    space = old.find(" ", len(old) - tail)
    return head, (len(old) - space if space >= 0 else 0)


def _longest(shared: Callable[[int], bool], limit: int) -> int:
    """The largest size up to `limit` for which `shared` holds; it holds for every smaller size too."""
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if shared(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _replace_whole(old: str, new: str) -> list[Span]:
    return [span for span in (Span("delete", old), Span("insert", new)) if span.text]


# A diff in alternating form: equalities[0], edits[0], equalities[1], …, edits[-1], equalities[-1], where an
# edit is (deleted text, inserted text) and the outer equalities may be empty.
Edit = tuple[str, str]


def _token_diff(old_tokens: list[str], new_tokens: list[str]) -> tuple[list[str], list[Edit]]:
    equalities = [""]
    edits: list[Edit] = []
    for op in _token_opcodes(old_tokens, new_tokens):
        if op.tag == "equal":
            equalities[-1] += "".join(old_tokens[op.src_start : op.src_end])
            continue
        deleted = "".join(old_tokens[op.src_start : op.src_end])
        inserted = "".join(new_tokens[op.dest_start : op.dest_end])
        if edits and not equalities[-1]:  # an edit right after an edit (delete, then insert): one edit
            edits[-1] = (edits[-1][0] + deleted, edits[-1][1] + inserted)
        else:
            edits.append((deleted, inserted))
            equalities.append("")
    return equalities, edits


def _token_opcodes(old_tokens: list[str], new_tokens: list[str]) -> Opcodes:
    """Optimal LCS over tokens. rapidfuzz compares string tokens by hash, in C: fast, and checked here,
    because a hash collision would put one side's word into the other side's text."""
    opcodes = Indel.opcodes(old_tokens, new_tokens)
    if all(
        old_tokens[op.src_start : op.src_end] == new_tokens[op.dest_start : op.dest_end]
        for op in opcodes
        if op.tag == "equal"
    ):
        return opcodes
    ids: dict[str, int] = {}
    old_ids = [ids.setdefault(token, len(ids)) for token in old_tokens]
    return Indel.opcodes(old_ids, [ids.setdefault(token, len(ids)) for token in new_tokens])


def _cleanup_semantic(equalities: list[str], edits: list[Edit]) -> tuple[list[str], list[Edit]]:
    """Fold each inner equality no longer than the edits on both sides of it into one edit with them.

    A fold only grows the edit it makes, so only the equality just before that edit can become
    foldable: one pass with a stack (as diff-match-patch does) reaches the fixed point.
    """
    kept_equalities = [equalities[0]]
    kept_edits: list[Edit] = []
    for edit, following in zip(edits, equalities[1:], strict=True):
        kept_edits.append(edit)
        while len(kept_edits) > 1 and _foldable(kept_edits[-2], kept_equalities[-1], kept_edits[-1]):
            (left_deleted, left_inserted), equality, (right_deleted, right_inserted) = (
                kept_edits[-2],
                kept_equalities.pop(),
                kept_edits.pop(),
            )
            kept_edits[-1] = (
                left_deleted + equality + right_deleted,
                left_inserted + equality + right_inserted,
            )
        kept_equalities.append(following)
    return kept_equalities, kept_edits


def _foldable(left: Edit, equality: str, right: Edit) -> bool:
    size = len(equality)
    return size <= max(len(left[0]), len(left[1])) and size <= max(len(right[0]), len(right[1]))


def _spans(equalities: list[str], edits: list[Edit]) -> list[Span]:
    spans = [Span("equal", equalities[0])]
    for (deleted, inserted), equality in zip(edits, equalities[1:], strict=True):
        spans += [Span("delete", deleted), Span("insert", inserted), Span("equal", equality)]
    return [span for span in spans if span.text]


def _kept_share(equalities: list[str], old: str, new: str) -> float:
    """Share of the shorter side's visible characters left unchanged: a sentence appended to (or cut from)
    a paragraph keeps all of the shorter side, however long the new sentence."""
    kept = sum(_visible(text) for text in equalities)
    return kept / max(min(_visible(old), _visible(new)), 1)


def _visible(text: str) -> int:
    return len("".join(text.split()))

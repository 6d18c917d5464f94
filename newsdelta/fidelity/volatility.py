"""Telling the outlet's edits from page chrome that changes on every request, without phrase lists.

Two readings of the same page fetched seconds apart can only differ where the page is volatile: counters,
clocks, "updated N minutes ago", rotating most-read lists. `stable` aligns the two readings paragraph by
paragraph and, inside paragraphs that match, word by word; what differs becomes a slot (`SLOT`) and what
appears in only one reading is dropped. Only the rest — the text both readings agree on — is article text.

What was found volatile is remembered as `Rule`s (a regex of the paragraph's literal words with slots, or the
shape of a paragraph to drop), so later checks mask the same chrome without fetching twice. A rule matches a
whole paragraph, so a counter inside a body paragraph masks only the counter: an edit elsewhere in that
paragraph no longer matches the rule and still shows.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache

from newsdelta.text import normalise, version_hash

# Stands for text that changed between two fetches seconds apart; rarely if ever part of article text.
SLOT = "⋯"
# A learned slot covers at most this many words: a wider one could swallow a real sentence.
MAX_SLOT_WORDS = 10
# Paragraphs of two readings are the same paragraph (with volatile words) when this share of words agrees,
# or when they open with the same words ("Read more: …" with a different story each time).
SAME_PARAGRAPH = 0.5
SAME_OPENING_WORDS = 2
# Words agreeing by chance between two volatile spans (a rotating headline's "the") are part of the slot.
ISLAND_WORDS = 2
# A paragraph is boilerplate once it appears verbatim in this many articles of one source.
BOILERPLATE_ARTICLES = 3
# A label opens a line within this many words ("Lesen Sie auch:").
LABEL_WORDS = 3
# The end of a sentence: a full stop, question or exclamation mark, with closing quotes or brackets after it.
_SENTENCE_END = re.compile(r"[.!?。！？][\"'”’»)\]]*$")
# A number: digits, with the separators of times, dates and thousands inside it.
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")


@dataclass(frozen=True, slots=True)
class Reading:
    """What one fetch said: the title, the paragraphs and the standfirst."""

    title: str
    paragraphs: tuple[str, ...]
    standfirst: str = ""

    @property
    def text_hash(self) -> str:
        return version_hash(self.title, self.paragraphs, self.standfirst)


@dataclass(frozen=True, slots=True)
class Rule:
    """A learned mask. `slot`: a paragraph fully matching `pattern` reads as `masked`. `drop`: a paragraph
    fully matching `pattern` is chrome and is left out."""

    kind: str  # slot | drop
    pattern: str
    masked: str = ""

    @property
    def key(self) -> str:
        """Identifies the rule across articles (a rule seen on several articles holds for the source)."""
        return hashlib.sha256(f"{self.kind}\x00{self.pattern}".encode()).hexdigest()


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def paragraph_key(paragraph: str) -> str:
    """A paragraph's identity for boilerplate counting."""
    return hashlib.sha256(normalise(paragraph).encode()).hexdigest()


def shape_key(paragraph: str) -> str | None:
    """The identity of the paragraph's shape (see `shape`), for paragraphs with numbers; else None."""
    shaped = shape(paragraph)
    return paragraph_key(f"{SLOT}shape {shaped}") if shaped != paragraph else None


@dataclass(frozen=True, slots=True)
class Masks:
    """Everything known to be volatile for one article: its own and its source's rules, and the source's
    boilerplate paragraphs (by `paragraph_key`)."""

    rules: tuple[Rule, ...] = ()
    boilerplate: frozenset[str] = field(default_factory=frozenset)
    shapes: frozenset[str] = field(default_factory=frozenset)  # `shape_key`s of the source's template lines

    def apply(self, reading: Reading) -> Reading:
        """The reading with boilerplate and dropped paragraphs left out and known volatile words masked."""
        drops = [_compiled(r.pattern) for r in self.rules if r.kind == "drop"]
        kept = (
            shape(p) if self.shapes and shape_key(p) in self.shapes else p
            for p in reading.paragraphs
            if paragraph_key(p) not in self.boilerplate and not any(d.fullmatch(p) for d in drops)
        )
        return Reading(
            self._mask(reading.title), tuple(self._mask(p) for p in kept), self._mask(reading.standfirst)
        )

    def removes(self, paragraph: str) -> bool:
        """Whether `apply` leaves the paragraph out (boilerplate, or chrome a drop rule matches)."""
        return not self.apply(Reading("", (paragraph,))).paragraphs

    def _mask(self, paragraph: str) -> str:
        for rule in self.rules:
            if rule.kind == "slot" and _compiled(rule.pattern).fullmatch(paragraph):
                paragraph = rule.masked
        return paragraph


@dataclass(frozen=True, slots=True)
class Merged:
    """The text two readings agree on, and the rules that describe where they differed."""

    reading: Reading
    learned: tuple[Rule, ...]
    volatile: int  # how many spans or paragraphs differed


def stable(first: Reading, second: Reading) -> Merged:
    """What two readings of the same page, fetched seconds apart, agree on (see the module docstring)."""
    title, title_rule, _ = _merge_words(first.title, second.title)
    standfirst, standfirst_rule = "", None  # found by one reading only: not a stable standfirst
    if first.standfirst and second.standfirst:
        standfirst, standfirst_rule, _ = _merge_words(first.standfirst, second.standfirst)
    paragraphs: list[str] = []
    learned = [rule for rule in (title_rule, standfirst_rule) if rule]
    volatile = int(title != first.title or title != second.title)
    volatile += int(standfirst != first.standfirst or standfirst != second.standfirst)
    matcher = SequenceMatcher(None, first.paragraphs, second.paragraphs, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            paragraphs.extend(first.paragraphs[i1:i2])
            continue
        pairs, alone = _pair(first.paragraphs[i1:i2], second.paragraphs[j1:j2])
        for a, b in pairs:
            text, rule, mostly_stable = _merge_words(a, b)
            if rule is None and shape(a) == shape(b):  # "14時05分更新": numbers inside one word
                text, rule, mostly_stable = shape(a), _shape_rule(shape(a)), True
            label = _shared_label(a, b)
            if label:  # a labelled line that changed in seconds ("Photo: <a credit>"): dropped, now and later
                rule = _label_drop(label)
            elif mostly_stable:
                paragraphs.append(text)
            elif rule:  # more chrome than text ("Read more: <another story>"): dropped, now and later
                rule = Rule("drop", rule.pattern)
            learned.extend([rule] if rule else [])
        learned.extend(r for r in map(_drop_rule, alone) if r)
        volatile += len(pairs) + len(alone)
    reading = Reading(title, tuple(paragraphs), standfirst)
    return Merged(reading, tuple(dict.fromkeys(learned)), volatile)


def shape(paragraph: str) -> str:
    """The paragraph with each number (digits, with inner separators: 14:05, 4,120, 30.11.2026) a SLOT."""
    return _NUMBER.sub(SLOT, paragraph)


def shaped(reading: Reading) -> Reading:
    """The reading with every number a SLOT (see `shape`)."""
    return Reading(shape(reading.title), tuple(map(shape, reading.paragraphs)), shape(reading.standfirst))


def _shape_rule(shaped: str) -> Rule | None:
    """The rule reading a paragraph of this shape, whatever its numbers, as the shape."""
    if not _has_words(shaped.split(" ")):
        return None
    return Rule("slot", re.escape(shaped).replace(SLOT, _NUMBER.pattern), shaped)


def template_churn(before: Sequence[str], now: Sequence[str], known: Masks) -> tuple[Rule, ...]:
    """Rules for the chrome among the paragraphs that differ between `before` and `now` (two readings of the
    page, checks apart): chrome that changes too slowly for the confirming fetch to see it.

    - Text that replaces known chrome at its very place, opening with the same word and no longer than twice
      it, is chrome too: a site's "Trending: …" line or weather strip.
    - A line (a few words, no sentence) that changed in place only in its numbers ("527 comments", "Updated
      5 hours ago") has its numbers masked from now on.
    - A line that came, went or changed beside another line of the same label ("Trending: <another story>")
      is dropped with every line of that label; so is a line known to be volatile that is gone.
    Prose is never judged so: a sentence whose number changed is an edit. Text added beside chrome, a
    correction note, stays."""
    rules: list[Rule] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, before, now, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        chrome = [p for p in before[i1:i2] if known.removes(p)]
        for paragraph in now[j1:j2]:
            if any(_churned(old, paragraph) for old in chrome):
                rules.append(Rule("drop", re.escape(paragraph)))
                continue
            numbers = (_numbers_rule(old, paragraph) for old in before[i1:i2])
            rules.extend(filter(None, [next(filter(None, numbers), None) or _label_rule(paragraph, before)]))
        for paragraph in before[i1:i2]:
            rules.extend(
                filter(None, [_label_rule(paragraph, now) or _gone_volatile_line(paragraph, now, known)])
            )
    return tuple(dict.fromkeys(rules))


def carried_slots(before: Sequence[str], now: Sequence[str]) -> tuple[Rule, ...]:
    """Slot rules for paragraphs edited since `before` (the latest version, its volatile spans SLOTs): a word
    or two that now stand beside a slot where `before` had the slot alone are part of it still. A clock's
    "AM" both fetches happened to agree on stays masked when a sentence is added elsewhere in its paragraph;
    the added sentence, longer than an island, shows."""
    rules: list[Rule] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, before, now, autojunk=False).get_opcodes():
        if op == "replace":
            pairs, _ = _pair(before[i1:i2], now[j1:j2])
            rules.extend(filter(None, (_carried(old, new) for old, new in pairs if SLOT in old)))
    return tuple(dict.fromkeys(rules))


def _carried(old: str, new: str) -> Rule | None:
    wa, wb = old.split(" "), new.split(" ")
    words: list[str] = []
    widths: list[int] = []
    carried = False
    opcodes = SequenceMatcher(None, wa, wb, autojunk=False).get_opcodes()
    for index, (op, _, _, j1, j2) in enumerate(opcodes):
        island = op == "insert" and j2 - j1 <= ISLAND_WORDS and not _SENTENCE_END.search(wb[j2 - 1])
        if island and _beside_slot(wa, opcodes, index):
            carried = True
            _append_slot(words, widths, j2 - j1)
            continue
        for word in wb[j1:j2]:
            if word == SLOT:
                _append_slot(words, widths, MAX_SLOT_WORDS)
            else:
                words.append(word)
                widths.append(0)
    if not carried or not _has_words(words):
        return None
    return Rule("slot", _pattern(words, widths), " ".join(words))


def _beside_slot(words: Sequence[str], opcodes: Sequence[tuple[str, int, int, int, int]], index: int) -> bool:
    """Whether the opcode at `index` stands right after or right before a SLOT both sides share."""
    previous = opcodes[index - 1] if index else None
    following = opcodes[index + 1] if index + 1 < len(opcodes) else None
    return bool(
        (previous and previous[0] == "equal" and words[previous[2] - 1] == SLOT)
        or (following and following[0] == "equal" and words[following[1]] == SLOT)
    )


def _append_slot(words: list[str], widths: list[int], width: int) -> None:
    """A SLOT for `width` words, merged into the SLOT before it."""
    if words and words[-1] == SLOT:
        widths[-1] = min(widths[-1] + width, MAX_SLOT_WORDS)
    else:
        words.append(SLOT)
        widths.append(min(width, MAX_SLOT_WORDS))


def _churned(old: str, new: str) -> bool:
    old_words, new_words = old.split(" "), new.split(" ")
    return old_words[0] == new_words[0] and len(new_words) <= 2 * len(old_words) and _has_words(old_words[:1])


def _numbers_rule(old: str, new: str) -> Rule | None:
    """A slot rule for a line that changed only in its numbers (see `template_churn`)."""
    if old != new and is_line(old) and is_line(new) and shape(old) == shape(new):
        return _shape_rule(shape(new))
    return None


def _gone_volatile_line(line: str, now: Sequence[str], known: Masks) -> Rule | None:
    """A drop rule for a line known to be volatile (a slot rule masks it) that `now` no longer shows at all:
    a widget the page renders only now and then (a consent line with a visitor id)."""
    if not is_line(line):
        return None
    for rule in known.rules:
        pattern = _compiled(rule.pattern)
        if rule.kind == "slot" and pattern.fullmatch(line) and not any(pattern.fullmatch(p) for p in now):
            return Rule("drop", rule.pattern)
    return None


def _label_rule(line: str, others: Sequence[str]) -> Rule | None:
    """A drop rule for lines of `line`'s label when another line of `others` has it (see `template_churn`)."""
    label = _label(line) if is_line(line) else None
    if not label or not any(o != line and is_line(o) and _label(o) == label for o in others):
        return None
    return _label_drop(label)


def is_line(paragraph: str) -> bool:
    """A line of the page's template rather than prose: a few words and no sentence end."""
    return len(paragraph.split(" ")) <= MAX_SLOT_WORDS and not _SENTENCE_END.search(paragraph)


def _label(line: str) -> str | None:
    """The shape of the label a line opens with ("Trending:", "Lesen Sie auch:", "5 Kommentare · Top:",
    "写真："), after a list marker: the text up to a colon that ends one of its first three words (or a
    full-width one anywhere in them, in scripts without spaces), followed by more text, with words of its
    own. A colon inside a word ("https://…") is no label's."""
    words = shape(line).split(" ")
    start = next((i for i, word in enumerate(words) if any(c.isalnum() or c == SLOT for c in word)), 0)
    for index, word in enumerate(words[start : start + LABEL_WORDS], start):
        end = word.find("：") + 1 or (len(word) if word.endswith(":") else 0)
        if end and (end < len(word) or index + 1 < len(words)):
            label = " ".join([*words[:index], word[:end]])
            return label if _has_words(label.split(" ")[start:]) else None
    return None


def _label_drop(label: str) -> Rule:
    """The rule dropping every line of this label, whatever its value (up to a slot's words)."""
    value = rf"(?: ?\S+(?: \S+){{0,{MAX_SLOT_WORDS - 1}}})?"
    return Rule("drop", re.escape(label).replace(SLOT, _NUMBER.pattern) + value)


def _shared_label(a: str, b: str) -> str | None:
    """The label of two lines (see `is_line`) that have one: a widget's label and its changing value."""
    if not (is_line(a) and is_line(b)):
        return None
    label = _label(a)
    return label if label is not None and label == _label(b) else None


def _same_paragraph(a: str, b: str) -> bool:
    if shape(a) == shape(b) or _shared_label(a, b):
        return True
    wa, wb = a.split(" "), b.split(" ")
    opening = wa[:SAME_OPENING_WORDS]
    if len(wa) > SAME_OPENING_WORDS and opening == wb[:SAME_OPENING_WORDS] and _has_words(opening):
        return True
    same = sum(block.size for block in SequenceMatcher(None, wa, wb, autojunk=False).get_matching_blocks())
    return same / max(len(wa), len(wb)) >= SAME_PARAGRAPH


def _pair(firsts: Sequence[str], seconds: Sequence[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """Pair differing paragraphs in order when most of their words agree; the rest appear in one reading only."""
    pairs: list[tuple[str, str]] = []
    alone: list[str] = []
    start = 0
    for a in firsts:
        match = next((j for j in range(start, len(seconds)) if _same_paragraph(a, seconds[j])), None)
        if match is None:
            alone.append(a)
            continue
        alone.extend(seconds[start:match])
        pairs.append((a, seconds[match]))
        start = match + 1
    alone.extend(seconds[start:])
    return pairs, alone


def _merge_words(a: str, b: str) -> tuple[str, Rule | None, bool]:
    """The paragraph with the words that differ replaced by SLOT, the rule that masks them next time, and
    whether more of it is stable than volatile (text with a counter in it, or chrome around a changing story)."""
    if a == b:
        return a, None, True
    wa, wb = a.split(" "), b.split(" ")
    words: list[str] = []
    widths: list[int] = []  # per word of `words`: 0 for a literal word, the widest span for a SLOT
    for op, i1, i2, j1, j2 in SequenceMatcher(None, wa, wb, autojunk=False).get_opcodes():
        spans = [(w, MAX_SLOT_WORDS if w == SLOT else 0) for w in wa[i1:i2]] if op == "equal" else []
        for word, width in spans or [(SLOT, max(i2 - i1, j2 - j1))]:
            if word == SLOT and words and words[-1] == SLOT:
                widths[-1] = max(widths[-1], width)
            else:
                words.append(word)
                widths.append(width)
    words, widths = _absorb_islands(words, widths)
    masked = " ".join(words)
    # Measured in characters, not words: in Chinese or Japanese a whole sentence is one "word".
    stable_chars = sum(len(w) + 1 for w, n in zip(words, widths, strict=True) if not n)
    mostly_stable = 2 * stable_chars > max(len(a), len(b))
    if max(widths) > MAX_SLOT_WORDS or not _has_words(words):  # a rule needs words of its own to match
        return masked, None, mostly_stable
    return masked, Rule("slot", _pattern(words, widths), masked), mostly_stable


def _absorb_islands(words: list[str], widths: list[int]) -> tuple[list[str], list[int]]:
    """Merge SLOT, a few words, SLOT into one SLOT: words two random spans share are chance, not text."""
    out_words: list[str] = []
    out_widths: list[int] = []
    for word, width in zip(words, widths, strict=True):
        out_words.append(word)
        out_widths.append(width)
        if not width or len(out_widths) < 2:
            continue
        run = 0
        while run < len(out_widths) - 1 and not out_widths[-2 - run]:
            run += 1
        if 0 < run <= ISLAND_WORDS and len(out_widths) - 2 - run >= 0 and out_widths[-2 - run]:
            total = sum(out_widths[-2 - run :]) + run
            del out_words[-1 - run :], out_widths[-1 - run :]
            out_widths[-1] = total
    return out_words, out_widths


def _drop_rule(paragraph: str) -> Rule | None:
    """A paragraph seen in one reading only: its shape, each run of numbers a slot, is dropped from now on.
    When no word of its own would be left, a word with numbers in it keeps its letters ("14時05分更新")."""
    for inner in (False, True):
        words: list[str] = []
        widths: list[int] = []
        for word in paragraph.split(" "):
            if inner and word != SLOT and _has_words([word]):
                word = shape(word)
            width = MAX_SLOT_WORDS if word == SLOT else int(any(c.isdigit() for c in word))
            if width and widths and widths[-1]:
                widths[-1] = min(widths[-1] + width, MAX_SLOT_WORDS)
            else:
                words.append(SLOT if width else word)
                widths.append(width)
        if _has_words(words):
            return Rule("drop", _pattern(words, widths))
    return None


def _has_words(words: Sequence[str]) -> bool:
    """Whether some word is text of its own: letters, or signs ("👁", "▲") that do not change."""
    return any(w != SLOT and any(unicodedata.category(c)[0] in "LS" for c in w) for w in words)


def _pattern(words: Sequence[str], widths: Sequence[int]) -> str:
    """A regex for the paragraph: literal words separated by one space; a slot (never two in a row) takes one
    to twice its `width` words — two fetches show a span's width only roughly — or none at all (a span that
    vanished in one reading), its own space included, so words never split and matching stays linear."""
    out = ""
    for index, (word, width) in enumerate(zip(words, widths, strict=True)):
        space = " " if index and not widths[index - 1] else ""
        if not width:  # a word may hold numbers as slots of its own ("⋯°C", "⋯時⋯分")
            out += space + re.escape(word).replace(SLOT, _NUMBER.pattern)
            continue
        body = rf"\S+(?: \S+){{0,{min(2 * width, MAX_SLOT_WORDS) - 1}}}"
        last = index + 1 == len(words)
        out += rf"(?: {body})?" if last and index else space + rf"(?:{body} )?"
    return out

"""Accuracy and speed of sentence actions and change kinds, on real texts with generated edits of known kind.

Bases: the true bodies of ../shared/corpus/extraction-dev (83 real articles) and the two seed-guardian
versions. Each base is split into sentences once (the splitter's own output is the unit of truth, so this
measures alignment and kinds, not splitting) and every sentence carries an id. Each generator makes one
edit of one kind to a copy and knows, by the ids, which sentences were added, deleted, edited or moved and
which kinds the edit makes: a sentence or paragraph added or removed, a paragraph moved past longer text,
a word replaced by an unrelated word, a typo, a number changed, a word inside a quotation changed, the
speaker of a quote changed ("said" → another verb), a correction appended, the headline changed, the byline
or the dates changed, the page removed. Targets are chosen so an edit makes one kind only (e.g. a changed
word is not next to "said" and not inside quotation marks; edits outside the lede leave paragraph 1 alone).
"combined" pairs apply a structural edit (paragraph added, removed or moved, correction, headline) and then a
sentence edit to one version.

Prints precision and recall per action (over sentence rows) and per kind (over pairs), and pairs per
second of `compare`. Target ≥ 0.95 everywhere.

Run: .venv/bin/python bench/changes.py [--seed N]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rapidfuzz.distance import OSA

from newsdelta.changes.kinds import ATTRIBUTION_CUES, compare
from newsdelta.changes.kinds import MONTHS as KIND_MONTHS
from newsdelta.changes.sentences import split
from newsdelta.text import normalise_paragraphs
from newsdelta.vocabulary import ChangeKind

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
WORD = re.compile(r"\b[^\W\d_]{4,}\b")
SPEECH = re.compile(r"\b(said|says|told)\b")
# Edits avoid the attribution cues and month names the kinds are defined by, so a changed word is only that.
CUES = re.compile(r"\b(" + "|".join(sorted(ATTRIBUTION_CUES)) + r")\b", re.I)
MONTHS = re.compile(r"\b(" + "|".join(sorted(KIND_MONTHS)) + r")\b", re.I)
QUOTE_MARKS = re.compile('[“”"«»„]')
MIN_WORDS = 6  # an edited sentence has at least this many words: in a 2-word heading one word is half of it
CORRECTIONS = (
    "Correction: An earlier version of this article misstated the figure.",
    "This article was amended on 3 March to correct the spelling of a name.",
    "An earlier version of this story gave the wrong date for the hearing.",
    "Clarification: this article has been updated to make clear who paid for the report.",
)
SPEECH_VERBS = ("claimed", "insisted", "admitted", "argued", "warned")


@dataclass(frozen=True)
class Doc:
    """A version as the generator sees it: paragraphs of (sentence id, text)."""

    title: str
    paragraphs: tuple[tuple[tuple[int, str], ...], ...]
    byline: str | None = "By A. Reporter"
    published: datetime | None = datetime(2026, 1, 1, 6, tzinfo=UTC)
    updated: datetime | None = datetime(2026, 1, 1, 6, tzinfo=UTC)
    origin: str = "fetch"
    base_max_id: int = 0

    @property
    def sentences(self) -> list[tuple[int, str]]:
        return [s for paragraph in self.paragraphs for s in paragraph]

    def version(self) -> Version:
        return Version(
            self.origin,
            self.title,
            self.byline,
            self.published,
            self.updated,
            tuple(" ".join(text for _, text in p) for p in self.paragraphs),
        )


@dataclass(frozen=True)
class Version:
    origin: str
    title: str
    byline: str | None
    published: datetime | None
    updated: datetime | None
    paragraphs: tuple[str, ...]
    standfirst: str | None = None  # the generated documents have none


@dataclass
class Edit:
    """What a generator did: the new document, which old ids it edited or moved, and the kinds it makes."""

    doc: Doc
    kinds: set[str]
    edited: set[int] = field(default_factory=set)
    moved: set[int] = field(default_factory=set)


class Ids:
    def __init__(self) -> None:
        self.next = 0

    def __call__(self) -> int:
        self.next += 1
        return self.next


def make_doc(paragraphs: list[str], ids: Ids) -> Doc | None:
    sentences = split(paragraphs)
    grouped: dict[int, list[tuple[int, str]]] = {}
    for sentence in sentences:
        grouped.setdefault(sentence.paragraph, []).append((ids(), sentence.text))
    body = tuple(tuple(group) for group in grouped.values())
    if len(body) < 5 or len(sentences) < 8:
        return None
    if not splits_as_written(Doc("", body)):
        return None
    title = " ".join(body[0][0][1].split()[:10]).rstrip(".,;:")
    return Doc(title, body, base_max_id=ids.next)


def splits_as_written(doc: Doc) -> bool:
    """Whether the splitter finds exactly the generator's sentences (e.g. not when a heading without a full
    stop got a sentence appended): only then are the sentence ids a valid truth."""
    return [s.text for s in split(doc.version().paragraphs)] == [text for _, text in doc.sentences]


def _with_sentence(doc: Doc, target: int, text: str) -> Doc:
    return replace(
        doc, paragraphs=tuple(tuple((i, text if i == target else t) for i, t in p) for p in doc.paragraphs)
    )


def _body_sentences(doc: Doc, rng: random.Random, *, lede: bool = False) -> list[tuple[int, str]]:
    """Candidate sentences to edit, shuffled: the base's own (never one a previous edit added)."""
    paragraphs = doc.paragraphs[:1] if lede else doc.paragraphs[1:]
    found = [s for p in paragraphs for s in p if s[0] <= doc.base_max_id]
    rng.shuffle(found)
    return found


def _quoted_spans(text: str) -> list[tuple[int, int]]:
    return [m.span(1) for m in re.finditer(r"“([^”“]+)”", text)]


def _inside(spans: list[tuple[int, int]], start: int) -> bool:
    return any(a <= start < b for a, b in spans)


def _plain_words(text: str) -> list[re.Match[str]]:
    """Words far from any attribution cue, outside quotation marks, not month names."""
    if QUOTE_MARKS.search(text):
        return []  # a quote may open in an earlier sentence
    cue_positions = [m.start() for m in CUES.finditer(text)]
    words = []
    for match in WORD.finditer(text):
        near = any(
            len(text[min(c, match.start()) : max(c, match.start())].split()) <= 3 for c in cue_positions
        )
        if not near and not MONTHS.fullmatch(match.group()):
            words.append(match)
    return words


def _replace_word(text: str, match: re.Match[str], word: str) -> str:
    return text[: match.start()] + word + text[match.end() :]


def _donor_word(rng: random.Random, donors: list[str], avoid: str) -> str:
    while True:
        word = rng.choice(donors)
        if OSA.distance(word.casefold(), avoid.casefold()) > 3 and not (
            MONTHS.fullmatch(word) or CUES.fullmatch(word)
        ):
            return word


def word_changed(doc: Doc, rng: random.Random, ctx: Context, *, lede: bool = False) -> Edit | None:
    for sid, text in _body_sentences(doc, rng, lede=lede):
        words = _plain_words(text)
        if words and MIN_WORDS <= len(text.split()) < 80:
            match = rng.choice(words)
            new = _replace_word(text, match, _donor_word(rng, ctx.vocabulary, match.group()))
            return Edit(
                _with_sentence(doc, sid, new), {"lede", "unannounced"} if lede else {"unannounced"}, {sid}
            )
    return None


def typo(doc: Doc, rng: random.Random, ctx: Context) -> Edit | None:
    for sid, text in _body_sentences(doc, rng):
        words = [m for m in _plain_words(text) if len(m.group()) >= 6 and m.group().islower()]
        if words and MIN_WORDS <= len(text.split()) < 80:
            match = rng.choice(words)
            word = match.group()
            k = rng.randrange(1, len(word) - 2)
            if word[k] == word[k + 1]:
                continue
            respelt = word[:k] + word[k + 1] + word[k] + word[k + 2 :]
            return Edit(
                _with_sentence(doc, sid, _replace_word(text, match, respelt)), {"typo", "unannounced"}, {sid}
            )
    return None


def number_changed(doc: Doc, rng: random.Random, ctx: Context) -> Edit | None:
    for sid, text in _body_sentences(doc, rng):
        numbers = [] if QUOTE_MARKS.search(text) else list(re.finditer(r"\d+", text))
        if numbers and len(text.split()) >= MIN_WORDS:
            match = rng.choice(numbers)
            changed = str(int(match.group()) + rng.randint(1, 9))
            return Edit(
                _with_sentence(doc, sid, _replace_word(text, match, changed)),
                {"number", "unannounced"},
                {sid},
            )
    return None


def quote_changed(doc: Doc, rng: random.Random, ctx: Context) -> Edit | None:
    for sid, text in _body_sentences(doc, rng):
        spans = _quoted_spans(text)
        words = [
            m for m in WORD.finditer(text) if _inside(spans, m.start()) and not MONTHS.fullmatch(m.group())
        ]
        words = [m for m in words if not CUES.search(text[max(0, m.start() - 30) : m.end() + 30])]
        if words:
            match = rng.choice(words)
            new = _replace_word(text, match, _donor_word(rng, ctx.vocabulary, match.group()))
            return Edit(_with_sentence(doc, sid, new), {"quote", "unannounced"}, {sid})
    return None


def attribution_changed(doc: Doc, rng: random.Random, ctx: Context) -> Edit | None:
    for sid, text in _body_sentences(doc, rng):
        match = SPEECH.search(text)
        if match and not QUOTE_MARKS.search(text) and MIN_WORDS <= len(text.split()) < 80:
            new = _replace_word(text, match, rng.choice(SPEECH_VERBS))
            return Edit(_with_sentence(doc, sid, new), {"attribution", "unannounced"}, {sid})
    return None


def _insert_paragraph(doc: Doc, at: int, paragraph: tuple[tuple[int, str], ...]) -> Doc:
    return replace(doc, paragraphs=(*doc.paragraphs[:at], paragraph, *doc.paragraphs[at:]))


def paragraph_added(doc: Doc, rng: random.Random, ctx: Context) -> Edit | None:
    at = rng.randrange(1, len(doc.paragraphs) + 1)
    return Edit(
        _insert_paragraph(doc, at, ((ctx.ids(), rng.choice(ctx.foreign)),)),
        {"paragraphs_added", "unannounced"},
    )


def sentence_added(doc: Doc, rng: random.Random, ctx: Context) -> Edit | None:
    at = rng.randrange(1, len(doc.paragraphs))
    paragraph = (*doc.paragraphs[at], (ctx.ids(), rng.choice(ctx.foreign)))
    paragraphs = (*doc.paragraphs[:at], paragraph, *doc.paragraphs[at + 1 :])
    return Edit(replace(doc, paragraphs=paragraphs), {"unannounced"})


def paragraph_removed(doc: Doc, rng: random.Random, ctx: Context) -> Edit | None:
    at = rng.randrange(1, len(doc.paragraphs))
    return Edit(
        replace(doc, paragraphs=doc.paragraphs[:at] + doc.paragraphs[at + 1 :]),
        {"paragraphs_removed", "unannounced"},
    )


def sentence_removed(doc: Doc, rng: random.Random, ctx: Context) -> Edit | None:
    candidates = [i for i in range(1, len(doc.paragraphs)) if len(doc.paragraphs[i]) > 1]
    if not candidates:
        return None
    at = rng.choice(candidates)
    kept = list(doc.paragraphs[at])
    kept.pop(rng.randrange(len(kept)))
    paragraphs = (*doc.paragraphs[:at], tuple(kept), *doc.paragraphs[at + 1 :])
    return Edit(replace(doc, paragraphs=paragraphs), {"unannounced"})


def paragraph_moved(doc: Doc, rng: random.Random, ctx: Context) -> Edit | None:
    """A paragraph moved past at least two others holding more sentences than it (so the move is unambiguous)."""
    for _ in range(20):
        source = rng.randrange(1, len(doc.paragraphs))
        target = rng.randrange(1, len(doc.paragraphs))
        low, high = sorted((source, target))
        passed = doc.paragraphs[low + 1 : high + 1] if target > source else doc.paragraphs[low:high]
        if abs(source - target) >= 2 and sum(map(len, passed)) > len(doc.paragraphs[source]):
            paragraphs = list(doc.paragraphs)
            moving = paragraphs.pop(source)
            paragraphs.insert(target, moving)
            return Edit(
                replace(doc, paragraphs=tuple(paragraphs)),
                {"reordered", "unannounced"},
                moved={i for i, _ in moving},
            )
    return None


def correction_appended(doc: Doc, rng: random.Random, ctx: Context) -> Edit | None:
    note = ((ctx.ids(), rng.choice(CORRECTIONS)),)
    return Edit(_insert_paragraph(doc, len(doc.paragraphs), note), {"correction_note", "paragraphs_added"})


def announced_edit(doc: Doc, rng: random.Random, ctx: Context) -> Edit | None:
    edit = word_changed(doc, rng, ctx)
    if edit is None:
        return None
    later = (doc.updated or datetime(2026, 1, 1, tzinfo=UTC)) + timedelta(hours=2)
    return Edit(replace(edit.doc, updated=later), {"updated_date"}, edit.edited)


def headline_changed(doc: Doc, rng: random.Random, ctx: Context) -> Edit | None:
    words = doc.title.split()
    words[rng.randrange(len(words))] = _donor_word(rng, ctx.vocabulary, "")
    return Edit(replace(doc, title=" ".join(words)), {"headline"})


def byline_changed(doc: Doc, rng: random.Random, ctx: Context) -> Edit | None:
    return Edit(replace(doc, byline="By B. Writer and C. Editor"), {"byline"})


def published_changed(doc: Doc, rng: random.Random, ctx: Context) -> Edit | None:
    return Edit(replace(doc, published=datetime(2026, 1, 2, 9, tzinfo=UTC)), {"published_date"})


def removed(doc: Doc, rng: random.Random, ctx: Context) -> Edit | None:
    return Edit(replace(doc, paragraphs=(), origin="removed"), {"removed"})


def lede_changed(doc: Doc, rng: random.Random, ctx: Context) -> Edit | None:
    return word_changed(doc, rng, ctx, lede=True)


Generator = Callable[[Doc, random.Random, "Context"], Edit | None]
GENERATORS: dict[str, Generator] = {
    "word changed": word_changed,
    "lede word changed": lede_changed,
    "typo": typo,
    "number changed": number_changed,
    "quote changed": quote_changed,
    "speaker verb changed": attribution_changed,
    "paragraph added": paragraph_added,
    "sentence added": sentence_added,
    "paragraph removed": paragraph_removed,
    "sentence removed": sentence_removed,
    "paragraph moved": paragraph_moved,
    "correction appended": correction_appended,
    "edit with updated date": announced_edit,
    "headline changed": headline_changed,
    "byline changed": byline_changed,
    "published date changed": published_changed,
    "page removed": removed,
}


# Combined pairs: one structural edit (never touching the lede), then one sentence edit of an original sentence.
STRUCTURAL = [paragraph_added, paragraph_removed, paragraph_moved, correction_appended, headline_changed]
SENTENCE_EDITS = [word_changed, typo, number_changed, quote_changed, attribution_changed]


@dataclass
class Context:
    ids: Ids
    vocabulary: list[str]
    foreign: list[str]  # sentences of other articles, to add


def true_rows(old: Doc, edit: Edit) -> set[tuple[int | None, int | None, str]]:
    old_index = {sid: n for n, (sid, _) in enumerate(old.sentences)}
    new_sentences = edit.doc.sentences if edit.doc.origin != "removed" else []
    rows: set[tuple[int | None, int | None, str]] = set()
    for n, (sid, _) in enumerate(new_sentences):
        if sid not in old_index:
            rows.add((None, n, "addition"))
        elif sid in edit.moved:
            rows.add((old_index[sid], n, "refactor"))
        else:
            rows.add((old_index[sid], n, "edit" if sid in edit.edited else "unchanged"))
    present = {sid for sid, _ in new_sentences}
    rows.update((i, None, "deletion") for sid, i in old_index.items() if sid not in present)
    return rows


def load_bases(ids: Ids) -> list[Doc]:
    truth = json.loads((CORPUS / "extraction-dev" / "ground-truth.json").read_text(encoding="utf-8"))
    texts = [list(normalise_paragraphs(re.split(r"\n+", item["articleBody"]))) for item in truth.values()]
    for name in ("v3.txt", "v4.txt"):
        lines = (CORPUS / "seed-guardian" / name).read_text(encoding="utf-8").splitlines()
        texts.append([line for line in lines[2:] if line])
    return [doc for doc in (make_doc(text, ids) for text in texts) if doc is not None]


def score(counts: Counter[tuple[str, str]], names: list[str]) -> list[tuple[str, int, float, float]]:
    table = []
    for name in names:
        tp, fp, fn = counts[(name, "tp")], counts[(name, "fp")], counts[(name, "fn")]
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        table.append((name, tp + fn, precision, recall))
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--verbose", action="store_true", help="show the edited sentences of wrong pairs")
    parser.add_argument("--rounds", type=int, default=2, help="edits of each kind per base text")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    ids = Ids()
    bases = load_bases(ids)
    vocabulary = sorted(
        {w for doc in bases for _, text in doc.sentences for w in WORD.findall(text) if w.islower()}
    )
    actions: Counter[tuple[str, str]] = Counter()
    kinds: Counter[tuple[str, str]] = Counter()
    per_generator: Counter[str] = Counter()
    misses: list[str] = []
    unsplittable = 0
    elapsed = 0.0
    pairs = 0
    for index, base in enumerate(bases):
        others = [
            s for other in bases if other is not base for _, s in other.sentences if 8 < len(s.split()) < 40
        ]
        ctx = Context(ids, vocabulary, [s for s in others if not re.search(r"correct|amend|clarif", s, re.I)])
        trials = [(name, [generator]) for name, generator in GENERATORS.items() for _ in range(args.rounds)]
        trials += [
            ("combined", [rng.choice(STRUCTURAL), rng.choice(SENTENCE_EDITS)]) for _ in range(args.rounds * 3)
        ]
        for name, generators in trials:
            edit = apply(base, generators, rng, ctx)
            if edit is None:
                continue
            if not splits_as_written(edit.doc):
                unsplittable += 1
                continue
            start = time.perf_counter()
            comparison = compare(base.version(), edit.doc.version())
            elapsed += time.perf_counter() - start
            pairs += 1
            per_generator[name] += 1
            predicted = {(p.old, p.new, p.action.value) for p in comparison.pairs}
            expected = true_rows(base, edit)
            for row in predicted | expected:
                actions[(row[2], _verdict(row in predicted, row in expected))] += 1
            for kind in set(comparison.kinds) | edit.kinds:
                kinds[(kind, _verdict(kind in comparison.kinds, kind in edit.kinds))] += 1
            if predicted != expected or set(comparison.kinds) != edit.kinds:
                misses.append(f"base {index} {name}: kinds {comparison.kinds} expected {sorted(edit.kinds)}")
                if args.verbose:
                    before, after = dict(base.sentences), dict(edit.doc.sentences)
                    misses.extend(f"    {before[i]!r} → {after.get(i)!r}" for i in sorted(edit.edited))
    print(
        f"{len(bases)} base texts, {pairs} version pairs ({', '.join(f'{n} {c}' for n, c in per_generator.items())})"
    )
    print(f"\n{'action':<20}{'rows':>8}{'precision':>11}{'recall':>8}")
    for name, support, precision, recall in score(
        actions, ["unchanged", "addition", "deletion", "edit", "refactor"]
    ):
        print(f"{name:<20}{support:>8}{precision:>11.3f}{recall:>8.3f}")
    print(f"\n{'kind':<20}{'pairs':>8}{'precision':>11}{'recall':>8}")
    for name, support, precision, recall in score(kinds, list(ChangeKind)):
        print(f"{name:<20}{support:>8}{precision:>11.3f}{recall:>8.3f}")
    print(
        f"\n{pairs / elapsed:,.0f} pairs/s ({elapsed / pairs * 1000:.2f} ms per pair, median article {median_sentences(bases)} sentences)"
    )
    print(
        f"{len(misses)} pairs not entirely right; {unsplittable} edits left out (the edit changed the sentence split)"
    )
    for line in misses[: 40 if args.verbose else 15]:
        print("  ", line)


def _verdict(predicted: bool, expected: bool) -> str:
    return "tp" if predicted and expected else "fp" if predicted else "fn"


def apply(base: Doc, generators: list[Generator], rng: random.Random, ctx: Context) -> Edit | None:
    """One generator's edit, or several in turn (their truths merge: kinds, edited and moved sentences)."""
    doc, kinds, edited, moved = base, set(), set(), set()
    for generator in generators:
        edit = generator(doc, rng, ctx)
        if edit is None:
            return None
        doc, kinds, edited, moved = edit.doc, kinds | edit.kinds, edited | edit.edited, moved | edit.moved
    if kinds & {"updated_date", "correction_note"}:
        kinds.discard("unannounced")  # announced after all
    return Edit(doc, kinds, edited, moved)


def median_sentences(bases: list[Doc]) -> int:
    sizes = sorted(len(doc.sentences) for doc in bases)
    return sizes[len(sizes) // 2]


if __name__ == "__main__":
    main()

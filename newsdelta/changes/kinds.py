"""What kind of change a new version made, derived from the sentence alignment and the page's fields.

Each kind is a `ChangeKind`, a stable name (the API, feeds, CLI and export use them as they are):

- headline, standfirst, byline, published_date, updated_date: the field differs (text compared normalised;
  the standfirst is the summary under the headline, see newsdelta.extract.standfirst);
- lede: the sentences of the first paragraph differ;
- correction_note: a sentence added or edited that reads like a correction ("Correction:", "This article was
  amended on…", "An earlier version of this article…"; cue lists per language below);
- quote: in an edited sentence, a changed word lies inside quotation marks (a quote may open in an earlier
  sentence: a closing mark with no opening one quotes everything before it);
- number: in an edited sentence, a changed token has a digit or is a month name;
- attribution: in an edited sentence, a changed word is an attribution cue (said, according, …) or next to one
  (within two tokens: the speaker changed);
- paragraphs_added / paragraphs_removed: a paragraph whose every sentence was added / deleted;
- reordered: a sentence moved (a refactor);
- typo: an edit that respelt one word and nothing else (at most two characters changed, under half the
  word); a typo fix counts as nothing else;
- removed: the page went away (a removal version: no other kind);
- unannounced: the body changed, yet the updated date did not and no correction note came with it.

A `reparse` version is the project's own re-reading of stored evidence, not an edit: it gets no kinds.
Size is in words: an added or deleted sentence counts its words, an edited one the larger of the words it
lost and gained; the headline and the standfirst count the same way.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from rapidfuzz.distance import OSA, Indel

from newsdelta.changes.align import TOKEN, Action, Encoder, SentencePair, align
from newsdelta.changes.sentences import Sentence, split, wordlist
from newsdelta.text import normalise
from newsdelta.vocabulary import ChangeKind, Origin

_CORRECTION_CUES = [
    # English
    r"^(correction|clarification|editor['’]?s note|corrections and clarifications)\s*[:.\-–—]",
    r"\b(this|the) (article|story|report|piece|headline) (was|has been|is being) (amended|corrected|changed)\b",
    r"\b(an|a) (earlier|previous|original) version of this (article|story|report|piece)\b",
    r"\bwe (have )?(corrected|amended) (this|the|an)\b",
    # French
    r"^(rectificatif|erratum|correction|précision)\s*:",
    r"\bune (précédente|première) version de cet article\b",
    r"\bcet article a été (modifié|corrigé|rectifié)\b",
    # German
    r"^(korrektur|berichtigung|richtigstellung|anmerkung der redaktion)\s*:",
    r"\bin einer (früheren|ersten|vorherigen) version (dieses|des) (artikels|textes|beitrags)\b",
    r"\b(dieser|der) (artikel|text|beitrag) wurde (korrigiert|berichtigt)\b",
    # Spanish
    r"^(fe de errores|fe de erratas|corrección|rectificación|aclaración)\s*:",
    r"\buna versión anterior de (este|esta) (artículo|nota|noticia|información)\b",
    r"\beste artículo (fue|ha sido) (corregido|rectificado)\b",
    # Italian, Portuguese
    r"^(rettifica|correzione|errata corrige|correção|errata)\s*:",
    r"\buna (precedente|prima) versione di questo articolo\b",
    r"\buma versão anterior (deste|desta) (texto|reportagem|matéria|artigo)\b",
]
CORRECTION = re.compile("|".join(f"(?:{cue})" for cue in _CORRECTION_CUES), re.IGNORECASE)

ATTRIBUTION_CUES = wordlist(
    """
    said says say told tells according stated claimed claims insisted announced confirmed denied
    spokesperson spokesman spokeswoman quoted reportedly alleged alleges wrote tweeted replied warned argued
    admitted added
    déclaré dit selon affirmé affirme indiqué expliqué précisé ajouté estimé porte-parole
    sagte sagt sagten laut zufolge erklärte betonte sprecher sprecherin
    dijo dice según afirmó declaró explicó señaló añadió aseguró portavoz
    detto secondo dichiarato affermato disse segundo afirmou declarou
    """
)
ATTRIBUTION_REACH = 2

MONTHS = wordlist(
    """
    january february march april may june july august september october november december
    janvier février mars avril mai juin juillet août septembre octobre novembre décembre
    januar februar märz juni juli oktober dezember
    enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre
    gennaio febbraio aprile maggio giugno luglio settembre ottobre
    janeiro fevereiro março maio junho setembro outubro novembro dezembro
    """
)

_OPENING_QUOTES = "“«„「『‹"
_CLOSING_QUOTES = "”»」』›"
_WORD = re.compile(r"\w+")


class VersionLike(Protocol):
    """The fields a comparison reads: a stored `Version` or anything shaped like one."""

    @property
    def origin(self) -> Origin: ...
    @property
    def title(self) -> str: ...
    @property
    def standfirst(self) -> str | None: ...
    @property
    def byline(self) -> str | None: ...
    @property
    def published(self) -> datetime | None: ...
    @property
    def updated(self) -> datetime | None: ...
    @property
    def paragraphs(self) -> Sequence[str]: ...


@dataclass(frozen=True, slots=True)
class Comparison:
    """A version compared with its predecessor: the sentence rows, the kinds (in ChangeKind order) and the size."""

    old_sentences: list[Sentence]
    new_sentences: list[Sentence]
    pairs: list[SentencePair]
    kinds: list[ChangeKind]
    size_words: int
    counts: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True, slots=True)
class _TokenChange:
    """Both sides' tokens and the indexes of those the edit touched."""

    old_tokens: list[str]
    new_tokens: list[str]
    old_changed: list[int]
    new_changed: list[int]

    @property
    def respelt(self) -> tuple[str, str] | None:
        """The (old, new) word when the edit replaced exactly one token by one token."""
        if len(self.old_changed) == 1 and len(self.new_changed) == 1:
            return self.old_tokens[self.old_changed[0]], self.new_tokens[self.new_changed[0]]
        return None


def compare(old: VersionLike, new: VersionLike) -> Comparison:
    """Align `new` against its predecessor `old` and name the kinds of change."""
    old_sentences = split(old.paragraphs)
    new_sentences = split(new.paragraphs) if new.origin != Origin.REMOVED else []
    pairs = align([s.text for s in old_sentences], [s.text for s in new_sentences])
    size = 0
    if new.origin != Origin.REMOVED:
        size = _title_size(old.title, new.title) + _title_size(old.standfirst or "", new.standfirst or "")
    size += sum(_pair_size(pair, old_sentences, new_sentences) for pair in pairs)
    if new.origin == Origin.REMOVED:
        kinds = {ChangeKind.REMOVED}
    elif new.origin == Origin.REPARSE:
        kinds = set()
    else:
        kinds = _kinds(old, new, old_sentences, new_sentences, pairs)
    counts = Counter(pair.action.value for pair in pairs)
    return Comparison(
        old_sentences, new_sentences, pairs, [k for k in ChangeKind if k in kinds], size, counts
    )


def _kinds(
    old: VersionLike,
    new: VersionLike,
    old_sentences: list[Sentence],
    new_sentences: list[Sentence],
    pairs: list[SentencePair],
) -> set[ChangeKind]:
    kinds: set[ChangeKind] = set()
    if normalise(old.title) != normalise(new.title):
        kinds.add(ChangeKind.HEADLINE)
    if normalise(old.standfirst or "") != normalise(new.standfirst or ""):
        kinds.add(ChangeKind.STANDFIRST)
    if normalise(old.byline or "") != normalise(new.byline or ""):
        kinds.add(ChangeKind.BYLINE)
    if old.published != new.published:
        kinds.add(ChangeKind.PUBLISHED_DATE)
    if old.updated != new.updated:
        kinds.add(ChangeKind.UPDATED_DATE)
    if _paragraph(old_sentences, 0) != _paragraph(new_sentences, 0):
        kinds.add(ChangeKind.LEDE)
    kinds |= _whole_paragraphs(old_sentences, new_sentences, pairs)
    body_changed = False
    for pair in pairs:
        if pair.action is Action.UNCHANGED:
            continue
        body_changed = True
        if pair.action is Action.REFACTOR:
            kinds.add(ChangeKind.REORDERED)
        is_new_text = pair.old is None or pair.similarity < 1.0
        if pair.new is not None and is_new_text and CORRECTION.search(new_sentences[pair.new].text):
            kinds.add(ChangeKind.CORRECTION_NOTE)
        if pair.old is not None and pair.new is not None and pair.similarity < 1.0:
            kinds |= _edit_kinds(old_sentences[pair.old].text, new_sentences[pair.new].text)
    if body_changed and ChangeKind.UPDATED_DATE not in kinds and ChangeKind.CORRECTION_NOTE not in kinds:
        kinds.add(ChangeKind.UNANNOUNCED)
    return kinds


def _paragraph(sentences: list[Sentence], index: int) -> list[str]:
    return [s.text for s in sentences if s.paragraph == index]


def _whole_paragraphs(
    old_sentences: list[Sentence], new_sentences: list[Sentence], pairs: list[SentencePair]
) -> set[ChangeKind]:
    """paragraphs_added / _removed: a paragraph none of whose sentences has a counterpart."""
    matched_new = {p.new for p in pairs if p.old is not None and p.new is not None}
    matched_old = {p.old for p in pairs if p.old is not None and p.new is not None}
    kinds: set[ChangeKind] = set()
    if _some_paragraph_unmatched(new_sentences, matched_new):
        kinds.add(ChangeKind.PARAGRAPHS_ADDED)
    if _some_paragraph_unmatched(old_sentences, matched_old):
        kinds.add(ChangeKind.PARAGRAPHS_REMOVED)
    return kinds


def _some_paragraph_unmatched(sentences: list[Sentence], matched: set[int]) -> bool:
    touched = {s.paragraph for index, s in enumerate(sentences) if index in matched}
    return any(s.paragraph not in touched for s in sentences)


def _edit_kinds(old_text: str, new_text: str) -> set[ChangeKind]:
    """quote / number / attribution / typo for one edited sentence."""
    change = _token_change(old_text, new_text)
    if change.respelt is not None and _is_typo(*change.respelt):
        return {ChangeKind.TYPO}
    kinds: set[ChangeKind] = set()
    for text, tokens, changed in (
        (old_text, change.old_tokens, change.old_changed),
        (new_text, change.new_tokens, change.new_changed),
    ):
        if not changed:
            continue
        if any(_is_numeric(tokens[i]) for i in changed):
            kinds.add(ChangeKind.NUMBER)
        quoted = _quoted(text)
        if any(quoted[i] for i in changed if _WORD.fullmatch(tokens[i])):
            kinds.add(ChangeKind.QUOTE)
        if _near_attribution(tokens, changed):
            kinds.add(ChangeKind.ATTRIBUTION)
    return kinds


def _token_change(old_text: str, new_text: str) -> _TokenChange:
    old_tokens, new_tokens = TOKEN.findall(old_text), TOKEN.findall(new_text)
    encode = Encoder()
    old_changed: list[int] = []
    new_changed: list[int] = []
    for op in Indel.opcodes(encode.tokens(old_tokens), encode.tokens(new_tokens)):
        if op.tag != "equal":
            old_changed.extend(range(op.src_start, op.src_end))
            new_changed.extend(range(op.dest_start, op.dest_end))
    return _TokenChange(old_tokens, new_tokens, old_changed, new_changed)


def _is_typo(old: str, new: str) -> bool:
    if not (old.isalpha() and new.isalpha()):
        return False
    distance = OSA.distance(old, new)
    return distance <= 2 and distance < max(len(old), len(new)) / 2


def _is_numeric(token: str) -> bool:
    return any(c.isdigit() for c in token) or token.casefold() in MONTHS


def _near_attribution(tokens: list[str], changed: list[int]) -> bool:
    cues = [i for i, token in enumerate(tokens) if token.casefold() in ATTRIBUTION_CUES]
    return any(
        abs(i - cue) <= ATTRIBUTION_REACH and _WORD.fullmatch(tokens[i]) and not _is_numeric(tokens[i])
        for i in changed
        for cue in cues
    )


def _quoted(text: str) -> list[bool]:
    """For each token of `text`, whether it lies inside quotation marks."""
    inside = False
    flags: list[bool] = []
    for match in TOKEN.finditer(text):
        token = match.group()
        if token in _OPENING_QUOTES or (token == '"' and not inside):
            inside = True
        elif token in _CLOSING_QUOTES or token == '"':
            if not inside:  # the quote began in an earlier sentence
                flags = [True] * len(flags)
            inside = False
        flags.append(inside)
    return flags


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def _title_size(old: str, new: str) -> int:
    if normalise(old) == normalise(new):
        return 0
    return _edit_size(old, new)


def _edit_size(old: str, new: str) -> int:
    change = _token_change(old, new)
    lost = sum(1 for i in change.old_changed if _WORD.fullmatch(change.old_tokens[i]))
    gained = sum(1 for i in change.new_changed if _WORD.fullmatch(change.new_tokens[i]))
    return max(lost, gained)


def _pair_size(pair: SentencePair, old: list[Sentence], new: list[Sentence]) -> int:
    if pair.old is None and pair.new is not None:
        return _words(new[pair.new].text)
    if pair.new is None and pair.old is not None:
        return _words(old[pair.old].text)
    if pair.old is None or pair.new is None:
        return 0
    if pair.action in (Action.EDIT, Action.REFACTOR) and pair.similarity < 1.0:
        return _edit_size(old[pair.old].text, new[pair.new].text)
    return 0

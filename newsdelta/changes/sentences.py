"""Sentence splitting for news prose, in any script: deterministic, fast and free of language models.

A boundary is terminal punctuation (. ! ? … and the CJK 。！？), with any closing quotes or brackets, where the
next sentence starts: after whitespace, a character that is not lower-case (upper-case, a digit, an opening
quote, or a letter of a script without case); CJK stops need no whitespace. A full stop is not a boundary after
an initial ("J. K. Rowling"), an abbreviation with inner stops ("U.S.", "z.B.") or a listed abbreviation
(titles, months, "No." before a number), the lists per language being the only language-specific part.

pysbd and syntok (both MIT) were considered: pysbd needs the article's language up front and costs about a
millisecond per paragraph, syntok covers four languages; news prose needs few rules, and the stored alignments
refer to sentence indexes, so the splitter must never change behind the store's back (see ALGORITHM in align).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass


def wordlist(words: str) -> frozenset[str]:
    """A set of words written as one whitespace-separated string (long per-language lists read better so)."""
    return frozenset(words.split())


# Lower-cased, without the full stop. Titles and common abbreviations in English, French, German, Spanish,
# Italian and Portuguese; months are here because "Jan. 5" is a date, not the end of a sentence.
ABBREVIATIONS = wordlist(
    """
    mr mrs ms mx dr prof rev hon sen rep gov gen lt col sgt capt cmdr adm maj cpl pte st ste mt ft
    jr sr snr jnr co corp inc ltd plc bros dept univ approx vs etc al cf ca fig vol pp
    jan feb apr jun jul aug sep sept oct nov dec
    mme mlle mgr
    nr bzw ca evtl ggf vgl hr fr dipl ing
    sra srta dña dª núm
    sig sigg dott ing avv
    """
)
# Abbreviations that end a sentence only when no number follows ("No. 10 Downing Street", "Art. 5").
BEFORE_NUMBER = frozenset({"no", "nos", "nr", "art", "p", "pp", "op", "vol", "ch", "sec", "para", "tel"})

# Closing marks after the stop; French spacing puts a space before » (a straight quote after a space opens).
_CANDIDATE = re.compile(r"([.!?…]+|[。！？]+)((?:[\"'”’»)\]」』]|\s»)*)(\s*)")
_LETTERS_WITH_STOPS = re.compile(r"(?:[^\W\d_]{1,3}\.)+[^\W\d_]{1,3}")
_OPENERS = "\"'“‘«(¿¡[「『„"
_TOKEN_BEFORE = re.compile(r"(\S+)$")


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence and the paragraph it sits in (paragraph boundaries always end a sentence)."""

    paragraph: int
    text: str


def split_paragraph(paragraph: str) -> list[str]:
    """The sentences of one paragraph, stripped; nothing of the text is lost except the spaces between."""
    sentences: list[str] = []
    start = 0
    for match in _CANDIDATE.finditer(paragraph):
        end = match.end(2)
        if match.end() >= len(paragraph):
            break
        if _is_boundary(paragraph, match):
            piece = paragraph[start:end].strip()
            if piece:
                sentences.append(piece)
            start = match.end()
    rest = paragraph[start:].strip()
    if rest:
        sentences.append(rest)
    return sentences


def split(paragraphs: Sequence[str]) -> list[Sentence]:
    """Every sentence of a version's body, in reading order."""
    return [
        Sentence(index, sentence)
        for index, paragraph in enumerate(paragraphs)
        for sentence in split_paragraph(paragraph)
    ]


def _is_boundary(text: str, match: re.Match[str]) -> bool:
    stops, spaces = match.group(1), match.group(3)
    following = text[match.end() :].lstrip(_OPENERS)
    if stops[0] in "。！？":
        return True
    if not spaces or not following:
        return False  # "£2.4m", "example.com", "?!" inside a word
    if following[0].islower():
        return False  # "e.g. the", "he asked?” she said" — the sentence goes on
    if stops != ".":
        return True
    return not _is_abbreviation(text[: match.start()], following)


def _is_abbreviation(before: str, following: str) -> bool:
    found = _TOKEN_BEFORE.search(before)
    if found is None:
        return False
    token = found.group(1).lstrip(_OPENERS)
    word = token.casefold()
    if len(token) == 1 and token.isalpha():
        return True  # an initial
    if _LETTERS_WITH_STOPS.fullmatch(token):
        return True  # U.S., z.B, a.m
    if word in BEFORE_NUMBER:
        return following[0].isdigit()
    return word in ABBREVIATIONS

"""Extraction quality and speed on ../shared/corpus/extraction-dev, scored exactly as the benchmark does.

Run: `.venv/bin/python bench/extraction.py`. Scores newsdelta's generic extractor, trafilatura alone (its
defaults, as the benchmark ran it) and readability-lxml in the same run, so the figures compare like with like.
The scoring follows scrapinghub/article-extraction-benchmark's evaluate.py (see the corpus README).

The pages are split into two halves by id: half A holds the ids whose SHA-256 starts with an even hex digit,
half B the rest. The split depends on each id alone, so adding pages never moves one between halves. Rules and
settings are developed on one half and kept only if they also help the other; both halves are reported.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEV_SET = REPO_ROOT.parent / "shared" / "corpus" / "extraction-dev"
SHINGLE_SIZE = 4
sys.path.insert(0, str(REPO_ROOT))  # run as a script from a checkout, installed or not

_TOKEN = re.compile(r"\w+")

TpFpFn = tuple[float, float, float]


def tokenize(text: str | None) -> list[str]:
    return _TOKEN.findall(text or "")


def shingles(text: str | None, size: int = SHINGLE_SIZE) -> Counter[tuple[str, ...]]:
    """Runs of `size` tokens as a multiset; a shorter text gives one short shingle, an empty one none."""
    tokens = tokenize(text)
    runs = (tuple(tokens[i : i + size]) for i in range(max(1, len(tokens) - size + 1)))
    return Counter(run for run in runs if run)


def page_counts(true: str | None, predicted: str | None) -> TpFpFn:
    """tp/fp/fn over shingles, scaled to sum to 1 so that every page weighs the same."""
    expected, got = shingles(true), shingles(predicted)
    tp = float(sum((expected & got).values()))
    fp = float(sum((got - expected).values()))
    fn = float(sum((expected - got).values()))
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (tp, fp, fn)


def _hit_share(tp: float, wrong: float, other_wrong: float) -> float:
    """tp / (tp + wrong), with the benchmark's edge cases: 1 when nothing at all is wrong, 0 when nothing hit."""
    if wrong == other_wrong == 0:
        return 1.0
    if tp == wrong == 0:
        return 0.0
    return tp / (tp + wrong)


def precision_score(tp: float, fp: float, fn: float) -> float:
    return _hit_share(tp, fp, fn)


def recall_score(tp: float, fp: float, fn: float) -> float:
    return _hit_share(tp, fn, fp)


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float
    accuracy: float


def score(pairs: Sequence[tuple[str | None, str | None]]) -> Score:
    """Mean page precision and recall (pages with nothing to measure left out), F1 of the means, accuracy."""
    counts = [page_counts(true, predicted) for true, predicted in pairs]
    precision = statistics.mean(precision_score(*c) for c in counts if c[0] + c[1] > 0)
    recall = statistics.mean(recall_score(*c) for c in counts if c[0] + c[2] > 0)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    accuracy = statistics.mean(tokenize(true) == tokenize(predicted) for true, predicted in pairs)
    return Score(precision, recall, f1, accuracy)


@dataclass(frozen=True)
class Page:
    id: str
    url: str
    html: str
    body: str

    @property
    def half(self) -> str:
        """ "A" or "B", from the id's hash alone (see the module docstring)."""
        return "A" if int(hashlib.sha256(self.id.encode()).hexdigest()[0], 16) % 2 == 0 else "B"


def load_pages(root: Path = DEV_SET) -> list[Page]:
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for page_id, item in sorted(truth.items()):
        with gzip.open(root / "html" / f"{page_id}.html.gz", "rt", encoding="utf-8") as f:
            pages.append(Page(page_id, item.get("url", ""), f.read(), item.get("articleBody", "")))
    return pages


Extractor = Callable[[str, str], str]


def newsdelta_generic(html: str, url: str) -> str:
    from newsdelta.extract.base import ExtractionError
    from newsdelta.extract.generic import GENERIC

    try:
        return "\n".join(GENERIC.parse(html, url).paragraphs)
    except ExtractionError:
        return ""


def trafilatura_alone(html: str, url: str) -> str:
    import trafilatura

    return trafilatura.extract(html, include_comments=False) or ""


def readability_lxml(html: str, url: str) -> str:
    import lxml.html
    from readability import Document

    summary = Document(html).summary(html_partial=True)
    return lxml.html.fromstring(summary).text_content() if summary.strip() else ""


EXTRACTORS: dict[str, Extractor] = {
    "newsdelta generic": newsdelta_generic,
    "trafilatura alone": trafilatura_alone,
    "readability-lxml": readability_lxml,
}


@dataclass(frozen=True)
class Run:
    name: str
    score: Score
    pages_per_second: float
    outputs: dict[str, str]


def timed_pass(extractor: Extractor, pages: Sequence[Page]) -> tuple[float, dict[str, str]]:
    """CPU seconds of one pass (this process only, so other work on a shared machine is not counted)."""
    started = time.process_time()
    outputs = {page.id: extractor(page.html, page.url) for page in pages}
    return time.process_time() - started, outputs


def run_all(names: Sequence[str], pages: Sequence[Page], rounds: int) -> list[Run]:
    """Rounds interleave the extractors so that a slow spell of the machine hits them all alike; each
    extractor's speed is its best round."""
    best = dict.fromkeys(names, float("inf"))
    outputs: dict[str, dict[str, str]] = {}
    for _ in range(rounds):
        for name in names:
            seconds, outputs[name] = timed_pass(EXTRACTORS[name], pages)
            best[name] = min(best[name], seconds)
    return [
        Run(
            name,
            score([(p.body, outputs[name][p.id]) for p in pages]),
            len(pages) / best[name],
            outputs[name],
        )
        for name in names
    ]


def page_f1(page: Page, output: str) -> float:
    tp, fp, fn = page_counts(page.body, output)
    p, r = precision_score(tp, fp, fn), recall_score(tp, fp, fn)
    return 2 * p * r / (p + r) if p + r else 0.0


def half_scores(run: Run, pages: Sequence[Page]) -> dict[str, Score]:
    halves = sorted({p.half for p in pages})
    return {h: score([(p.body, run.outputs[p.id]) for p in pages if p.half == h]) for h in halves}


def print_table(runs: Sequence[Run], pages: Sequence[Page]) -> None:
    sizes = {h: sum(p.half == h for p in pages) for h in sorted({p.half for p in pages})}
    print(f"extraction-dev: {len(pages)} pages (halves {sizes}), shingles of {SHINGLE_SIZE} tokens")
    print(
        f"{'extractor':<20} {'F1':>6} {'F1 A':>6} {'F1 B':>6} {'prec':>6} {'recall':>6} {'acc':>6} "
        f"{'pages/s':>8}  (per CPU second)"
    )
    for r in runs:
        s, halves = r.score, half_scores(r, pages)
        print(
            f"{r.name:<20} {s.f1:6.3f} {halves['A'].f1:6.3f} {halves['B'].f1:6.3f} {s.precision:6.3f} "
            f"{s.recall:6.3f} {s.accuracy:6.3f} {r.pages_per_second:8.1f}"
        )


def print_deltas(runs: Sequence[Run], pages: Sequence[Page], baseline: str, n: int) -> None:
    """Each run's pages furthest below `baseline` (page F1), the target being none more than 0.05 below."""
    base = next((r for r in runs if r.name == baseline), None)
    if base is None:
        return
    for r in runs:
        if r is base:
            continue
        deltas = sorted(
            (page_f1(p, r.outputs[p.id]) - page_f1(p, base.outputs[p.id]), p.half, p.id, p.url) for p in pages
        )
        below = sum(d < -0.05 for d, *_ in deltas)
        print(f"\n{r.name} vs {baseline}: {below} pages more than 0.05 below; worst {n} (ΔF1 half id url)")
        for delta, half, page_id, url in deltas[:n]:
            print(f"  {delta:+.3f} {half} {page_id[:12]} {url}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(EXTRACTORS), action="append", help="run just these")
    parser.add_argument("--worst", type=int, default=5, help="list the N lowest-F1 pages per extractor")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes per extractor; the best counts")
    args = parser.parse_args()
    pages = load_pages()
    names = args.only or list(EXTRACTORS)
    for page in pages[:3]:  # warm imports and caches so the first extractor is not charged for them
        for name in names:
            EXTRACTORS[name](page.html, page.url)
    runs = run_all(names, pages, args.rounds)
    print_table(runs, pages)
    print_deltas(runs, pages, "trafilatura alone", args.worst)
    for r in runs:
        print_worst(r, pages, args.worst)
    print_metadata(pages)
    print_fallback_share()


def print_worst(result: Run, pages: Sequence[Page], n: int) -> None:
    if n <= 0:
        return
    per_page = []
    for page in pages:
        tp, fp, fn = page_counts(page.body, result.outputs[page.id])
        per_page.append(
            (
                page_f1(page, result.outputs[page.id]),
                precision_score(tp, fp, fn),
                recall_score(tp, fp, fn),
                page,
            )
        )
    print(f"\n{result.name}: worst {n} pages (F1 P R half id url)")
    for f1, p, r, page in sorted(per_page, key=lambda row: row[0])[:n]:
        print(f"  {f1:.3f} {p:.3f} {r:.3f} {page.half} {page.id[:12]} {page.url}")


# --- dates, bylines and the outlet parsers' fallback share ---------------------------------------------
#
# The truth for dates and bylines is each page's own JSON-LD (`datePublished`, `author`), read here by a
# deliberately separate reader so that newsdelta's metadata code is not checked against itself. The pages
# are split in two halves the same way as the text scores (`Page.half`).

_NAME_SEPARATORS = re.compile(r"\s*(?:,|;|&|\band\b|\bund\b|\bet\b|\by\b)\s*", re.IGNORECASE)
_ARTICLE_TYPE = re.compile(r"Article|BlogPosting|Report")
_LEADING_BY = re.compile(r"^(?:by|von|par|por)\s+", re.IGNORECASE)


@dataclass(frozen=True)
class Metadata:
    published: str | None  # ISO 8601, a date or an instant
    names: frozenset[str]


def normalised_names(byline: str | Sequence[str] | None) -> frozenset[str]:
    """Author names compared as a set: split at separators, "By" dropped, case and spacing ignored."""
    parts = [byline] if isinstance(byline, str) else list(byline or ())
    names = (_LEADING_BY.sub("", n) for part in parts for n in _NAME_SEPARATORS.split(part))
    return frozenset(" ".join(tokenize(n)).casefold() for n in names if tokenize(n))


def json_ld_truth(html: str) -> Metadata:
    """The first `datePublished` and the first `author` in the page's JSON-LD (any object, @graph or not)."""
    import lxml.html

    published, names, objects = None, frozenset[str](), []
    for script in lxml.html.fromstring(html.encode()).xpath("//script[@type='application/ld+json']"):
        try:
            data = json.loads(script.text or "")
        except (ValueError, RecursionError):
            continue
        stack = [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                objects.append(item)
                stack.extend(v for v in item.values() if isinstance(v, dict | list))
    # The article's own object first (a WebPage beside it may carry other dates), then any other.
    for item in sorted(objects, key=lambda o: not _ARTICLE_TYPE.search(str(o.get("@type", "")))):
        if published is None and isinstance(item.get("datePublished"), str):
            published = item["datePublished"]
        if not names and item.get("author"):
            authors = item["author"] if isinstance(item["author"], list) else [item["author"]]
            by_id = {o["@id"]: o for o in objects if isinstance(o.get("@id"), str) and "name" in o}
            authors = [by_id.get(a.get("@id"), a) if isinstance(a, dict) else a for a in authors]
            found = [a.get("name") if isinstance(a, dict) else a for a in authors]
            names = normalised_names([n for n in found if isinstance(n, str)])
    return Metadata(published, names)


def newsdelta_metadata(html: str, url: str) -> Metadata:
    """What newsdelta stores, read the way a crawl reads the page (outlet parser, fallback, or generic)."""
    from newsdelta.extract import ExtractionError, extract

    try:
        result = extract(html, url)
    except ExtractionError:
        return Metadata(None, frozenset())
    return Metadata(
        result.published.isoformat() if result.published else None, normalised_names(result.byline)
    )


def trafilatura_metadata(html: str, url: str) -> Metadata:
    import trafilatura

    document = trafilatura.extract_metadata(html, default_url=url)
    author = (document.author or "") if document else ""
    return Metadata(document.date if document else None, normalised_names(author.split(";")))


METADATA_READERS: dict[str, Callable[[str, str], Metadata] | None] = {
    "newsdelta": newsdelta_metadata,
    "trafilatura alone": trafilatura_metadata,
    "readability-lxml": None,  # reads no dates or bylines
}


def _instant(value: str) -> tuple[datetime | None, date | None]:
    """(instant, None) for a value with a time of day, (None, calendar date) for a bare date; a value before
    1990 is a CMS placeholder ("0001-01-01T00:00:00Z"), not a date. Non-ISO values ("19 Nov 2019 07:09 GMT")
    are read by dateutil."""
    from dateutil import parser as dateutil_parser

    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = dateutil_parser.parse(text, fuzzy=True)
        except (ValueError, OverflowError):
            return None, None
    if parsed.year < 1990:
        return None, None
    if ":" not in text:
        return None, parsed.date()
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)), None


def date_agreement(truth: str, found: str) -> tuple[bool, bool]:
    """(exact, within a day): the same instant, or the same calendar day where either side has only a day."""
    truth_at, truth_day = _instant(truth)
    found_at, found_day = _instant(found)
    if truth_at and found_at:
        gap = abs(truth_at - found_at)
        return gap < timedelta(seconds=1), gap <= timedelta(days=1)
    truth_day = truth_day or (truth_at.date() if truth_at else None)
    found_day = found_day or (found_at.astimezone(truth_at.tzinfo).date() if found_at and truth_at else None)
    found_day = found_day or (found_at.date() if found_at else None)
    if truth_day is None or found_day is None:
        return False, False
    return truth_day == found_day, abs(truth_day - found_day) <= timedelta(days=1)


@dataclass(frozen=True)
class MetadataScore:
    pages: int
    with_date: int
    truth_dates: int
    date_exact: int
    date_within_day: int
    with_byline: int
    truth_bylines: int
    byline_exact: int


def score_metadata(pages: Sequence[Page], reader: Callable[[str, str], Metadata]) -> MetadataScore:
    counts = Counter[str]()
    for page in pages:
        truth, found = json_ld_truth(page.html), reader(page.html, page.url)
        counts["with_date"] += found.published is not None
        counts["with_byline"] += bool(found.names)
        if truth.published and any(_instant(truth.published)):
            counts["truth_dates"] += 1
            exact, near = (
                date_agreement(truth.published, found.published) if found.published else (False, False)
            )
            counts["date_exact"] += exact
            counts["date_within_day"] += near
        if truth.names:
            counts["truth_bylines"] += 1
            counts["byline_exact"] += found.names == truth.names
    return MetadataScore(
        len(pages), **{f: counts[f] for f in MetadataScore.__dataclass_fields__ if f != "pages"}
    )


def halves(pages: Sequence[Page]) -> dict[str, list[Page]]:
    """The text scores' split (`Page.half`), so every figure of one half is about the same pages."""
    return {f"half {h}": [p for p in pages if p.half == h] for h in sorted({p.half for p in pages})}


def print_metadata(pages: Sequence[Page]) -> None:
    print("\ndates and bylines against each page's JSON-LD (exact / within a day; names as a set)")
    print(f"{'half':<7} {'reader':<18} {'dated':>6} {'exact':>9} {'±1 day':>9} {'byline':>7} {'exact':>9}")
    for half, subset in halves(pages).items():
        for name, reader in METADATA_READERS.items():
            if reader is None:
                print(f"{half:<7} {name:<18} {'n/a':>6} {'n/a':>9} {'n/a':>9} {'n/a':>7} {'n/a':>9}")
                continue
            m = score_metadata(subset, reader)
            print(
                f"{half:<7} {name:<18} {m.with_date:>3}/{m.pages:<2} {m.date_exact:>4}/{m.truth_dates:<4}"
                f" {m.date_within_day:>4}/{m.truth_dates:<4} {m.with_byline:>3}/{m.pages:<3}"
                f" {m.byline_exact:>4}/{m.truth_bylines:<4}"
            )


OUTLET_CORPUS = DEV_SET.parent / "outlets"


def fallback_share(root: Path = OUTLET_CORPUS) -> dict[str, tuple[int, int]]:
    """Per outlet: (pages read by the generic fallback, pages) over the outlet corpus's expectation cases."""
    from newsdelta.extract import ExtractionError, extract
    from newsdelta.extract.registry import fallback_outlet

    cases = {c["fixture"]: c for c in json.loads((root / "expectations.json").read_text(encoding="utf-8"))}
    shares: dict[str, list[int]] = {}
    for fixture, case in sorted(cases.items()):
        counts = shares.setdefault(case["outlet"], [0, 0])
        counts[1] += 1
        try:
            parser = extract(gzip.decompress((root / fixture).read_bytes()), case["url"]).parser
        except ExtractionError:
            continue
        counts[0] += fallback_outlet(parser) is not None
    return {outlet: (fell_back, total) for outlet, (fell_back, total) in shares.items()}


def print_fallback_share() -> None:
    if not (OUTLET_CORPUS / "expectations.json").is_file():
        return
    print("\noutlet corpus: pages read by the generic fallback (the outlet parser did not know the format)")
    for outlet, (fell_back, total) in fallback_share().items():
        print(f"  {outlet:<16} {fell_back}/{total}")


if __name__ == "__main__":
    main()

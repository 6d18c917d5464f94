"""Standfirst stability: is the standfirst the same on every render of a page, whatever its chrome?

Run: `.venv/bin/python bench/standfirst_stability.py [--seeds 4] [--renders 2] [--pages 58,100] [--show]`.
Renders every page of ../shared/corpus/extraction-dev and outlets (numbered, and seeded per page, as
bench/fidelity.py does) with several seeds of both chrome vocabularies, with and without the headline edit,
extracts each render and counts the pages whose standfirst differs, once numbers are masked, between the
renders of one seed (what the crawl would see: chrome absorbed on one render and not another, a standfirst
found on some and not others). The same again with no chrome put inside paragraphs (chrome inside the
standfirst's own text is the fidelity masks' business, not the extractor's), and the pages where some render
differs from the bare page (no chrome, no edit).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from multiprocessing import Pool
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from fidelity import Source, corpus_pages

from newsdelta.extract import ExtractionError, extract
from newsdelta.fidelity.volatility import shape
from newsdelta.testing.chrome import VOCABULARIES, VolatilePage

URL = "http://127.0.0.1/p/{}"  # not an outlet's host: the generic extractor, as the fidelity bench sees it
# Places that put chrome inside a paragraph's own text (the default's and the held-out vocabulary's).
_IN_TEXT = frozenset({"in_paragraph", "paragraph_end", "paragraph_start"})
# What one page gives: its bare standfirst, and per test (vocabulary, or vocabulary without in-text chrome)
# and seed the set of masked standfirsts of its renders.
Seen = tuple[str, dict[str, dict[int, set[str]]]]


def _standfirst(html: str, n: int) -> str:
    try:
        return shape(extract(html, URL.format(n)).standfirst)  # numbers masked
    except ExtractionError:
        return "<error>"


def _page(job: tuple[int, Source, int, int]) -> Seen:
    n, source, seeds, renders = job
    seen: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    for vocabulary in VOCABULARIES:
        for seed in range(1, seeds + 1):
            page = VolatilePage(
                source.html,
                seed=seed * 100_003 + n,
                truth=source.truth,
                edit_kind="headline",
                vocabulary=vocabulary,
            )
            outside = [slot for slot in page.slots if slot.place not in _IN_TEXT]
            tests = [(vocabulary, page)]
            if outside:
                quiet = VolatilePage(
                    source.html, seed=page.seed, truth=source.truth, edit_kind="headline", slots=outside
                )
                quiet.vocabulary = vocabulary
                tests.append((f"{vocabulary}, none in text", quiet))
            for name, served in tests:
                for edited in (False, True):
                    served.edited = edited
                    for _ in range(renders):
                        seen[name][seed].add(_standfirst(served.render().decode(), n))
    return _standfirst(source.html, n), {name: dict(by_seed) for name, by_seed in seen.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--renders", type=int, default=2, help="renders per seed and edit state")
    parser.add_argument("--pages", help="only these pages, by number, e.g. 58,100")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--show", action="store_true", help="the differing standfirsts of each unstable page")
    args = parser.parse_args()
    chosen = {int(n) for n in args.pages.split(",")} if args.pages else None
    jobs = [
        (n, s, args.seeds, args.renders)
        for n, s in enumerate(corpus_pages())
        if chosen is None or n in chosen
    ]
    with Pool(args.processes) as pool:
        results = pool.map(_page, jobs, chunksize=1)
    unstable: dict[str, list[int]] = defaultdict(list)
    off_bare: list[int] = []
    for (n, *_), (bare, seen) in zip(jobs, results, strict=True):
        every = {text for by_seed in seen.values() for texts in by_seed.values() for text in texts}
        for name, by_seed in seen.items():
            if any(len(texts) > 1 for texts in by_seed.values()):
                unstable[name].append(n)
        if every != {bare}:
            off_bare.append(n)
            if args.show:
                print(f"page {n}: bare {bare[:120]!r}")
                for name, by_seed in seen.items():
                    for seed, texts in by_seed.items():
                        if texts != {bare}:
                            print(f"    {name} seed {seed}: {sorted(t[:160] for t in texts)}")
    print(f"{len(jobs)} pages, {sum(bool(bare) for bare, _ in results)} with a standfirst on the bare page")
    for name in (*VOCABULARIES, *(f"{v}, none in text" for v in VOCABULARIES)):
        print(
            f"unstable between the renders of a seed ({name} chrome): {len(unstable[name])} {unstable[name]}"
        )
    print(f"some render differs from the bare page: {len(off_bare)} {off_bare}")


if __name__ == "__main__":
    main()

"""Run one pass of diffengine 0.2.7 offline and print its figures as one JSON line (bench/crawl.py's peer).

Runs inside diffengine's own venv (its pins clash with ours), never imports newsdelta. Only the parts that
need the internet or a browser are turned off; the check itself, `Entry.get_latest` (fetch with requests,
readability, bleach, compare with the stored summary, store a version, htmldiff on a change), runs as
shipped. What is changed, and why:

- `htmldiff`: diffengine pins htmldiff 0.2 from a GitHub tarball that is not on PyPI; PyPI's htmldiff 0.1
  is the same code base but Python 2 only. It is loaded with four mechanical Python 3.11 fixes (inline
  `(?u)` flags moved to the pattern start, `it.next()` -> `next(it)`).
- `EntryVersion.archive` (Internet Archive "save"), `Diff._generate_diff_images` (Firefox/geckodriver
  screenshots) and `setup_browser` are no-ops; no `twitter` key in config.yaml, so nothing is tweeted.
- `--no-sleep` drops the fixed `time.sleep(1)` diffengine makes before every check (its only politeness
  control), so its processing cost can be compared with newsdelta run at per-host delay 0.
- `--force` treats every entry as stale (as `newsdelta crawl --force` ignores the schedule); otherwise its
  own `Entry.stale` heuristic, which reads the wall clock, decides.

The loop mirrors `diffengine.main()` (poll each feed, then check its stale entries) with a time budget, so a
sample of a big feed can be measured in bounded time; `--only-checked` re-checks entries that already have a
version (a re-check pass over the sample the first pass covered).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import sys
import time
import types
from pathlib import Path

HTMLDIFF_PY3_FIXES = (
    (r"r'^(\s+)(?u)'", r"r'(?u)^(\s+)'"),
    (r"r'(\s+)(?u)'", r"r'(?u)(\s+)'"),
    ("biter.next()", "next(biter)"),
    ("worditer.next()", "next(worditer)"),
)


def load_htmldiff() -> None:
    spec = importlib.util.find_spec("htmldiff")
    if spec is None or spec.origin is None:
        sys.exit("htmldiff is not installed in this venv (pip install htmldiff==0.1 html5lib genshi)")
    source = Path(spec.origin).read_text()
    for old, new in HTMLDIFF_PY3_FIXES:
        if old not in source:
            sys.exit(f"unexpected htmldiff source: {old!r} not found in {spec.origin}")
        source = source.replace(old, new)
    module = types.ModuleType("htmldiff")
    module.__file__ = spec.origin
    exec(compile(source, spec.origin, "exec"), module.__dict__)
    sys.modules["htmldiff"] = module


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def stored_bytes(home: Path) -> dict[str, int]:
    """The database (with any journal) and the rest of the home dir: the log and the diff HTML files."""
    database = sum(
        (home / name).stat().st_size
        for name in ("diffengine.db", "diffengine.db-journal", "diffengine.db-wal")
        if (home / name).exists()
    )
    everything = sum(path.stat().st_size for path in home.rglob("*") if path.is_file())
    return {"db": database, "other": everything - database}


def prepare(home: Path, feed_url: str, *, no_sleep: bool, force: bool) -> types.ModuleType:
    load_htmldiff()
    import diffengine

    home.mkdir(parents=True, exist_ok=True)
    config = home / "config.yaml"
    if not config.exists():
        config.write_text(f'feeds:\n- name: newsroom\n  url: "{feed_url}"\n')
    diffengine.setup_browser = lambda: None
    diffengine.EntryVersion.archive = lambda self: None
    diffengine.Diff._generate_diff_images = lambda self: None
    if no_sleep:
        diffengine.time = types.SimpleNamespace(sleep=lambda seconds: None)
    if force:
        diffengine.Entry.stale = property(lambda self: True)
    diffengine.init(str(home), prompt=False)
    return diffengine


def run_pass(diffengine: types.ModuleType, *, budget: float, poll: bool, only_checked: bool) -> dict:
    figures: dict = {"checks": 0, "new_versions": 0, "skipped": 0, "errors": 0}
    for spec in diffengine.config.get("feeds", []):
        feed, _ = diffengine.Feed.get_or_create(url=spec["url"], name=spec["name"])
        if poll:
            cpu, wall = cpu_seconds(), time.perf_counter()
            figures["new_entries"] = feed.get_latest()
            figures["poll_cpu"], figures["poll_wall"] = cpu_seconds() - cpu, time.perf_counter() - wall
        entries = list(feed.entries)
        if only_checked:
            entries = [entry for entry in entries if entry.versions.count() > 0]
        figures["entries"] = len(entries)
        cpu, wall = cpu_seconds(), time.perf_counter()
        deadline = wall + budget
        for entry in entries:
            if time.perf_counter() >= deadline:
                break
            if not entry.stale:
                figures["skipped"] += 1
                continue
            figures["checks"] += 1
            try:
                version = entry.get_latest()
            except Exception as exc:  # main() logs and goes on, so do we
                figures["errors"] += 1
                figures.setdefault("first_error", repr(exc))
                continue
            figures["new_versions"] += version is not None
        figures["check_cpu"], figures["check_wall"] = cpu_seconds() - cpu, time.perf_counter() - wall
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--feed", required=True, help="feed URL written to config.yaml on the first run")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds of checking at most")
    parser.add_argument("--poll", action="store_true", help="poll the feed first (diffengine always does)")
    parser.add_argument("--only-checked", action="store_true", help="re-check entries that have a version")
    parser.add_argument("--force", action="store_true", help="every entry is stale")
    parser.add_argument("--no-sleep", action="store_true", help="drop the 1 s sleep before each check")
    parser.add_argument("--cpu", type=int, default=None, help="pin this process to one core")
    args = parser.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    diffengine = prepare(args.home, args.feed, no_sleep=args.no_sleep, force=args.force)
    diffengine.db.close()
    before = stored_bytes(args.home)
    diffengine.db.connect()
    figures = run_pass(diffengine, budget=args.budget, poll=args.poll, only_checked=args.only_checked)
    diffengine.db.close()
    after = stored_bytes(args.home)
    figures["db_bytes"] = after["db"]
    figures["db_growth"] = after["db"] - before["db"]
    figures["other_growth"] = after["other"] - before["other"]
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()

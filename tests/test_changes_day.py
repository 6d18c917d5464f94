"""The simulated newsroom's day, crawled once: every new version is compared as it is stored, and the kinds
the script implies reach the API, the CLI and the research export (read back with pyarrow)."""

from __future__ import annotations

import csv
import io
import json
from itertools import pairwise
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from crawl_support import crawl_scripted_day, sqlite_store
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select

from newsdelta.changes import export
from newsdelta.changes.kinds import CORRECTION
from newsdelta.changes.store import backfill
from newsdelta.cli import cli
from newsdelta.config import Settings
from newsdelta.store.models import Version, VersionChange, VersionKind
from newsdelta.testing.newsroom import Newsroom
from newsdelta.web.app import create_app


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    directory = tmp_path_factory.mktemp("changes-day")
    sessions = sqlite_store(directory)
    with Newsroom() as newsroom:
        crawl_scripted_day(sessions, newsroom)
        return {"sessions": sessions, "truth": newsroom.truth(), "dir": directory, "base": newsroom.base_url}


def _stored(day: dict[str, Any]) -> dict[str, list[tuple[Version, VersionChange | None]]]:
    """Per article URL: its versions with their comparison rows, in order."""
    with day["sessions"]() as session:
        rows = session.execute(
            select(Version, VersionChange)
            .outerjoin(VersionChange, VersionChange.version_id == Version.id)
            .order_by(Version.article_id, Version.number)
        ).all()
        by_article: dict[str, list[tuple[Version, VersionChange | None]]] = {}
        for version, change in rows:
            by_article.setdefault(version.article.url, []).append((version, change))
        return by_article


def _expected(truth_versions: list[dict[str, Any]], gone: bool) -> list[set[str]]:
    """What the script implies, per version: a new title is a headline change, a new correction
    paragraph a correction note; a page that went away ends with a removal."""
    expected: list[set[str]] = [set()]
    for old, new in pairwise(truth_versions):
        kinds = set()
        if old["title"] != new["title"]:
            kinds.add("headline")
        if any(CORRECTION.search(p) for p in set(new["paragraphs"]) - set(old["paragraphs"])):
            kinds.add("correction_note")
        expected.append(kinds)
    if gone:
        expected.append({"removed"})
    return expected


def test_every_version_is_compared_when_stored(day: dict[str, Any]) -> None:
    with day["sessions"]() as session:
        versions = session.scalar(select(func.count()).select_from(Version))
        compared = session.scalar(select(func.count()).select_from(VersionChange))
    assert versions and compared == versions


def test_kinds_are_those_the_script_implies(day: dict[str, Any]) -> None:
    stored = _stored(day)
    seen: set[str] = set()
    for url, data in day["truth"]["articles"].items():
        if data["disallowed"]:
            continue
        expected = _expected(data["versions"], data["gone"])
        kinds = [set(change.kinds) for _, change in stored[url] if change is not None]
        assert len(kinds) == len(expected), url
        for want, got in zip(expected, kinds, strict=True):
            assert want <= got, url
            assert ("headline" in got) == ("headline" in want), url
            assert ("correction_note" in got) == ("correction_note" in want), url
            assert ("removed" in got) == ("removed" in want), url
            seen |= got
    assert {"headline", "correction_note", "removed", "number", "reordered", "paragraphs_added"} <= seen
    assert "unannounced" not in seen  # the newsroom stamps every revision with a new updated time


def test_api_carries_kinds_and_filters_by_kind_and_size(day: dict[str, Any]) -> None:
    with TestClient(create_app(Settings(), day["sessions"])) as client:
        headlines = client.get("/api/changes", params={"kind": "headline", "per_page": 200}).json()["items"]
        removals = client.get("/api/changes", params={"kind": "removed"}).json()["items"]
        large = client.get("/api/changes", params={"min_size": 10, "per_page": 200}).json()["items"]
        everything = client.get("/api/changes", params={"per_page": 200}).json()["items"]
        assert client.get("/api/changes", params={"kind": "nonsense"}).status_code == 422
        article = client.get(f"/api/articles/{removals[0]['article_id']}").json()
    assert headlines and all("headline" in item["kinds"] for item in headlines)
    assert len(headlines) < len(everything)
    assert removals and all(item["kinds"] == ["removed"] for item in removals)
    assert large and all(item["size_words"] >= 10 for item in large) and len(large) < len(everything)
    assert article["versions"][0]["kinds"] == [] and article["versions"][-1]["kinds"] == ["removed"]


def _invoke(day: dict[str, Any], *args: str) -> str:
    result = CliRunner().invoke(cli, ["--data-dir", str(day["dir"]), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_cli_history_and_articles_carry_kinds(day: dict[str, Any]) -> None:
    articles = [json.loads(line) for line in _invoke(day, "articles", "--json").splitlines()]
    corrected = [a for a in articles if "correction_note" in a["kinds"]]
    assert corrected
    history = json.loads(_invoke(day, "history", str(corrected[0]["id"]), "--json"))
    assert any("correction_note" in (v["kinds"] or []) for v in history["versions"])
    assert all(isinstance(v["size_words"], int) for v in history["versions"])


def test_export_reads_back_in_every_format(day: dict[str, Any], tmp_path: Path) -> None:
    with day["sessions"]() as session:
        pairs = session.scalar(
            select(func.count()).select_from(VersionChange).where(VersionChange.previous_number.is_not(None))
        )
        versions = session.scalar(select(func.count()).select_from(Version))
        assert export.count(session, export.Filters(), pairs=True) == pairs  # the progress bar's total
        assert export.count(session, export.Filters(source="nowhere"), pairs=False) == 0
    jsonl = [json.loads(line) for line in _invoke(day, "export", "changes").splitlines()]
    table = pq.read_table(_export_file(day, tmp_path, "changes")).to_pylist()
    rows = list(csv.DictReader(io.StringIO(_invoke(day, "export", "changes", "--format", "csv"))))
    assert len(jsonl) == len(table) == len(rows) == pairs
    assert (
        [r["kinds"] for r in jsonl] == [r["kinds"] for r in table] == [json.loads(r["kinds"]) for r in rows]
    )
    removal = next(r for r in table if r["kinds"] == ["removed"])
    assert removal["sentences"] and all(
        s["action"] == "deletion" and s["old_text"] for s in removal["sentences"]
    )
    headline = next(r for r in table if "headline" in r["kinds"])
    assert headline["old_title"] != headline["new_title"] and headline["new_fetched_at"].tzinfo is not None
    assert all(s["new_text"] for s in headline["sentences"] if s["action"] != "deletion")
    exported_versions = pq.read_table(_export_file(day, tmp_path, "versions")).to_pylist()
    assert len(exported_versions) == versions and all(v["text"] is not None for v in exported_versions)
    since = sorted(r["new_fetched_at"] for r in jsonl)[len(jsonl) // 2]
    window = [json.loads(line) for line in _invoke(day, "export", "changes", "--since", since).splitlines()]
    assert window == [r for r in jsonl if r["new_fetched_at"] >= since] and 0 < len(window) < len(jsonl)
    assert any(r["old_fetched_at"] < since for r in window)  # pairs starting before the window are whole


def _export_file(day: dict[str, Any], tmp_path: Path, what: str) -> Path:
    path = tmp_path / f"{what}.parquet"
    _invoke(day, "export", what, "--format", "parquet", "-o", str(path))
    return path


def test_backfill_recomputes_what_is_missing(day: dict[str, Any]) -> None:
    sessions = day["sessions"]
    with sessions() as session:
        before = {c.version_id: (c.kinds, c.sentences) for c in session.scalars(select(VersionChange))}
    with sessions.begin() as session:
        session.execute(delete(VersionKind))
        session.execute(delete(VersionChange))
    assert backfill(sessions, batch=7) == len(before)
    with sessions() as session:
        after = {c.version_id: (c.kinds, c.sentences) for c in session.scalars(select(VersionChange))}
        kinds = session.scalar(select(func.count()).select_from(VersionKind))
    assert after == before
    assert kinds == sum(len(k) for k, _ in after.values())
    assert backfill(sessions) == 0


def test_feeds_and_pages_show_kinds_and_filter_by_them(day: dict[str, Any]) -> None:
    with TestClient(create_app(Settings(), day["sessions"])) as client:
        everything = client.get("/feed.rss").text
        headlines = client.get("/feed.rss", params={"kind": "headline"}).text
        atom = client.get("/feed.atom", params={"kind": "correction_note"}).text
        assert client.get("/feed.rss", params={"kind": "nonsense"}).status_code == 422
        home = client.get("/", params={"kind": "removed"}).text
        removal = client.get("/api/changes", params={"kind": "removed"}).json()["items"][0]
        article = client.get(f"/articles/{removal['article_id']}").text
        diff = client.get(
            f"/articles/{removal['article_id']}/diff/{removal['number'] - 1}/{removal['number']}"
        ).text
    items = headlines.count("<item>")
    assert 0 < items < everything.count("<item>")
    assert headlines.count("<category>headline</category>") == items
    assert atom.count("<entry>") and atom.count('<category term="correction_note"/>') == atom.count("<entry>")
    assert '<option value="removed" selected>' in home and 'class="kind kind-removed"' in home
    assert home.count('class="kind kind-removed"') == home.count("<li>")
    assert 'class="kind kind-removed"' in article and 'class="kind kind-removed"' in diff

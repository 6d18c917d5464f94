"""The JSON API: filters, pagination, structured diffs, the OpenAPI description; search on PostgreSQL too."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from web_support import Demo, demo, postgres_sessions

from newsdelta.cli import cli
from newsdelta.config import Settings
from newsdelta.diff import side_text
from newsdelta.diff.model import Span
from newsdelta.store import search as fulltext
from newsdelta.web.app import create_app
from newsdelta.web.fixtures import GUARDIAN_URL, read_seed, seed_demo

__all__ = ["demo", "postgres_sessions"]


def test_sources_report_the_last_day(demo: Demo) -> None:
    rows = {row["name"]: row for row in demo.client.get("/api/sources").json()}
    # Checks are counted by the hour, from the start of the hour 24 hours ago: the hidden article's first
    # check, just over a day old, is in.
    assert rows["bbc"]["articles"] == 4 and rows["bbc"]["checks"] == 10 and rows["bbc"]["errors"] == 1
    # guardian stored nothing for a day, but its one article is retired: nothing is left to check there.
    assert rows["guardian"]["stale"] is False and rows["bbc"]["stale"] is False


def test_articles_filter_and_paginate(demo: Demo) -> None:
    client = demo.client
    first = client.get("/api/articles", params={"per_page": 2}).json()
    second = client.get("/api/articles", params={"per_page": 2, "page": first["next_page"]}).json()
    ids = [row["id"] for row in first["items"] + second["items"]]
    assert ids == [demo.ids.gone, demo.ids.retired, demo.ids.live, demo.ids.guardian]  # hidden left out
    assert second["next_page"] is None
    gone = client.get("/api/articles", params={"state": "gone"}).json()["items"]
    assert [row["id"] for row in gone] == [demo.ids.gone]
    guardian = client.get("/api/articles", params={"source": "guardian"}).json()["items"]
    assert [row["title"] for row in guardian] == [
        "Vladimir Putin briefs Donald Trump on plan to end Syrian civil war"
    ]
    since = (datetime.now(UTC) - timedelta(hours=3)).isoformat()
    recent = client.get("/api/articles", params={"changed_since": since}).json()["items"]
    assert [row["id"] for row in recent] == [demo.ids.live]
    assert client.get("/api/articles", params={"per_page": 1000}).status_code == 422


def test_article_and_version(demo: Demo, corpus: Path) -> None:
    article = demo.client.get(f"/api/articles/{demo.ids.guardian}").json()
    assert [v["number"] for v in article["versions"]] == [0, 1, 2, 3, 4, 5]
    assert article["next_check_at"] is None and article["source"] == "guardian"
    version = demo.client.get(f"/api/articles/{demo.ids.guardian}/versions/4").json()
    title, paragraphs = read_seed(corpus / "seed-guardian" / "v4.txt")
    assert (version["title"], version["paragraphs"]) == (title, paragraphs)
    assert version["origin"] == "fetch"


def test_structured_diff_rebuilds_both_versions(demo: Demo, corpus: Path) -> None:
    diff = demo.client.get(f"/api/articles/{demo.ids.guardian}/diff/3/4").json()
    rows = diff["rows"]
    assert {row["kind"] for row in rows} <= {"equal", "changed", "inserted", "deleted", "moved"}

    def side(name: str, index: str) -> list[str]:
        ordered = sorted((row for row in rows if row[index] is not None), key=lambda row: row[index])
        return [side_text([Span(**span) for span in row["spans"]], name) for row in ordered]

    assert side("old", "old_index") == read_seed(corpus / "seed-guardian" / "v3.txt")[1]
    assert side("new", "new_index") == read_seed(corpus / "seed-guardian" / "v4.txt")[1]
    assert diff["title_spans"] is not None and diff["summary"].startswith("Headline changed")


def test_changes_and_search(demo: Demo) -> None:
    changes = demo.client.get("/api/changes", params={"source": "guardian"}).json()["items"]
    assert [change["number"] for change in changes] == [5, 4, 3, 2, 1]
    second = demo.client.get("/api/changes", params={"source": "guardian", "per_page": 2, "page": 2}).json()
    assert [change["number"] for change in second["items"]] == [3, 2] and second["next_page"] == 3
    hits = demo.client.get("/api/search", params={"q": "Putin"}).json()["items"]
    assert [(hit["article_id"], hit["matching_versions"]) for hit in hits] == [(demo.ids.guardian, 6)]
    accented = demo.client.get("/api/search", params={"q": "erdogan"}).json()["items"]
    assert [(hit["number"], hit["matching_versions"]) for hit in accented] == [(5, 2)]  # diacritics folded


def test_openapi_describes_the_api(demo: Demo) -> None:
    spec = demo.client.get("/api/openapi.json").json()
    for path in (
        "/api/sources",
        "/api/articles",
        "/api/articles/{article_id}",
        "/api/articles/{article_id}/versions/{number}",
        "/api/articles/{article_id}/diff/{old}/{new}",
        "/api/search",
        "/api/admin/track",
    ):
        assert path in spec["paths"], path
    assert "/articles/{article_id}" not in spec["paths"]  # HTML pages are not API
    parameters = {p["name"] for p in spec["paths"]["/api/articles"]["get"]["parameters"]}
    assert {"source", "state", "changed_since", "page", "per_page"} <= parameters
    assert "RowOut" in spec["components"]["schemas"]


@pytest.mark.postgres
def test_search_on_postgres_uses_the_full_text_index(
    postgres_sessions: sessionmaker[Session], corpus: Path
) -> None:
    ids = seed_demo(postgres_sessions, corpus)
    with postgres_sessions() as session:
        hits = fulltext.search(session, "Putin Assad").items
        assert [(hit.article_id, hit.matching_versions) for hit in hits] == [(ids.guardian, 6)]
        assert [hit.number for hit in fulltext.search(session, "Erdoğan").items] == [5]  # non-ASCII words too
        assert fulltext.search(session, "zebracorn").items == []  # hidden
        assert fulltext.search(session, 'OR "unbalanced -').items == []
        session.execute(text("SET enable_seqscan = off"))
        plan = session.execute(
            text(
                f"EXPLAIN SELECT id FROM version WHERE {fulltext.PG_SEARCH_DOCUMENT} @@ to_tsquery('english', 'putin')"
            )
        ).scalars()
        assert "ix_version_search" in "\n".join(plan)


def test_search_snippets_start_at_a_word_and_mark_elisions() -> None:
    paragraph = "The Russian president met his Syrian counterpart before a gathering in the Black Sea resort of Sochi."
    assert fulltext.snippet(["Unrelated.", paragraph], ["sochi"], width=40) == "…resort of Sochi."
    assert fulltext.snippet([paragraph], ["russian"], width=30) == "The Russian president met his …"
    assert fulltext.snippet(["No match here."], ["sochi"]) == "No match here."


@pytest.mark.postgres
def test_every_kind_of_page_works_on_postgres(postgres_sessions: sessionmaker[Session], corpus: Path) -> None:
    ids = seed_demo(postgres_sessions, corpus)
    client = TestClient(create_app(Settings(), postgres_sessions))
    for path in (
        "/",
        "/?source=bbc",
        f"/articles/{ids.guardian}",
        f"/articles/{ids.guardian}/diff/3/4?view=inline&changes=only",
        f"/articles/{ids.guardian}/versions/3/raw",
        "/sources/bbc",
        "/search?q=Putin",
        "/feed.atom",
        "/api/articles?state=gone",
        f"/api/articles/{ids.guardian}/diff/3/4",
        "/sources/bbc/articles?order=versions",
        f"/api/articles?url={GUARDIAN_URL}",
        f"/articles/{ids.guardian}/versions/3",
        "/health",  # guardian stored nothing for a day, but nothing is left to check there
    ):
        assert client.get(path).status_code == 200, path
    assert client.get(f"/articles/{ids.hidden}").status_code == 410
    bbc = client.get("/api/sources").json()[0]
    figures = ("name", "articles", "checks", "errors", "new_versions", "stale")
    assert [bbc[key] for key in figures] == ["bbc", 4, 10, 1, 6, False]  # checks by the hour, as above


def _times_parsed(row: dict[str, Any]) -> dict[str, Any]:
    """The CLI writes +00:00 and the API Z: the same moments."""
    return {
        key: datetime.fromisoformat(value) if key.endswith("_at") and value else value
        for key, value in row.items()
    }


def test_cli_and_api_rows_of_an_article_agree(demo: Demo, tmp_path: Path) -> None:
    database = ["--db", f"sqlite:///{tmp_path / 'web.sqlite3'}"]
    listed = CliRunner().invoke(cli, [*database, "articles", "--json"], catch_exceptions=False).stdout
    from_cli = {row["id"]: row for row in map(json.loads, listed.splitlines())}
    from_api = demo.client.get("/api/articles", params={"per_page": 200}).json()["items"]
    assert from_api and all(_times_parsed(from_cli[row["id"]]) == _times_parsed(row) for row in from_api)
    shown = CliRunner().invoke(cli, [*database, "history", str(demo.ids.guardian), "--json"]).stdout
    history = json.loads(shown)["versions"]
    versions = demo.client.get(f"/api/articles/{demo.ids.guardian}").json()["versions"]
    assert len(versions) == len(history) > 1
    for api_row, cli_row in zip(versions, history, strict=True):
        assert _times_parsed(api_row) == _times_parsed({key: cli_row[key] for key in api_row})
        assert set(cli_row) - set(api_row) == {
            "byline",
            "published",
            "updated",
            "parser",
            "parser_version",
            "text_hash",
            "paragraphs",
        }

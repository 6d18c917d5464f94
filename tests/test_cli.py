"""The command line contract: sub-commands, their --json output and their errors."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsdelta.cli import cli
from newsdelta.testing.newsroom import Newsroom


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NEWSDELTA_PER_HOST_DELAY", "0")
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True) -> str:
        result = runner.invoke(cli, ["--data-dir", str(tmp_path), *args], catch_exceptions=False)
        assert (result.exit_code == 0) is ok, result.output
        return result.output

    return invoke


def _lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_feed_add_list_and_bad_exclusion(run) -> None:
    added = _lines(
        run("feed", "add", "https://example.org/rss.xml", "--source", "ex", "--exclude", "/sport/", "--json")
    )
    assert added[0]["source"] == "ex" and added[0]["exclude"] == ["/sport/"]
    listed = _lines(run("feed", "list", "--json"))
    assert [row["url"] for row in listed] == ["https://example.org/rss.xml"]
    assert "invalid URL exclusion pattern" in run(
        "feed", "add", "https://e.org/x", "--source", "e", "--exclude", "(", ok=False
    )


def test_track_canonicalises_refuses_hostile_urls_and_is_idempotent(run) -> None:
    first = _lines(
        run("track", "https://www.theguardian.com/world/2017/nov/21/x?utm_source=tw#top", "--json")
    )[0]
    assert first["url"] == "https://www.theguardian.com/world/2017/nov/21/x"
    assert first["source"] == "guardian" and first["created"]
    again = _lines(run("track", "https://www.theguardian.com/world/2017/nov/21/x", "--json"))[0]
    assert again["id"] == first["id"] and not again["created"]
    run("track", "javascript:alert(1)", ok=False)
    run("track", "file:///etc/passwd", ok=False)


def test_crawl_once_then_articles_and_history(run) -> None:
    with Newsroom() as newsroom:
        newsroom.clock.set(newsroom.script.start + timedelta(hours=3))
        run("feed", "add", newsroom.url("/rss.xml"), "--source", "newsroom")
        passes = _lines(run("crawl", "--once", "--json"))
        assert passes[0]["articles_added"] > 3
        assert (
            passes[0]["outcomes"]["new_version"] >= passes[0]["articles_added"] - 1
        )  # robots-disallowed one
        articles = _lines(run("articles", "--json"))
        first = next(row for row in articles if row["version_count"])
        history = json.loads(run("history", str(first["id"]), "--json"))
        assert history["url"] == first["url"]
        assert history["next_check_reason"]["kind"] == "hazard"  # newsdelta's learned schedule
        version = history["versions"][0]
        assert version["number"] == 0 and version["paragraphs"] and version["title"]
        assert json.loads(run("history", first["url"], "--json"))["id"] == first["id"]
    assert "no tracked article" in run("history", "99999", ok=False)


def test_extract_names_the_parser_and_reports_garbage(run, corpus: Path, tmp_path: Path) -> None:
    page = corpus / "outlets" / "bbc_news" / "21528631.html.gz"
    [row] = _lines(run("extract", str(page), "--url", "http://www.bbc.co.uk/news/world-africa-21528631"))
    assert row["parser"] == "bbc_news"
    assert row["title"] == "Oscar Pistorius detective on attempted murder charges"
    garbage = tmp_path / "garbage.html"
    garbage.write_bytes(b"\x00\x01\x02" * 100)
    [error] = _lines(run("extract", str(garbage), ok=False))
    assert "error" in error


def test_help_lists_the_contract_commands(run) -> None:
    output = run("--help")
    for command in ("feed", "track", "crawl", "articles", "history", "extract", "demo", "serve"):
        assert command in output


def test_status_reports_backlog_and_scheduler_needs_a_broker(run) -> None:
    run("track", "https://example.org/news/1")
    report = json.loads(run("status", "--json"))
    assert report["articles"]["due"] == 1
    assert report["queue_depth"] is None  # no broker configured
    assert "needs a broker" in run("scheduler", "--once", ok=False)
    assert "needs a broker" in run("worker", ok=False)

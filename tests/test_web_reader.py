"""The reader's workflow on the demo data: what changed in every list, find by URL, true timing, straight to
the change, citing it."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime

from sqlalchemy import select
from web_support import Demo, demo, text_of

from newsdelta.changes.store import backfill
from newsdelta.diff import Span, VersionDiff, diff_versions
from newsdelta.diff.model import VersionText
from newsdelta.store.checklog import LoggedCheck, log_checks
from newsdelta.store.models import ArticleAlias, CheckSpan, Version
from newsdelta.web.cite import Citation, wayback_url
from newsdelta.web.diffing import LONG_ARTICLE_PARAGRAPHS, change_words, changes_only, key_changes
from newsdelta.web.fixtures import GUARDIAN_URL, HOSTILE_HTML, seed_live_blog

__all__ = ["demo"]  # the fixture, imported for pytest


def test_an_articles_url_in_the_search_box_leads_to_it(demo: Demo) -> None:
    for typed in (
        GUARDIAN_URL,
        GUARDIAN_URL + "?utm_source=twitter&utm_medium=social#comments",
        GUARDIAN_URL.replace("https://www.theguardian.com", "https://WWW.theguardian.com:443"),
    ):
        response = demo.client.get("/search", params={"q": f"  {typed} "}, follow_redirects=False)
        assert response.status_code == 303, typed
        assert response.headers["location"] == f"/articles/{demo.ids.guardian}"
    unknown = demo.client.get("/search", params={"q": "https://example.org/nothing"}, follow_redirects=False)
    assert unknown.status_code == 200  # no such article: an ordinary search, which finds nothing


def test_an_alias_url_leads_to_its_article(demo: Demo) -> None:
    with demo.sessions.begin() as session:
        session.add(ArticleAlias(url="https://www.bbc.co.uk/news/live-demo-old", article_id=demo.ids.live))
    found = demo.client.get(
        "/api/articles", params={"url": "https://www.bbc.co.uk/news/live-demo-old?at_medium=x"}
    )
    assert [row["id"] for row in found.json()["items"]] == [demo.ids.live]
    missing = demo.client.get("/api/articles", params={"url": "https://www.bbc.co.uk/news/nope"}).json()
    assert missing["items"] == [] and missing["next_page"] is None


def test_source_article_index_sorts_by_last_change_and_by_versions(demo: Demo) -> None:
    def order(query: str) -> list[int]:
        html = demo.client.get(f"/sources/bbc/articles{query}").text
        return [int(found) for found in re.findall(r'<a class="title" href="/articles/(\d+)">', html)]

    ids = demo.ids
    assert order("") == [ids.live, ids.gone, ids.retired]  # by last change; the hidden one left out
    assert order("?order=versions") == [ids.live, ids.gone, ids.retired]  # 4, 2, 2 (ties: newest id)
    assert demo.client.get("/sources/nosuch/articles").status_code == 404


def test_non_numeric_ids_are_not_found(demo: Demo) -> None:
    for path in ("/articles/abc", "/articles/abc/diff/1/2", "/articles/1/versions/x", "/api/articles/abc"):
        assert demo.client.get(path).status_code == 404, path


def test_pages_over_a_kilobyte_are_gzipped(demo: Demo) -> None:
    response = demo.client.get(f"/articles/{demo.ids.guardian}/diff/3/4", headers={"accept-encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert int(response.headers["content-length"]) < len(response.content) / 2
    assert "content-security-policy" in response.headers  # the security headers survive compression


def test_article_history_says_what_changed_and_when_it_was_last_checked(demo: Demo) -> None:
    text = text_of(demo.client.get(f"/articles/{demo.ids.live}").text)
    assert "It was last checked" in text
    assert "compare with 2 Headline changed; 1 paragraph edited (4 words)" in text
    assert "Talks begin → Talks end <script>alert('x')</script> & agree" in text
    assert "reparse" in text


def test_flip_flops_are_shown_in_the_history(demo: Demo) -> None:
    at = datetime(2017, 11, 23, 14, 5, tzinfo=UTC)
    with demo.sessions.begin() as session:
        log_checks(session.connection(), [LoggedCheck(demo.ids.guardian, at, "flipflop", None, 3)])
    text = text_of(demo.client.get(f"/articles/{demo.ids.guardian}").text)
    assert "switched back to version 3's text (headline “Syria military operation 'wrapping up'" in text
    assert "23 November 2017, 14:05 UTC" in text


def test_diff_says_between_which_checks_the_outlet_changed_it(demo: Demo) -> None:
    text = text_of(demo.client.get(f"/articles/{demo.ids.live}/diff/2/3").text)
    with demo.sessions() as session:
        # The fixture's 304 check after version 2 (no row of its own: its span holds its time).
        not_modified = session.scalars(
            select(CheckSpan.last_at).where(
                CheckSpan.article_id == demo.ids.live, CheckSpan.last_outcome == "not_modified"
            )
        ).one()
        new = session.query(Version).filter_by(article_id=demo.ids.live, number=3).one().fetched_at
    last_seen_old = not_modified.strftime("%-d %B %Y, %H:%M UTC")
    assert f"Changed between {last_seen_old} (the last check that found the earlier text)" in text
    assert f"and {new.strftime('%-d %B %Y, %H:%M UTC')} (the first that found version 3)" in text


def test_an_old_version_says_so_and_links_the_latest(demo: Demo) -> None:
    old = text_of(demo.client.get(f"/articles/{demo.ids.guardian}/versions/3").text)
    assert "This is version 3, not the latest: see version 5, the latest." in old
    latest = text_of(demo.client.get(f"/articles/{demo.ids.guardian}/versions/5").text)
    assert "not the latest" not in latest


def test_cite_panel_quotes_the_evidence_hash_and_the_configured_base_url(demo: Demo) -> None:
    from fastapi.testclient import TestClient

    from newsdelta.config import Settings
    from newsdelta.web.app import create_app

    client = TestClient(create_app(Settings(base_url="https://diffs.example.net/"), demo.sessions))
    html = client.get(f"/articles/{demo.ids.guardian}/versions/3").text
    evidence = hashlib.sha256(HOSTILE_HTML).hexdigest()
    assert re.search(r'<code class="sha">([0-9a-f]{64})</code>', html)[1] == evidence  # type: ignore[index]
    text = text_of(html)
    permalink = f"https://diffs.example.net/articles/{demo.ids.guardian}/versions/3"
    assert f"Archived by newsdelta: {permalink}. Evidence SHA-256: {evidence}." in text
    assert "version 3 seen 2017-11-21 10:12:00 UTC" in text
    assert "https://web.archive.org/web/20171121101200/" + GUARDIAN_URL in html
    diff = client.get(f"/articles/{demo.ids.guardian}/diff/3/4").text
    assert (
        f'<meta property="og:url" content="https://diffs.example.net/articles/{demo.ids.guardian}/diff/3/4">'
        in diff
    )
    card = f"https://diffs.example.net/articles/{demo.ids.guardian}/diff/3/4.png"
    assert f'<meta property="og:image" content="{card}">' in diff  # the share card, never the request's Host
    assert '<meta name="twitter:card" content="summary_large_image">' in diff
    assert "@misc{newsdelta-" in diff and "CSL-JSON" in diff


def test_a_long_article_opens_on_changes_only_with_a_digest(demo: Demo) -> None:
    article = seed_live_blog(demo.sessions, words=4000, versions=3)
    html = demo.client.get(f"/articles/{article}/diff/1/2").text
    assert 'aria-current="page">Changes only' in html
    assert '<nav class="keys"' in html
    anchors = re.findall(r'<nav class="keys".*?</nav>', html, re.S)[0]
    for anchor in re.findall(r'href="#(p\d+|o\d+)"', anchors):
        assert f'id="{anchor}"' in html  # every digest line links to its row
    assert '<details class="fold"><summary>' in html  # folded paragraphs open in place, no script
    whole = demo.client.get(f"/articles/{article}/diff/1/2?changes=all").text
    assert 'aria-current="page">Whole text' in whole and '<nav class="keys"' not in whole
    short = demo.client.get(f"/articles/{demo.ids.guardian}/diff/3/4").text
    assert 'aria-current="page">Whole text' in short  # the seed pair is short: the whole text


def test_about_page(demo: Demo) -> None:
    text = text_of(demo.client.get("/about").text)
    for heading in ("Checks", "Versions", "Volatile text", "Evidence"):
        assert heading in text
    assert f"more than {LONG_ARTICLE_PARAGRAPHS} paragraphs" in text


# --- the logic, without the web ---------------------------------------------------------------------------


def _diff(old: list[str], new: list[str]) -> VersionDiff:
    return diff_versions(VersionText("t", tuple(old)), VersionText("t", tuple(new)))


def test_change_words_counts_deleted_and_inserted_words_not_moves() -> None:
    paragraphs = [f"Paragraph number {n} says something long enough to match." for n in range(6)]
    edited = _diff(paragraphs, [paragraphs[0].replace("says", "shouts loudly"), *paragraphs[1:]])
    assert change_words(edited) == 3  # "says" out, "shouts loudly" in
    moved = _diff(paragraphs, [*paragraphs[1:], paragraphs[0]])
    assert change_words(moved) == 0


def test_key_changes_link_rows_in_text_order() -> None:
    old = ["Alpha stays.", "Bravo goes away entirely now.", "Charlie stays.", "Delta is edited here."]
    new = ["Alpha stays.", "Charlie stays.", "Delta was edited here.", "Echo is brand new."]
    keys = key_changes(_diff(old, new).rows)
    assert [(key.label, key.anchor) for key in keys] == [("Removed", "o2"), ("Edited", "p3"), ("Added", "p4")]
    assert keys[0].spans == (Span("delete", "Bravo goes away entirely now."),)
    assert [span for span in keys[1].spans if span.op != "equal"] == [
        Span("delete", "is"),
        Span("insert", "was"),
    ]


def test_edits_keep_a_few_words_of_context() -> None:
    old = ["One two three four five six seven eight nine ten eleven twelve thirteen fourteen."]
    new = ["One two three four five six SEVEN eight nine ten eleven twelve thirteen fourteen."]
    (key,) = key_changes(_diff(old, new).rows)
    text = "".join(f"[{span.op[0]}:{span.text}]" if span.op != "equal" else span.text for span in key.spans)
    assert text == "… four five six [d:seven][i:SEVEN] eight nine ten …"


def test_folds_keep_the_paragraphs_they_hide() -> None:
    old = [f"Unchanged paragraph {n}." for n in range(10)]
    rows = list(changes_only(_diff(old, [*old[:9], "A new ending."]).rows))
    assert rows[0].kind == "fold" and rows[0].count == 8
    assert [row.new_index for row in rows[0].rows] == list(range(8))


def test_citations_are_well_formed() -> None:
    def version(number: int, title: str, at: datetime) -> Version:
        return Version(article_id=7, number=number, title=title, fetched_at=at, raw_sha256="ab" * 32)

    at = datetime(2024, 5, 1, 14, 5, 9, tzinfo=UTC)
    cite = Citation(
        "outlet", "https://o.example/a", "https://site/x", version(1, "Old {A}", at), version(2, "New", at)
    )
    assert cite.plain().startswith(
        "outlet. “Old {A}” → “New”, version 1 to 2. Original: https://o.example/a."
    )
    bibtex = cite.bibtex()
    assert bibtex.startswith("@misc{newsdelta-7-v1-v2,") and "Old (A)" in bibtex
    assert bibtex.count("{") == bibtex.count("}")
    (item,) = json.loads(cite.csl_json())
    assert item["URL"] == "https://site/x" and "2024-05-01 14:05:09 UTC" in item["note"]
    assert (
        wayback_url("https://o.example/a", at)
        == "https://web.archive.org/web/20240501140509/https://o.example/a"
    )


def test_times_in_the_readers_zone_without_javascript(demo: Demo) -> None:
    path = f"/articles/{demo.ids.guardian}/versions/3"
    assert "21 November 2017, 10:12 UTC" in text_of(demo.client.get(path).text)
    form = text_of(demo.client.get("/time-zone", params={"next": path}).text)
    assert "Times on this site are shown in UTC." in form
    saved = demo.client.post("/time-zone", data={"tz": "Asia/Kolkata", "next": path}, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == path
    assert "httponly" in saved.headers["set-cookie"].lower()
    text = text_of(demo.client.get(path).text)
    assert "21 November 2017, 15:42 IST" in text  # UTC+05:30
    assert "version 3 seen 2017-11-21 10:12:00 UTC" in text  # citations stay in UTC
    assert "Times are Asia/Kolkata" in text
    for away in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        bounced = demo.client.post("/time-zone", data={"tz": "UTC", "next": away}, follow_redirects=False)
        assert bounced.headers["location"] == "/", away
    assert "10:12 UTC" in text_of(demo.client.get(path).text)  # "UTC" clears the choice


def test_lists_mark_articles_whose_text_flipped_back(demo: Demo) -> None:
    assert "mark-flipflop" not in demo.client.get("/").text
    with demo.sessions.begin() as session:
        log_checks(session.connection(), [LoggedCheck(demo.ids.live, datetime.now(UTC), "flipflop", None, 1)])
    home = demo.client.get("/").text
    assert f'<a class="mark mark-flipflop" href="/articles/{demo.ids.live}#flipflops">flip-flop</a>' in home
    assert home.count("mark-flipflop") == 1 + 3  # the article's row and its three changes of the week
    assert "mark-flipflop" in demo.client.get("/sources/bbc").text


def test_lists_read_what_changed_from_the_stored_comparisons_without_diffing(demo: Demo) -> None:
    backfill(demo.sessions)  # what the crawler stores with each version
    diffs = demo.client.app.state.diffs  # type: ignore[attr-defined]
    for path in (f"/articles/{demo.ids.live}", "/", "/sources/bbc"):
        text = text_of(demo.client.get(path).text)
        assert "Headline changed; 1 sentence edited (" in text, path
        assert "Talks begin → Talks end <script>alert('x')</script> & agree" in text, path
    assert len(diffs) == 0
    feed = demo.client.get(f"/articles/{demo.ids.live}/feed.rss").text  # feed items show the words: diffed
    assert "agreed a deal" in feed and len(diffs) > 0

"""The site in headless Chromium (Debian's, driven by Playwright): what a reader clicks through.

Set NEWSDELTA_SCREENSHOT=path to also write the README's screenshot of the seed-guardian diff there (and of the
home page to home.png beside it).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import browser, served
from browser_support import screenshot as save_screenshot
from sqlalchemy.orm import Session, sessionmaker
from web_support import TOKEN, text_of

from newsdelta.config import Settings
from newsdelta.store.db import open_database
from newsdelta.web.app import create_app
from newsdelta.web.fixtures import GUARDIAN_URL, Seeded, seed_demo, seed_live_blog

pytestmark = pytest.mark.browser
__all__ = ["browser"]  # the fixture, imported for pytest


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> sessionmaker[Session]:
    return open_database(f"sqlite:///{tmp_path_factory.mktemp('browser') / 'web.sqlite3'}")


@pytest.fixture(scope="module")
def site(sessions: sessionmaker[Session], corpus: Path) -> Iterator[tuple[str, Seeded]]:
    """The demo data served by uvicorn on a random local port, in a thread."""
    ids = seed_demo(sessions, corpus)
    with served(create_app(Settings(admin_token=TOKEN), sessions)) as base:
        yield base, ids


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    """A fresh tab; any console error (a CSP violation, a failed stylesheet) fails the test that caused it."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    opened = context.new_page()
    errors: list[str] = []
    opened.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    yield opened
    context.close()
    assert errors == []


def test_home_leads_to_a_diff(site: tuple[str, Seeded], page: object) -> None:
    base, ids = site
    page.goto(base + "/")
    assert page.title() == "Latest changes · newsdelta"
    page.locator("ol.changes a.title").first.click()
    page.wait_for_url(f"{base}/articles/{ids.live}/diff/2/3")
    assert page.locator("h2.pair").inner_text() == "Version 2 | Version 3 (33 minutes later)"
    assert page.locator("script").count() == 0


def test_article_page(site: tuple[str, Seeded], page: object) -> None:
    base, ids = site
    page.goto(f"{base}/articles/{ids.guardian}")
    body = text_of(page.content())
    assert "It last changed over 40 days ago and won't be checked again for changes." in body
    assert page.locator("table.versions tbody tr").count() == 6
    page.get_by_role("link", name="compare with 3").click()
    page.wait_for_url(f"{base}/articles/{ids.guardian}/diff/3/4")


def test_seed_diff_side_by_side_inline_and_navigation(site: tuple[str, Seeded], page: object) -> None:
    base, ids = site
    page.goto(f"{base}/articles/{ids.guardian}/diff/3/4")
    assert page.locator("h2.pair").inner_text() == "Version 3 | Version 4 (about 9 hours later)"
    table = page.locator("table.diff.side")
    assert table.is_visible()
    assert table.locator("del").count() > 0 and table.locator("ins").count() > 0
    columns = table.locator("thead th")
    assert [columns.nth(i).inner_text() for i in range(2)] == ["Version 3", "Version 4 (about 9 hours later)"]
    left, right = (table.locator(f"td.{side}").first.bounding_box() for side in ("old", "new"))
    assert left["x"] + left["width"] <= right["x"] + 1  # really side by side

    screenshot = os.environ.get("NEWSDELTA_SCREENSHOT")
    if screenshot:
        page.set_viewport_size({"width": 1100, "height": 1000})
        save_screenshot(page, Path(screenshot))

    page.get_by_role("link", name="Inline").click()
    page.wait_for_url("**/diff/3/4?view=inline&changes=all")
    assert page.locator("div.diff.inline p").count() > 0
    assert page.locator("table.diff.side").count() == 0

    page.locator("nav.diffnav a[rel=next]").first.click()
    page.wait_for_url(f"{base}/articles/{ids.guardian}/diff/4/5?view=inline&changes=all")
    assert page.locator("h2.pair").inner_text().startswith("Version 4 | Version 5")
    page.locator("nav.diffnav a[rel=prev]").first.click()
    page.locator("nav.diffnav a[rel=prev]").first.click()
    page.wait_for_url(f"{base}/articles/{ids.guardian}/diff/2/3?view=inline&changes=all")

    page.get_by_role("link", name="Changes only").click()
    folds = page.locator("details.fold")
    assert folds.count() > 0
    hidden = folds.first.locator("p").first
    assert not hidden.is_visible()
    folds.first.locator("summary").click()  # unchanged paragraphs open in place, without a script
    assert hidden.is_visible()


def test_inline_view_fits_a_phone(site: tuple[str, Seeded], browser: object) -> None:
    base, ids = site
    context = browser.new_context(viewport={"width": 360, "height": 740})  # type: ignore[attr-defined]
    phone = context.new_page()
    for view in ("inline", "side"):
        phone.goto(f"{base}/articles/{ids.guardian}/diff/3/4?view={view}")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360, view
    context.close()


def test_search_from_the_header(site: tuple[str, Seeded], page: object) -> None:
    base, ids = site
    page.goto(base + "/")
    page.get_by_label("Search all versions").fill("Sochi")
    page.get_by_label("Search all versions").press("Enter")
    page.wait_for_url(f"{base}/search?q=Sochi")
    results = page.locator("ol.results li")
    assert results.count() == 1
    assert results.first.locator("mark").first.inner_text() == "Sochi"
    results.first.locator("a.title").click()
    page.wait_for_url(f"{base}/articles/{ids.guardian}")


def test_each_feed_is_served(site: tuple[str, Seeded], page: object) -> None:
    base, ids = site
    for path in ("/feed", "/sources/guardian/feed", f"/articles/{ids.guardian}/feed", "/search/feed"):
        for fmt, media in (("rss", "application/rss+xml"), ("atom", "application/atom+xml")):
            response = page.request.get(f"{base}{path}.{fmt}?q=Putin")
            assert response.status == 200, path
            assert response.headers["content-type"].startswith(media)
            assert b"<item>" in response.body() or b"<entry>" in response.body(), path


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
    .filter(field => field.type !== 'hidden' && field.labels.length === 0).map(field => field.outerHTML)"""


def test_every_form_field_has_a_label_and_every_page_one_h1(site: tuple[str, Seeded], page: object) -> None:
    base, ids = site
    for path in (
        "/",
        f"/articles/{ids.guardian}",
        f"/articles/{ids.guardian}/diff/3/4",
        "/search?q=Putin",
        "/admin",
    ):
        page.goto(base + path)
        assert page.evaluate(UNLABELLED) == [], path
        assert page.locator("h1").count() == 1, path
        assert page.locator("html").get_attribute("lang") == "en"


PAGES_390 = (
    "/",
    "/about",
    "/sources",
    "/sources/bbc",
    "/sources/bbc/articles",
    "/health",
    "/admin",
    "/search?q=Putin",
    "/articles/{guardian}",
    "/articles/{guardian}/diff/3/4",
    "/articles/{guardian}/diff/3/4?view=inline",
    "/articles/{guardian}/versions/3",
    "/articles/{live}",
    "/articles/{live}/diff/2/3",
)


@pytest.mark.parametrize("width", [1280, 390])
def test_no_page_scrolls_sideways(site: tuple[str, Seeded], browser: object, width: int) -> None:
    base, ids = site
    context = browser.new_context(viewport={"width": width, "height": 800})  # type: ignore[attr-defined]
    tab = context.new_page()
    for path in PAGES_390:
        tab.goto(base + path.format(guardian=ids.guardian, live=ids.live))
        assert tab.evaluate("document.documentElement.scrollWidth") <= width, path
    context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_typing_an_articles_url_lands_on_its_page(
    site: tuple[str, Seeded], browser: object, width: int
) -> None:
    base, ids = site
    context = browser.new_context(viewport={"width": width, "height": 800})  # type: ignore[attr-defined]
    tab = context.new_page()
    tab.goto(base + "/")
    box = tab.get_by_label("Search all versions")
    box.fill(GUARDIAN_URL + "?utm_source=share#top")
    box.press("Enter")
    tab.wait_for_url(f"{base}/articles/{ids.guardian}")
    assert tab.locator("h1").inner_text().startswith("Vladimir Putin briefs")
    context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_home_row_shows_both_headlines(site: tuple[str, Seeded], browser: object, width: int) -> None:
    base, _ = site
    context = browser.new_context(viewport={"width": width, "height": 800})  # type: ignore[attr-defined]
    tab = context.new_page()
    tab.goto(base + "/?source=guardian")
    row = tab.locator("ol.changes > li").first
    assert row.locator("a.title").inner_text().startswith("Vladimir Putin briefs")
    tab.goto(base + "/")
    live = tab.locator("ol.changes > li").first
    headlines = live.locator(".headlines").first  # the latest change; the expanded list has its own
    assert headlines.locator("del").inner_text() == "Talks begin"
    assert headlines.locator("ins").inner_text() == "Talks end <script>alert('x')</script> & agree"
    assert headlines.is_visible()
    screenshot = os.environ.get("NEWSDELTA_SCREENSHOT")
    if screenshot and width == 1280:  # the README's home page, beside its diff
        tab.set_viewport_size({"width": 1100, "height": 760})
        save_screenshot(tab, Path(screenshot).with_name("home.png"))
    details = live.locator("details.period")
    assert not details.locator("ol").is_visible()
    details.locator("summary").click()
    assert details.locator("ol > li").count() == 3
    context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_cite_panel_quotes_the_evidence_hash(site: tuple[str, Seeded], browser: object, width: int) -> None:
    base, ids = site
    context = browser.new_context(viewport={"width": width, "height": 800})  # type: ignore[attr-defined]
    tab = context.new_page()
    tab.goto(f"{base}/articles/{ids.guardian}/versions/3")
    tab.locator("details.cite summary").click()
    quoted = tab.locator("details.cite code.sha").inner_text()
    evidence = tab.request.get(f"{base}/articles/{ids.guardian}/versions/3/raw").body()
    assert quoted == hashlib.sha256(evidence).hexdigest()
    assert quoted in tab.locator("pre.citation").first.inner_text()
    context.close()


@pytest.fixture(scope="module")
def live_blog(site: tuple[str, Seeded], sessions: sessionmaker[Session]) -> int:
    """A 4,000-word live blog in the site's database: long enough to open on changes only."""
    return seed_live_blog(sessions, words=4000, versions=3)


@pytest.mark.parametrize("width", [1280, 390])
def test_a_long_articles_diff_opens_on_changes_only(
    site: tuple[str, Seeded], live_blog: int, browser: object, width: int
) -> None:
    base, _ = site
    context = browser.new_context(viewport={"width": width, "height": 800})  # type: ignore[attr-defined]
    tab = context.new_page()
    tab.goto(f"{base}/articles/{live_blog}")
    tab.get_by_role("link", name="compare with 1").click()
    tab.wait_for_url(f"{base}/articles/{live_blog}/diff/1/2")
    assert tab.locator('.modes [aria-current="page"]').nth(1).inner_text() == "Changes only"
    assert tab.locator("details.fold").count() > 0
    first_key = tab.locator("nav.keys a").first
    target = first_key.get_attribute("href")
    first_key.click()
    assert tab.locator(target).is_visible()
    height = tab.evaluate("document.documentElement.scrollHeight")
    tab.goto(f"{base}/articles/{live_blog}/diff/1/2?changes=all")
    assert tab.evaluate("document.documentElement.scrollHeight") > 2 * height
    assert tab.evaluate("document.documentElement.scrollWidth") <= width
    context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_admin_enters_the_token_once(site: tuple[str, Seeded], browser: object, width: int) -> None:
    base, ids = site
    context = browser.new_context(viewport={"width": width, "height": 800})  # type: ignore[attr-defined]
    tab = context.new_page()
    tab.goto(base + "/admin")
    assert tab.locator("#hide-id").count() == 0  # no action without a session
    tab.get_by_label("Admin token").fill(TOKEN)
    tab.get_by_role("button", name="Log in").click()
    tab.wait_for_url("**/admin?done=logged*")
    (cookie,) = [c for c in context.cookies() if c["name"] == "newsdelta_admin"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/admin"
    assert tab.locator("input[type=password]").count() == 0  # no form asks for the token again
    tab.get_by_label("Article number").fill(str(ids.retired))
    tab.get_by_label("Reason shown to readers").fill("Court order 7.")
    tab.get_by_role("button", name="Hide").click()
    tab.wait_for_url("**/admin?done=article*")
    assert "Court order 7." in tab.locator("ul.hidden-articles").inner_text()
    tab.get_by_role("button", name=f"Show article {ids.retired} again").click()
    tab.wait_for_url("**/admin?done=article*")
    assert tab.request.get(f"{base}/articles/{ids.retired}").status == 200
    assert tab.evaluate("document.documentElement.scrollWidth") <= width
    tab.get_by_role("button", name="Log out").click()
    tab.wait_for_url("**/admin?done=logged*")
    assert tab.get_by_label("Admin token").is_visible()
    assert [c for c in context.cookies() if c["name"] == "newsdelta_admin"] == []
    context.close()


LABEL = "el => getComputedStyle(el, '::before').content"


@pytest.mark.parametrize("width", [1280, 390])
def test_timing_own_time_zone_stacked_labels_and_the_old_version_banner(
    site: tuple[str, Seeded], browser: object, width: int
) -> None:
    base, ids = site
    context = browser.new_context(viewport={"width": width, "height": 800})  # type: ignore[attr-defined]
    tab = context.new_page()
    tab.goto(f"{base}/articles/{ids.guardian}/diff/3/4")
    timing = tab.locator("p", has_text="Changed between").first
    assert "21 November 2017, 10:12 UTC" in timing.inner_text()
    first_old = tab.locator("table.diff.side td.old").first
    if width == 390:  # stacked: each cell says whose paragraph it is
        assert first_old.evaluate(LABEL) == '"Version 3, paragraph 1"'
    tab.get_by_role("link", name="change", exact=True).click()  # the footer's time-zone control, no script
    tab.get_by_label("Show times in").select_option("Asia/Kolkata")
    tab.get_by_role("button", name="Save").click()
    tab.wait_for_url(f"{base}/articles/{ids.guardian}/diff/3/4")
    assert "21 November 2017, 15:42 IST" in tab.locator("p", has_text="Changed between").first.inner_text()
    tab.goto(f"{base}/articles/{ids.guardian}/versions/3")
    banner = tab.locator("p.banner")
    assert "not the latest" in banner.inner_text()
    banner.get_by_role("link").click()
    tab.wait_for_url(f"{base}/articles/{ids.guardian}/versions/5")
    assert tab.locator("p.banner").count() == 0
    context.close()

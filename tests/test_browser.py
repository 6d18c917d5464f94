"""The site in headless Chromium (Debian's, driven by Playwright): what a reader clicks through.

Set NEWSDELTA_SCREENSHOT=path to also write the README's screenshot of the seed-guardian diff there.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from web_support import text_of

from newsdelta.config import Settings
from newsdelta.store.db import open_database
from newsdelta.web.app import create_app
from newsdelta.web.fixtures import Seeded, seed_demo

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Iterator[tuple[str, Seeded]]:
    """The demo data served by uvicorn on a random local port, in a thread."""
    sessions = open_database(f"sqlite:///{tmp_path_factory.mktemp('browser') / 'web.sqlite3'}")
    ids = seed_demo(sessions, corpus)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(Settings(), sessions), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}", ids
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


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
        page.screenshot(path=screenshot, full_page=False)

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
    assert page.locator("p.fold").count() > 0


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

"""axe-core (Deque's accessibility engine, MPL-2.0, a test-only tool bundled by the axe-playwright-python
package, so nothing is fetched at test time) on every kind of page, at 1280 px and 390 px, in the light and the
dark colour scheme: the seed-guardian pair and the demo's awkward cases, a long live blog, and what a crawl of
the simulated newsroom's morning stored (none of which may scroll sideways either). Every <details> is opened first, so folded paragraphs and the cite
panel are checked too. The rules are WCAG 2.0 and 2.1, A and AA, and axe's best practices (landmarks, heading
order, one main)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import browser, served
from crawl_support import crawl_scripted_day
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from web_support import TOKEN

from newsdelta.config import Settings
from newsdelta.store.db import open_database
from newsdelta.store.models import Article, Source, Version
from newsdelta.testing.newsroom import Newsroom
from newsdelta.web.app import create_app
from newsdelta.web.fixtures import seed_demo, seed_live_blog

pytestmark = pytest.mark.browser
__all__ = ["browser"]  # the fixture, imported for pytest

RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
RUN_AXE = f"""async () => {{
    document.querySelectorAll('details').forEach(details => details.open = true);
    const result = await axe.run(document, {{runOnly: {{type: 'tag', values: {RULES!r}}}}});
    return result.violations.map(v => [v.id, v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)]);
}}"""


def _newsroom_pages(session: Session) -> list[str]:
    """The newsroom's lists, its most edited article with each view of its latest diff, and a removed page."""
    edited = session.execute(
        select(Article.id, Article.version_count)
        .join(Source, Source.id == Article.source_id)
        .where(Source.name == "newsroom")
        .order_by(Article.version_count.desc(), Article.id)
        .limit(1)
    ).one()
    article, count = edited
    assert count >= 2, "the newsroom's morning should have edited an article"
    diff = f"/articles/{article}/diff/{count - 2}/{count - 1}"
    pages = [
        "/sources/newsroom",
        "/sources/newsroom/articles?order=versions",
        f"/articles/{article}",
        f"/articles/{article}/versions/0",
        diff,
        diff + "?view=inline",
        diff + "?changes=only",
        diff + "?view=inline&changes=only",
    ]
    removed = session.execute(
        select(Version.article_id, func.max(Version.number))
        .where(Version.origin == "removed")
        .group_by(Version.article_id)
    ).first()
    if removed is not None:
        pages.append(f"/articles/{removed[0]}/diff/{removed[1] - 1}/{removed[1]}")
    return pages


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Iterator[tuple[str, list[str]]]:
    """The site over the demo, a long live blog and six scripted hours of the newsroom; the pages to check."""
    sessions: sessionmaker[Session] = open_database(
        f"sqlite:///{tmp_path_factory.mktemp('axe') / 'web.sqlite3'}"
    )
    ids = seed_demo(sessions, corpus)
    blog = seed_live_blog(sessions, words=4000, versions=3)
    with Newsroom() as newsroom:
        crawl_scripted_day(sessions, newsroom, hours=6)
    with sessions() as session:
        newsroom_pages = _newsroom_pages(session)
    guardian = f"/articles/{ids.guardian}"
    paths = [
        "/",
        "/?source=guardian",
        "/sources",
        "/sources/bbc",
        "/sources/bbc/articles",
        "/search?q=Putin",
        "/search?q=nothing+matches+this",
        "/health",
        "/about",
        "/time-zone",
        "/admin",
        "/admin/notifications",
        guardian,
        f"{guardian}/versions/3",
        f"{guardian}/versions/5",
        f"{guardian}/diff/3/4",
        f"{guardian}/diff/3/4?view=inline",
        f"{guardian}/diff/3/4?changes=only",
        f"{guardian}/diff/3/4?view=inline&changes=only",
        f"/articles/{ids.live}",
        f"/articles/{ids.live}/diff/2/3",
        f"/articles/{ids.gone}",
        f"/articles/{ids.gone}/diff/0/1",
        f"/articles/{ids.hidden}",  # 410, the error page
        "/articles/999999",  # 404
        f"/articles/{blog}",
        f"/articles/{blog}/diff/1/2",
        f"/articles/{blog}/diff/1/2?view=inline",
        *newsroom_pages,
    ]
    with served(create_app(Settings(admin_token=TOKEN), sessions)) as base:
        yield base, paths


@pytest.fixture(scope="module")
def axe_js() -> Path:
    """axe-core as the test extra's axe-playwright-python ships it: a missing extra is an error, not a skip."""
    from axe_playwright_python.base import AXE_FILE_PATH

    return Path(AXE_FILE_PATH)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 390])
def test_axe_finds_no_violations_on_any_page(
    pages: tuple[str, list[str]], browser: object, axe_js: Path, width: int, scheme: str
) -> None:
    base, paths = pages
    # The site's CSP allows no script at all; only axe's own, injected by the test, is let through.
    context = browser.new_context(  # type: ignore[attr-defined]
        viewport={"width": width, "height": 800}, color_scheme=scheme, bypass_csp=True
    )
    tab = context.new_page()
    found, overflowing = {}, []
    for path in paths:
        tab.goto(base + path)
        if tab.evaluate("document.documentElement.scrollWidth") > width:
            overflowing.append(path)  # the newsroom's pages too: nothing scrolls sideways
        found[path] = _check(tab, axe_js)
    tab.goto(base + "/admin")  # the admin's own pages, in a session
    tab.get_by_label("Admin token").fill(TOKEN)
    tab.get_by_role("button", name="Log in").click()
    tab.wait_for_url("**/admin?done=logged*")
    for path in ("/admin?done=logged in", "/admin/notifications"):
        tab.goto(base + path)
        found[f"{path} (logged in)"] = _check(tab, axe_js)
    assert tab.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") == (scheme == "dark")
    context.close()
    assert {path: problems for path, problems in found.items() if problems} == {}
    assert overflowing == []


def _check(tab: object, axe_js: Path) -> list[tuple[str, list[str]]]:
    tab.add_script_tag(path=str(axe_js))  # type: ignore[attr-defined]
    return tab.evaluate(RUN_AXE)  # type: ignore[attr-defined,no-any-return]


def test_the_harness_reports_what_axe_finds(browser: object, axe_js: Path) -> None:
    """A page with known faults (no language, an image without text, grey on grey): so a clean run means clean."""
    context = browser.new_context(bypass_csp=True)  # type: ignore[attr-defined]
    tab = context.new_page()
    tab.set_content(
        '<title>t</title><main><img src="x.png"><p style="color:#999;background:#aaa">Low</p></main>'
    )
    found = {rule for rule, _ in _check(tab, axe_js)}
    context.close()
    assert {"html-has-lang", "image-alt", "color-contrast"} <= found

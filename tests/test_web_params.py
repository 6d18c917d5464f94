"""Bad path and query parameters: a 4xx that says what is wrong (a page, FastAPI's error shape under /api/,
plain text for feeds and raw pages), never a 500; then a property test over every route's parameters.

Each runs on SQLite and on PostgreSQL, which refuse different things (PostgreSQL: NUL bytes, ids past 32 bits).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import feedparser
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web_support import TOKEN, Demo, admin_login, demo, postgres_database, text_of

from newsdelta.config import Settings
from newsdelta.store.db import open_database
from newsdelta.store.models import Article
from newsdelta.web.app import create_app
from newsdelta.web.fixtures import Seeded, add_version, seed_demo

__all__ = ["demo"]

BIG = 2**63  # one past the largest 64-bit id


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, corpus: Path
) -> Iterator[tuple[TestClient, Seeded]]:
    """The demo data on each backend, one app per module: the database is read, not changed."""
    with contextlib.ExitStack() as stack:
        if request.param == "postgres":
            sessions = stack.enter_context(postgres_database())
        else:
            sessions = open_database(f"sqlite:///{tmp_path_factory.mktemp('params') / 'web.sqlite3'}")
        ids = seed_demo(sessions, corpus)
        app = create_app(Settings(admin_token=TOKEN), sessions)
        yield stack.enter_context(TestClient(app, raise_server_exceptions=False)), ids


HTML_CASES = [
    f"/articles/{BIG}",
    f"/articles/{2**31}",
    f"/articles/{-BIG - 1}",
    f"/articles/1/versions/{BIG}",
    f"/articles/{BIG}/diff/0/1",
    f"/articles/1/diff/0/{BIG}",
    f"/articles/1/diff?from=0&to={BIG}",
    "/?page=-1",
    f"/?page={BIG}",
    "/?page=two",
    "/?source=%00",
    "/sources/%00",
    "/sources/bbc?page=99999999",
    "/search?q=%00",
    "/search?q=a&page=-5",
]
TEXT_CASES = [
    f"/articles/{BIG}/feed.rss",
    f"/articles/1/versions/{BIG}/raw",
    "/sources/%01/feed.atom",
    "/search/feed.rss?q=%00",
]
API_CASES = [
    f"/api/articles/{BIG}",
    f"/api/articles/1/versions/{BIG}",
    f"/api/articles/1/versions/{2**31}",
    f"/api/articles/1/diff/0/{BIG}",
    f"/api/articles/1/diff/{-BIG}/0",
    "/api/articles?page=-1",
    "/api/articles?per_page=0",
    f"/api/changes?page={BIG}",
    "/api/changes?source=%00",
    "/api/search?q=%00",
    "/api/articles?changed_since=yesterday",
]


@pytest.mark.parametrize("path", HTML_CASES)
def test_bad_parameters_of_pages_are_a_readable_4xx_page(site: tuple[TestClient, Seeded], path: str) -> None:
    response = site[0].get(path)
    assert 400 <= response.status_code < 500, (path, response.status_code)
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>Bad request</h1>" in response.text, path
    assert "control characters are not allowed" in text_of(response.text) or "Input should" in response.text


@pytest.mark.parametrize("path", TEXT_CASES)
def test_bad_parameters_of_feeds_and_raw_pages_are_a_4xx_in_text(
    site: tuple[TestClient, Seeded], path: str
) -> None:
    response = site[0].get(path)
    assert 400 <= response.status_code < 500, (path, response.status_code)
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith("Bad request. ")


@pytest.mark.parametrize("path", API_CASES)
def test_bad_parameters_of_the_api_get_fastapis_error_shape(
    site: tuple[TestClient, Seeded], path: str
) -> None:
    response = site[0].get(path)
    assert response.status_code == 422, (path, response.status_code)
    (problem,) = response.json()["detail"]
    assert {"loc", "msg", "type"} <= problem.keys() and problem["loc"][0] in ("path", "query")


def test_bad_ids_in_admin_actions_are_a_4xx(site: tuple[TestClient, Seeded]) -> None:
    (client, ids), auth = site, {"Authorization": f"Bearer {TOKEN}"}
    csrf = admin_login(client)
    form = client.post("/admin/hide", data={"article": 2**31, **csrf})
    assert form.status_code == 422 and "<h1>Bad request</h1>" in form.text
    assert client.post(f"/admin/articles/{BIG}/unhide", data=csrf).status_code == 422
    assert client.post(f"/api/admin/articles/{BIG}/hide", json={}, headers=auth).status_code == 422
    assert client.delete(f"/api/admin/feeds/{BIG}", headers=auth).json()["detail"][0]["loc"] == [
        "path",
        "feed_id",
    ]
    nul = client.post(f"/api/admin/articles/{ids.live}/hide", json={"reason": "a\x00b"}, headers=auth)
    assert nul.status_code == 422


def test_changed_since_takes_any_time_and_reads_a_bare_one_as_utc(site: tuple[TestClient, Seeded]) -> None:
    def ids(since: str) -> list[int]:
        response = site[0].get("/api/articles", params={"changed_since": since})
        assert response.status_code == 200, (since, response.text)
        return [row["id"] for row in response.json()["items"]]

    everything = ids("2000-01-01T00:00:00Z")
    assert everything and ids("0001-01-01T00:00:00+14:00") == everything  # before year 1 in UTC: clamped
    assert ids("0001-01-01T00:00:00") == everything
    assert ids("9999-12-31T23:59:59") == [] and ids("9999-12-31T23:59:59-14:00") == []
    naive_now = datetime.now(UTC).replace(tzinfo=None).isoformat()
    assert ids(naive_now) == []  # read as UTC, not as the server's local time


def test_a_title_with_control_characters_still_makes_a_valid_feed(demo: Demo) -> None:
    with demo.sessions.begin() as session:
        article = session.get(Article, demo.ids.live)
        add_version(session, article, "Bell\x07 and \x1b[31mescape\ufffe", ["Text."], datetime.now(UTC))
    for path in ("/feed.rss", "/feed.atom", f"/articles/{demo.ids.live}/feed.atom", "/sources/bbc/feed.rss"):
        response = demo.client.get(path)
        assert response.status_code == 200, path
        parsed = feedparser.parse(response.content)
        assert not parsed.bozo and "→ Bell and [31mescape [bbc" in parsed.entries[0].title, path


# --- the property test -----------------------------------------------------------------------------------------


ROUTES = [
    "/",
    "/articles/{id}",
    "/articles/{id}/diff",
    "/articles/{id}/diff/{n}/{m}",
    "/articles/{id}/versions/{n}",
    "/articles/{id}/versions/{n}/raw",
    "/articles/{id}/feed.{fmt}",
    "/sources",
    "/sources/{name}",
    "/sources/{name}/feed.{fmt}",
    "/feed.{fmt}",
    "/search",
    "/search/feed.{fmt}",
    "/admin",
    "/health",
    "/api/health",
    "/api/sources",
    "/api/changes",
    "/api/articles",
    "/api/articles/{id}",
    "/api/articles/{id}/versions/{n}",
    "/api/articles/{id}/diff/{n}/{m}",
    "/api/search",
]
PARAMETERS = ["page", "per_page", "source", "state", "changed_since", "q", "from", "to", "view", "changes"]
PARAMETERS += ["download", "done"]

# Ids near the real ones (so real articles and versions are hit) and far outside every range.
numbers = st.one_of(
    st.integers(-3, 8),
    st.integers(-(2**70), 2**70),
    st.sampled_from([2**31 - 1, 2**31, 2**63 - 1, 2**63, 2**64, -(2**63) - 1]),
)
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)  # anything a URL can carry
times = st.one_of(
    st.datetimes(timezones=st.none() | st.timezones()).map(datetime.isoformat),
    st.sampled_from(["9999-12-31T23:59:59", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-23:59"]),
)
segment = st.one_of(numbers.map(str), texts, st.sampled_from(["bbc", "guardian", "rss", "atom", "json"]))
value = st.one_of(numbers.map(str), texts, times, st.sampled_from(["side", "inline", "all", "only", "live"]))


@st.composite
def requests(draw: st.DrawFn) -> str:
    route = draw(st.sampled_from(ROUTES))
    path = route
    for name in ("{id}", "{n}", "{m}", "{name}", "{fmt}"):
        while name in path:
            path = path.replace(name, quote(draw(segment), safe=""), 1)
    query = draw(st.dictionaries(st.sampled_from(PARAMETERS), value, max_size=4))
    return path + (
        "?" + "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in query.items()) if query else ""
    )


@settings(
    max_examples=250,
    derandomize=True,  # the same examples on every run: CI never fails on a new random draw
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)
@given(url=requests())
def test_no_parameter_makes_the_site_fail(site: tuple[TestClient, Seeded], url: str) -> None:
    client, _ = site
    response = client.get(url, follow_redirects=False)
    health = url.split("?")[0] in ("/health", "/api/health")
    assert response.status_code < 500 or (health and response.status_code == 503), (url, response.text[:300])
    if 400 <= response.status_code < 500:
        kind = response.headers["content-type"]
        assert kind.startswith(("text/html", "application/json", "text/plain")), (url, kind)
        assert response.content, url


@st.composite
def admin_requests(draw: st.DrawFn) -> tuple[str, str, dict[str, object]]:
    """Admin actions in a session (so the guesses' rate limit stays out of the way) and hostile input.

    Adding feeds and tracking URLs are left out: their URL checks resolve host names, which tests must not do.
    """
    target = quote(draw(segment), safe="")
    reason = draw(texts)
    form: dict[str, object] = {}  # the test adds the session's CSRF token
    return draw(
        st.sampled_from(
            [
                ("POST", "/admin/hide", {"data": {**form, "article": draw(value), "reason": reason}}),
                ("POST", f"/admin/articles/{target}/unhide", {"data": form}),
                ("POST", "/admin/logout", {"data": form}),
                ("POST", f"/api/admin/articles/{target}/hide", {"json": {"reason": reason}}),
                ("POST", f"/api/admin/articles/{target}/unhide", {}),
                ("DELETE", f"/api/admin/feeds/{target}", {}),
            ]
        )
    )


@settings(max_examples=100, derandomize=True, deadline=None, database=None)
@given(request=admin_requests())
def test_no_admin_input_makes_the_site_fail(
    site: tuple[TestClient, Seeded], request: tuple[str, str, dict[str, object]]
) -> None:
    method, path, body = request
    auth = {"Authorization": f"Bearer {TOKEN}"}
    if "data" in body:
        body = {"data": {**body["data"], **admin_login(site[0])}}  # type: ignore[dict-item]
    response = site[0].request(method, path, headers=auth, follow_redirects=False, **body)  # type: ignore[arg-type]
    assert response.status_code < 500, (method, path, body, response.text[:300])

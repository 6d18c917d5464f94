"""Every outlet page in ../shared/corpus/outlets/ parses to what expectations.json says it must.

Expected text is compared after `newsdelta.text.normalise`, the one normalisation every version goes through
(so "BBC News,  Des Moines" in the old expectations reads "BBC News, Des Moines").
"""

from __future__ import annotations

import gzip
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import CORPUS

from newsdelta.extract import Extracted, ExtractionError, extract, parser_for
from newsdelta.extract.dates import parse_date
from newsdelta.extract.generic import GENERIC
from newsdelta.extract.outlets import EXPERIMENTAL_PARSERS, OUTLET_PARSERS
from newsdelta.extract.registry import fallback_name, fallback_outlet
from newsdelta.settings import EXPERIMENTAL_PARSERS as EXPERIMENTAL_SETTING
from newsdelta.text import normalise

CORPUS_OUTLETS = CORPUS / "outlets"

# Cases whose expectation cannot hold for its own fixture; each reason names what the page really holds.
# The facts behind each reason are asserted by the tests further down, so none of this is taken on trust.
KNOWN_WRONG = {
    ("bbc_news/10341015.stm.html.gz", "BbcNewsPageParserV5"): (
        "expectation mixes two pages: its title is 8040164.stm's ('£100K mortgage claim by Woodward'), its "
        "paragraphs are 10341015.stm's (h1 'Coalition government axes £2bn of projects'); paragraphs pass"
    ),
    ("bbc_news/19957138.stm.html.gz", "BbcNewsPageParserV5"): (
        "expectation describes 11125504.html (UK economy), not its fixture 19957138.stm (Gary McKinnon); "
        "test_uk_economy_expectation_holds_for_its_own_page checks it on the right page"
    ),
    ("bbc_news/54622059.html.gz", "BbcNewsPageParserV6"): (
        "expected title is the UK economy article's; the page's h1 is 'Long Covid: Who is more likely to get it?'"
    ),
    ("guardian/cop27-egypt-climate-disaster-funds.html.gz", "GuardianPageParserV4"): (
        "expects 15 paragraphs: the 13 article paragraphs plus 2 chrome items inside the body (a newsletter "
        "sign-up and rich 'Read more' / video-caption figures) that issue 3 says must be dropped"
    ),
    ("theintercept/pentagon-missionary.html.gz", "TheInterceptPageParserV1"): (
        "the old parser counted two <p>&nbsp;</p> spacers as paragraphs (Ruby's strip keeps NBSP); our one "
        "normalisation drops them, so [13]/[83] are at [12]/[81] and the count is 84, not 86"
    ),
    # Legacy: expectations of an older parser version that the current expectation supersedes.
    ("bbc_news/61896381.html.gz", "BbcNewsPageParserV6"): (
        "legacy V6 counted 9 paragraphs on this video page; the current V7 expectation (7, checked) supersedes it"
    ),
    ("guardian/julian-assange-donald-trump-hillary-clinton-interview.html.gz", "GuardianPageParserV2"): (
        "legacy V2 stopped before the closing correction note; current V3 expects it (17 paragraphs, checked)"
    ),
}


def _cases() -> list[Any]:
    if not (CORPUS_OUTLETS / "expectations.json").is_file():
        return []
    cases = json.loads((CORPUS_OUTLETS / "expectations.json").read_text())
    params = []
    for case in cases:
        reason = KNOWN_WRONG.get((case["fixture"], case["parser_version_in_spec"]))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        case_id = f"{case['fixture'].removesuffix('.html.gz')}:{case['parser_version_in_spec']}"
        params.append(pytest.param(case, id=case_id, marks=marks))
    return params


def parse_fixture(fixture: str, url: str) -> Extracted:
    return extract(gzip.decompress((CORPUS_OUTLETS / fixture).read_bytes()), url)


@pytest.mark.parametrize("case", _cases())
def test_expectation(corpus: Path, case: dict[str, Any]) -> None:
    result = parse_fixture(case["fixture"], case["url"])
    assert result.parser == case["outlet"]
    if case["title"] is not None:
        assert result.title == normalise(case["title"])
    for index, expected in case["paragraphs"].items():
        assert result.paragraphs[int(index)] == normalise(expected), f"paragraph {index}"
    if case["paragraph_count"] is not None:
        assert len(result.paragraphs) == case["paragraph_count"]
    for pattern in case["must_not_contain"]:
        assert not any(re.search(pattern, p) for p in result.paragraphs), pattern
    if case["date_utc"]:
        assert_same_date(result.published, case["date_as_written"], datetime.fromisoformat(case["date_utc"]))


def assert_same_date(published: datetime | None, as_written: str, expected: datetime) -> None:
    """Compare the instant where the page's date had a time of day, the calendar date where it had none."""
    assert published is not None and published.tzinfo is UTC
    if re.search(r"\d:\d\d", as_written):
        assert published == expected
    else:
        assert published.date() == expected.date()


# -- what the known-wrong expectations really describe -------------------------------------------------


def test_woodward_title_belongs_to_8040164(corpus: Path) -> None:
    result = parse_fixture(
        "bbc_news/8040164.stm.html.gz", "http://news.bbc.co.uk/1/hi/northern_ireland/8040164.stm"
    )
    assert result.title == "£100K mortgage claim by Woodward"
    assert result.paragraphs[0].startswith("Northern Ireland Secretary Shaun Woodward claimed £100,000")


def test_uk_economy_expectation_holds_for_its_own_page(corpus: Path) -> None:
    result = parse_fixture("bbc_news/11125504.html.gz", "http://www.bbc.co.uk/news/business-11125504")
    assert result.title == "UK economy 'to pick up in near term'"
    assert result.paragraphs[0].startswith("The British Chambers of Commerce (BCC) has upgraded its forecast")
    assert result.paragraphs[-1] == '"Failure to get this right poses the biggest risk to recovery."'


@pytest.mark.parametrize(
    ("fixture", "absent"),
    [
        ("bbc_news/13293006.html.gz", ("Market Data", "Last updated at")),
        ("bbc_news/12921632.html.gz", ("Fake and real quotes",)),
        (
            "bbc_news/19957138.stm.html.gz",
            ("US Election Tweets", "High Noon for Abu Qatada?", "Content from Twitter."),
        ),
        ("bbc_news/8063681.stm.html.gz", ("Add your comments", "The BBC may edit your comments")),
        ("bbc_news/10341015.stm.html.gz", ("Read your comments",)),
    ],
)
def test_bbc_widgets_stay_out_of_the_body(corpus: Path, fixture: str, absent: tuple[str, ...]) -> None:
    result = parse_fixture(fixture, "http://www.bbc.co.uk/news/uk-10000000")
    assert result.paragraphs
    assert not [p for p in result.paragraphs for text in absent if text in p]


def test_bbc_magazine_page_ends_with_the_story(corpus: Path) -> None:
    result = parse_fixture("bbc_news/8063681.stm.html.gz", "http://news.bbc.co.uk/1/hi/magazine/8063681.stm")
    assert result.title == "My night with Parisien prostitutes"
    assert result.paragraphs[-1].startswith("Anyone like me, who's savoured the exotic delights")


def test_cop27_body_is_the_article_without_its_chrome(corpus: Path) -> None:
    url = "https://www.theguardian.com/environment/2022/nov/09/cop27-egypt-climate-disaster-funds"
    result = parse_fixture("guardian/cop27-egypt-climate-disaster-funds.html.gz", url)
    assert len(result.paragraphs) == 13
    chrome = ("Sign up to", "Read more", "Privacy Notice", "Are you a climate denier", "Cop27 live")
    assert not [p for p in result.paragraphs for text in chrome if text in p]


def test_pentagon_missionary_paragraphs_without_nbsp_spacers(corpus: Path) -> None:
    url = "https://theintercept.com/2015/10/26/pentagon-missionary-spies-christian-ngo-front-for-north-korea-espionage/"
    result = parse_fixture("theintercept/pentagon-missionary.html.gz", url)
    assert len(result.paragraphs) == 84
    assert result.paragraphs[12].startswith("HISG WAS ESTABLISHED shortly after 9/11")
    assert result.paragraphs[81].startswith("This report makes reference to a donation from Working Partners")
    assert result.paragraphs[-1].startswith("Top photo: U.S. President George W. Bush with Kay Hiramine")


# -- the same URL captured years apart ---------------------------------------------------------------

SAME_ARTICLE_CAPTURES = [
    (
        "guardian/boris-johnson-apologises",
        "-2022",
        "https://www.theguardian.com/politics/2019/nov/03/boris-johnson-apologises-tory-members-not-leaving-eu-october",
    ),
    (
        "new_york_times/show-banned-french-comedian-has-new-one",
        "-2018",
        "https://www.nytimes.com/2014/01/12/world/europe/show-banned-french-comedian-has-new-one.html",
    ),
    (
        "washingtonpost/beto-orourke-quits",
        "-2024",
        "https://www.washingtonpost.com/politics/beto-orourke-quits-presidential-race-amid-financial-strains-and"
        "-lagging-popularity/2019/11/01/e25c380c-fcee-11e9-8190-6be4deb56e01_story.html",
    ),
    (
        "washingtonpost/sgt-bowe-bergdahls-capture-remains-amystery",
        "-2018",
        "http://www.washingtonpost.com/world/national-security/sgt-bowe-bergdahls-capture-remains-amystery/2014/01"
        "/15/4f8ef686-7e28-11e3-9556-4a4bf7bcbd84_story.html",
    ),
    (
        "washingtonpost/will-a-bust-follow-the-boom-in-britain",
        "-2018",
        "http://www.washingtonpost.com/world/will-a-bust-follow-the-boom-in-britain/2014/01/18/3677a6ae-7f9d-11e3"
        "-97d3-b9925ce2c57b_story.html",
    ),
]


@pytest.mark.parametrize(
    ("base", "later", "url"), SAME_ARTICLE_CAPTURES, ids=[c[0] for c in SAME_ARTICLE_CAPTURES]
)
def test_unchanged_article_reads_the_same_in_every_template(
    corpus: Path, base: str, later: str, url: str
) -> None:
    first = parse_fixture(f"{base}.html.gz", url)
    again = parse_fixture(f"{base}{later}.html.gz", url)
    assert (again.title, again.paragraphs) == (first.title, first.paragraphs)
    assert len(first.paragraphs) > 5


def test_bbc_article_edited_between_captures_reads_differently(corpus: Path) -> None:
    """32275608 was rewritten after the first capture (a real edit), so the two templates must not agree."""
    url = "http://www.bbc.co.uk/news/world-us-canada-32275608"
    before = parse_fixture("bbc_news/32275608.html.gz", url)
    after = parse_fixture("bbc_news/32275608-2020.html.gz", url)
    assert before.paragraphs[0].startswith("Former US Secretary of State Hillary Clinton is expected to")
    assert after.paragraphs[1].startswith("Former US Secretary of State Hillary Clinton has formally entered")


# -- metadata ----------------------------------------------------------------------------------------


def test_metadata_of_a_modern_page(corpus: Path) -> None:
    url = "https://www.theguardian.com/politics/2019/nov/03/boris-johnson-apologises-tory-members-not-leaving-eu-october"
    result = parse_fixture("guardian/boris-johnson-apologises-2022.html.gz", url)
    assert result.byline == "Kate Proctor"
    assert result.canonical_url == url
    assert result.parser_version == parser_for(url).version  # type: ignore[union-attr]
    assert result.updated is not None and result.updated.tzinfo is UTC and result.updated >= result.published


def test_byline_loses_its_by_prefix(corpus: Path) -> None:
    result = parse_fixture("bbc_news/54528983.html.gz", "https://www.bbc.co.uk/news/health-54528983")
    assert result.byline == "Rachel Schraer"


# -- garbage -------------------------------------------------------------------------------------------

GARBAGE = {
    "empty": "",
    "whitespace": "  \n ",
    "binary": bytes(range(256)) * 8,
    "head only": b"<html><head><title>x</title>",
    "not html": "just some words, no markup at all",
}


ALL_PARSERS = OUTLET_PARSERS + EXPERIMENTAL_PARSERS


@pytest.fixture
def experimental_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(EXPERIMENTAL_SETTING.env, "all")


@pytest.mark.usefixtures("experimental_on")
@pytest.mark.parametrize("parser", ALL_PARSERS, ids=[p.name for p in ALL_PARSERS])
@pytest.mark.parametrize("page", GARBAGE.values(), ids=GARBAGE.keys())
def test_garbage_raises_a_clear_error(parser: Any, page: str | bytes) -> None:
    url = f"https://www.{parser.hosts[0]}/news/2020/01/01/garbage-123456.html"
    with pytest.raises(ExtractionError):
        extract(page, url)


def test_xhtml_page_with_an_encoding_declaration_parses(corpus: Path) -> None:
    url = "http://news.bbc.co.uk/1/hi/england/bradford/6072486.stm"
    page = gzip.decompress((CORPUS_OUTLETS / "bbc_news/6072486.stm.html.gz").read_bytes()).decode("cp1252")
    declared = extract('<?xml version="1.0" encoding="iso-8859-1"?>\n' + page, url)
    assert declared == extract(page, url)


def _corpus_page(fixture: str) -> bytes:
    return gzip.decompress((CORPUS_OUTLETS / fixture).read_bytes())


# A page in a template the outlet never used: another outlet's (the Independent's older format is detected by
# itemprop=articleBody, which the Guardian's 2019 page carries too, so it gets a BBC page).
FOREIGN_PAGE = {"guardian": "bbc_news/54528983.html.gz", "independent": "bbc_news/54528983.html.gz"}


@pytest.mark.usefixtures("experimental_on")
@pytest.mark.parametrize("parser", ALL_PARSERS, ids=[p.name for p in ALL_PARSERS])
def test_page_of_an_unknown_format_gets_the_generic_reading(corpus: Path, parser: Any) -> None:
    """An outlet that changed its HTML is still tracked: the generic extractor reads it, and says so."""
    fixture = FOREIGN_PAGE.get(parser.name, "guardian/boris-johnson-apologises.html.gz")
    url = f"https://www.{parser.hosts[0]}/news/2020/01/01/changed-template-123456.html"
    page = _corpus_page(fixture)
    with pytest.raises(ExtractionError, match="no known page format"):
        parser.parse(page.decode("utf-8", "replace"), url)
    result = extract(page, url)
    assert (result.parser, result.parser_version) == (fallback_name(parser), GENERIC.version)
    assert fallback_outlet(result.parser) == parser.name
    assert result.paragraphs == extract(page, "https://example.org/changed-template").paragraphs
    # Re-reading stored evidence under a named reading gives that reading, whatever the default would be.
    assert extract(page, url, reading=result.parser) == result
    with pytest.raises(ExtractionError, match="no known page format"):
        extract(page, url, reading=parser.name)


def _outlet_pages() -> list[Any]:
    """Every page of the outlet corpus and of extraction-dev whose URL an outlet parser (experimental too) covers."""
    pages = []
    if (CORPUS_OUTLETS / "expectations.json").is_file():
        cases = json.loads((CORPUS_OUTLETS / "expectations.json").read_text())
        pages += [
            (CORPUS_OUTLETS / c["fixture"], c["url"]) for c in {c["fixture"]: c for c in cases}.values()
        ]
    dev = CORPUS / "extraction-dev"
    if (dev / "ground-truth.json").is_file():
        truth = json.loads((dev / "ground-truth.json").read_text())
        pages += [
            (dev / "html" / f"{page_id}.html.gz", item["url"]) for page_id, item in sorted(truth.items())
        ]
    covered = [(path, url) for path, url in pages if any(p.matches(url) for p in ALL_PARSERS)]
    return [pytest.param(path, url, id=path.name.removesuffix(".html.gz")[:24]) for path, url in covered]


@pytest.mark.usefixtures("experimental_on")
@pytest.mark.parametrize(("path", "url"), _outlet_pages())
def test_no_outlet_page_reads_as_nothing(corpus: Path, path: Path, url: str) -> None:
    result = extract(gzip.decompress(path.read_bytes()), url)
    assert result.paragraphs and result.title


def test_truncated_page_gives_a_prefix_or_a_clear_error(corpus: Path) -> None:
    url = "https://www.bbc.co.uk/news/health-54528983"
    page = gzip.decompress((CORPUS_OUTLETS / "bbc_news/54528983.html.gz").read_bytes())
    whole = extract(page, url)
    with pytest.raises(ExtractionError):
        extract(page[:2000], url)
    assert whole.paragraphs[12] == "Going to work"
    cut = extract(page[: page.index(b"Going to work") + len(b"Going")], url)
    assert cut.paragraphs == (*whole.paragraphs[:12], "Going")


# -- experimental outlets, built from hand-made pages (tests/fixtures/outlets/README.md says what they are) --

HANDMADE = Path(__file__).resolve().parent / "fixtures" / "outlets"
HANDMADE_PAGES = {
    "reuters": (
        "https://www.reuters.com/world/europe/port-strike-halts-grain-exports-talks-stall-2024-05-01/",
        "Port strike halts grain exports as talks stall",
        "Anna Kowalska, Tom Reid",
        datetime(2024, 5, 1, 9, 12, 44, tzinfo=UTC),
        (
            "GDANSK, May 1 (Reuters) - A strike by dock workers halted grain exports from the country's largest"
            " port on Wednesday, as talks between unions and operators stalled over pay, two union officials said.",
            "PRICES RISE",
            "Reporting by Anna Kowalska and Tom Reid; Editing by Jane Merriman",
        ),
        8,
    ),
    "apnews": (
        "https://apnews.com/article/flooding-river-valley-evacuations-3f1c9e2d7a4b4c8e9f0a1b2c3d4e5f60",
        "Flooding forces thousands from homes in river valley",
        "MARIA LOPEZ",
        datetime(2024, 5, 1, 14, 20, 31, tzinfo=UTC),
        (
            "RIVERTON, Iowa (AP) — Rising water forced thousands of people from their homes along the river on"
            " Wednesday after days of heavy rain, officials said.",
            "SHELTERS FILL UP",
            "Associated Press writer Sam Green contributed from Des Moines.",
        ),
        7,
    ),
    "cnn": (
        "https://www.cnn.com/2024/05/01/world/deep-coral-reef-map-scn/index.html",
        "Scientists map the deepest coral reef yet found",
        "Jane Doe, Raj Patel, CNN",
        datetime(2024, 5, 1, 11, 30, 12, 482000, tzinfo=UTC),
        (
            "London (CNN) — Scientists have mapped a coral reef more than 150 meters (490 feet) below the surface,"
            " the deepest yet found, in what they call a reminder of how little of the ocean has been explored.",
            "Light at depth",
            "CNN’s Sam Lee contributed to this report.",
        ),
        7,
    ),
    "aljazeera": (
        "https://www.aljazeera.com/news/2024/5/1/farmers-protest-new-water-rules-in-capital",
        "Farmers protest new water rules in capital",
        "Leila Ahmed",
        datetime(2024, 5, 1, 8, 45, 10, tzinfo=UTC),
        (
            "Thousands of farmers drive tractors into the city centre, saying new limits on irrigation will ruin them.",
            "Government defends limits",
            "Talks between farmers’ unions and the ministry are due to resume next week.",
        ),
        7,
    ),
}
# Chrome each hand-made page carries around its article; none of it may reach the body.
HANDMADE_CHROME = (
    "Advertisement",
    "Ad Feedback",
    "Related",
    "Recommended",
    "Most read",
    "Most Read",
    "Share",
    "caption",
    "REUTERS/",
    "AP Photo",
    "[Reuters]",
    "Subscribe",
    "Trust Principles",
    "list 1 of 3",
    "___",
)


@pytest.mark.usefixtures("experimental_on")
@pytest.mark.parametrize("outlet", HANDMADE_PAGES)
def test_handmade_outlet_page(outlet: str) -> None:
    url, title, byline, published, (first, subhead, last), count = HANDMADE_PAGES[outlet]
    result = extract((HANDMADE / f"{outlet}.html").read_bytes(), url)
    assert (result.parser, result.title, result.byline, result.published) == (
        outlet,
        title,
        byline,
        published,
    )
    assert result.canonical_url == url
    assert (result.paragraphs[0], result.paragraphs[-1], len(result.paragraphs)) == (first, last, count)
    assert subhead in result.paragraphs
    assert not [p for p in result.paragraphs for chrome in HANDMADE_CHROME if chrome in p]


# -- the date forms outlets write ----------------------------------------------------------------------

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        ("2010/06/06 13:48:45", UTC, datetime(2010, 6, 6, 13, 48, 45, tzinfo=UTC)),
        ("Friday 20 March 2015 17.38 GMT", LONDON, datetime(2015, 3, 20, 17, 38, tzinfo=UTC)),
        ("28 September 2015 18:03:52 BST", LONDON, datetime(2015, 9, 28, 17, 3, 52, tzinfo=UTC)),
        ("2015-09-28T18:03:52+01:00", UTC, datetime(2015, 9, 28, 17, 3, 52, tzinfo=UTC)),
        ("2018-06-12T11:47-500", NEW_YORK, datetime(2018, 6, 12, 16, 47, tzinfo=UTC)),
        ("2014-01-18", LONDON, datetime(2014, 1, 18, tzinfo=UTC)),
        ("2019-07-01 09:00", LONDON, datetime(2019, 7, 1, 8, 0, tzinfo=UTC)),
        ("Sept. 2, 2020 10:00", NEW_YORK, datetime(2020, 9, 2, 14, 0, tzinfo=UTC)),
        ("1413982586", UTC, datetime(2014, 10, 22, 12, 56, 26, tzinfo=UTC)),
        ("1390085017000", UTC, datetime(2014, 1, 18, 22, 43, 37, tzinfo=UTC)),
        (
            "<span data-timestamp='1'>2014-10-22T08:56:26+00:00</span>",
            UTC,
            datetime(2014, 10, 22, 8, 56, 26, tzinfo=UTC),
        ),
    ],
)
def test_dates_are_read_in_the_outlets_zone_and_given_in_utc(
    text: str, zone: ZoneInfo, expected: datetime
) -> None:
    parsed = parse_date(text, zone)
    assert parsed == expected and parsed.tzinfo is UTC  # type: ignore[union-attr]


@pytest.mark.parametrize("text", ["", "   ", None, "3 minutes ago", "Updated", "no date here", "12:30"])
def test_text_without_a_date_is_no_date(text: str | None) -> None:
    assert parse_date(text) is None

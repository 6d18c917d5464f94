"""The scripted day: one of every kind of change and misbehaviour the crawler must handle.

Edits are spaced so that News Sniffer's schedule (feed polled every 5 min, first check at once, then 30 min
growing ×1.2) sees every revision; tests/test_newsroom.py replays that schedule to keep it true.
"""

from __future__ import annotations

from datetime import UTC, datetime

from newsdelta.testing.script import Revision, Script, ScriptedArticle

DAY_START = datetime(2026, 1, 1, 6, 0, tzinfo=UTC)
MINUTE = 60.0
HOUR = 3600.0


def _harbour_bridge() -> ScriptedArticle:
    """Edited paragraphs, then a whitespace/invisible-character-only re-publish that is NOT a new version."""
    title = "Harbour bridge to close for six months of repairs"
    v0 = (
        "The harbour bridge will close to traffic for six months from March while engineers replace its "
        "corroded cables, the city council said on Thursday.",
        "Repairs are expected to cost £2m and will be paid for from the council's transport budget.",
        "Buses will be diverted over the old town crossing, adding about 15 minutes to journeys.",
        "Local businesses said they feared losing trade during the closure.",
        "The council said pedestrians and cyclists would still be able to use the bridge at weekends.",
        "A public meeting about the plans will be held at the town hall next week.",
    )
    v1 = (
        v0[0],
        "Repairs are expected to cost £2m and will be paid for from the council's transport budget, with a "
        "contribution from the regional government.",
        "Buses will be diverted over the old town crossing, adding about 20 minutes to journeys at peak times.",
        *v0[3:],
    )
    v2 = (v1[0], v1[1].replace("£2m", "£2.4m"), *v1[2:])
    # Same text as v2 for a reader: a non-breaking space, doubled spaces and a zero-width space.
    v2_noise = (
        v2[0].replace("six months", "six\u00a0months"),
        v2[1] + "\u200b",
        v2[2].replace(" ", "  ", 3),
        *v2[3:],
    )
    return ScriptedArticle(
        "harbour-bridge-repairs",
        "local",
        [
            (10 * MINUTE, Revision(title, v0, "By Alice Moreno")),
            (3 * HOUR, Revision(title, v1, "By Alice Moreno")),
            (9 * HOUR, Revision(title, v2, "By Alice Moreno")),
            (18 * HOUR, Revision(title, v2_noise, "By Alice Moreno")),
        ],
    )


def _minister() -> ScriptedArticle:
    """A headline change, then a byline-only change (not a version: the hash covers title and body)."""
    body = (
        "The transport minister has faced growing calls to step down after newspapers published details "
        "of expense claims covering a second home.",
        "Opposition parties said the claims, which total more than £40,000 over three years, showed "
        "\u201ca culture of entitlement\u201d.",
        "The minister's office said all claims had been made within the rules and approved at the time.",
        "The prime minister's spokesperson said the government had full confidence in the minister.",
        "An independent standards inquiry is expected to report within a month.",
    )
    return ScriptedArticle(
        "minister-expenses-row",
        "politics",
        [
            (30 * MINUTE, Revision("Minister under pressure over expenses claims", body)),
            (4 * HOUR, Revision("Minister resigns over expenses row", body)),
            (
                12 * HOUR,
                Revision("Minister resigns over expenses row", body, "By Tom Ellery, political reporter"),
            ),
        ],
    )


def _school_funding() -> ScriptedArticle:
    """Inserted, then removed, then moved paragraphs."""
    title = "Report warns of widening gap in school funding"
    p = (
        "Schools in the poorest areas receive less per pupil than they did a decade ago, according to a "
        "report published on Thursday.",
        "The study, by an independent education research group, examined budgets for more than 20,000 schools.",
        "It found that real-terms funding per pupil fell by 4% in the most deprived areas since 2016.",
        "Schools in wealthier areas saw a smaller fall of 1% over the same period.",
        "Head teachers said they had cut teaching assistants, music lessons and after-school clubs.",
        "The education department said funding was at a record high in cash terms.",
        "It added that a new funding formula would direct more money to disadvantaged pupils from next year.",
        "The report's authors called for an urgent review of how money is shared between schools.",
    )
    inserted = (
        "One head teacher in the north-east said her school had lost six teaching posts in three years.",
        "\u201cWe are running on goodwill,\u201d she said. \u201cStaff are exhausted.\u201d",
    )
    v1 = (*p[:5], *inserted, *p[5:])
    v2 = tuple(x for x in v1 if x != p[3])
    v3 = (v2[0], v2[2], v2[1], *v2[3:])
    return ScriptedArticle(
        "school-funding-gap",
        "education",
        [
            (1 * HOUR, Revision(title, p, "By Priya Shah, education correspondent")),
            (5 * HOUR, Revision(title, v1, "By Priya Shah, education correspondent")),
            (10 * HOUR, Revision(title, v2, "By Priya Shah, education correspondent")),
            (15 * HOUR, Revision(title, v3, "By Priya Shah, education correspondent")),
        ],
    )


def _factory_fire() -> ScriptedArticle:
    """A corrected fact with a correction appended at the end."""
    title = "Firefighters tackle blaze at industrial estate"
    v0 = (
        "More than 60 firefighters were called to a large fire at a warehouse on the Riverside industrial "
        "estate early on Thursday.",
        "Residents nearby were told to keep windows and doors closed because of heavy smoke.",
        "Twelve fire engines attended at the height of the blaze, the fire service said.",
        "Nobody was injured and the cause of the fire is being investigated.",
    )
    v1 = (
        *v0[:2],
        "Eight fire engines attended at the height of the blaze, the fire service said.",
        v0[3],
        "Correction: An earlier version of this article said twelve fire engines attended. "
        "In fact there were eight.",
    )
    return ScriptedArticle(
        "industrial-estate-fire",
        "local",
        [(2 * HOUR, Revision(title, v0)), (14 * HOUR, Revision(title, v1))],
    )


def _poll_headline() -> ScriptedArticle:
    """A/B headline test: A→B→A→B gives two versions and two flip-flop events."""
    body = (
        "Support for the governing party has fallen to its lowest level in two years, a new poll suggests.",
        "The survey of 2,000 adults put the party on 29%, four points behind the main opposition.",
        "Pollsters said the cost of living remained voters' biggest concern.",
        "The next general election must be held within eighteen months.",
    )
    a = Revision("Poll puts governing party four points behind", body, "By Sam Okafor")
    b = Revision("Governing party slumps to two-year low in new poll", body, "By Sam Okafor")
    return ScriptedArticle(
        "election-poll-slump",
        "politics",
        [(90 * MINUTE, a), (3.5 * HOUR, b), (6 * HOUR, a), (9 * HOUR, b)],
    )


def _marathon() -> ScriptedArticle:
    """Text never changes, but timestamps, related links, comments, ads and request ids change per request."""
    body = (
        "Kenyan runner Grace Wanjiru won the city marathon in a course record of two hours 19 minutes.",
        "More than 25,000 runners took part in the race, which raised an estimated £3m for charity.",
        "Roads in the city centre reopened in the afternoon after the last runners finished.",
        "Organisers thanked the volunteers and spectators who lined the route despite the cold weather.",
    )
    return ScriptedArticle(
        "city-marathon-results",
        "sport",
        [(20 * MINUTE, Revision("Course record falls at city marathon", body, "By Leah Brooks"))],
        chrome_churn=True,
    )


def _museum() -> ScriptedArticle:
    """Edited once, then deleted: 410 Gone from hour 8."""
    title = "Museum to close its doors after 120 years"
    v0 = (
        "The town's natural history museum will close at the end of the month after 120 years, its "
        "trustees have announced.",
        "The trustees blamed falling visitor numbers and rising heating and insurance costs.",
        "Its collection of fossils will be moved to the county archive.",
        "Staff have been offered jobs at other council venues, the trustees said.",
    )
    v1 = (*v0[:2], "Its collection of fossils will be moved to the county archive in the spring.", v0[3])
    return ScriptedArticle(
        "museum-closure",
        "culture",
        [(45 * MINUTE, Revision(title, v0)), (3 * HOUR, Revision(title, v1))],
        gone_at=8 * HOUR,
    )


def _council_budget() -> ScriptedArticle:
    """Reached through an old path and an http→https-like alias, both 301 to the canonical path."""
    title = "Council approves budget with 5% tax rise"
    v0 = (
        "Councillors have approved next year's budget, including a 5% rise in council tax.",
        "The council said the rise was needed to protect social care and bin collections.",
        "Opposition councillors voted against, saying residents could not afford it.",
        "A typical household will pay about £90 more a year from April.",
    )
    v1 = (*v0, "The budget will now be sent to the regional government for final approval.")
    return ScriptedArticle(
        "council-budget-approved",
        "local",
        [(50 * MINUTE, Revision(title, v0)), (6 * HOUR, Revision(title, v1))],
        redirect_from=("/news/council-budget-vote-draft", "/http/news/council-budget-approved"),
    )


def _transport_strike() -> ScriptedArticle:
    """A slow page: every response waits `slow_delay` seconds."""
    title = "Talks to avert rail strike resume"
    v0 = (
        "Talks between rail operators and unions are to resume on Friday in an attempt to avert a strike.",
        "Union members voted by a large majority to walk out over pay and working conditions.",
        "Operators said they had made a fair offer.",
        "Passengers have been warned to expect disruption on most routes if the strike goes ahead.",
    )
    v1 = (
        *v0[:2],
        "Operators said they had made a fair offer and urged the union to put it to members.",
        v0[3],
    )
    return ScriptedArticle(
        "rail-strike-talks",
        "business",
        [(1 * HOUR, Revision(title, v0)), (7 * HOUR, Revision(title, v1))],
        slow=True,
    )


def _hospital() -> ScriptedArticle:
    """Answers 503 (with Retry-After) to its first request, then 200."""
    title = "Hospital waiting lists reach new high"
    v0 = (
        "The number of people waiting for hospital treatment has reached a record 7.8 million.",
        "Figures show more than 300,000 patients have waited over a year.",
        "Health officials said winter pressures had added to delays.",
        "Patient groups said people were being left in pain for months while they waited for surgery.",
    )
    v1 = (*v0, "The health secretary said new surgical hubs would open in the spring.")
    return ScriptedArticle(
        "hospital-waiting-lists",
        "health",
        [(2 * HOUR, Revision(title, v0)), (11 * HOUR, Revision(title, v1))],
        fail_first=1,
    )


def _river_cleanup() -> ScriptedArticle:
    """Malformed HTML (unclosed tags, stray end tags, raw ampersands) whose text still parses."""
    title = "Volunteers pull tonnes of rubbish from river"
    v0 = (
        "More than 200 volunteers spent Saturday clearing rubbish from the banks of the river.",
        "They collected three tonnes of waste, including shopping trolleys & a motorbike.",
        "The clean-up was organised by a local angling club.",
        "The club said fish stocks had recovered since the last clean-up two years ago.",
    )
    v1 = (v0[0], "They collected four tonnes of waste, including shopping trolleys & a motorbike.", *v0[2:])
    return ScriptedArticle(
        "river-cleanup-volunteers",
        "environment",
        [(3 * HOUR, Revision(title, v0)), (13 * HOUR, Revision(title, v1))],
        malformed=True,
    )


def _pound_rally() -> ScriptedArticle:
    """Served as windows-1252 (declared only in a meta tag) with curly quotes, £, é and dashes."""
    title = "Pound rallies as café chains report \u201cstrong\u201d Christmas"
    v0 = (
        "The pound rose to $1.27 against the dollar on Thursday \u2013 its highest level in a month.",
        "Shares in caf\u00e9 chains climbed after two of the biggest reported \u201cstrong\u201d festive trading.",
        "One analyst said: \u2018Consumers are proving more resilient than expected\u2019 \u2014 for now.",
        "A flat white now costs an average of \u00a33.40, up from \u00a32.90 two years ago\u2026",
    )
    v1 = (v0[0].replace("$1.27", "$1.28"), *v0[1:])
    return ScriptedArticle(
        "pound-cafe-rally",
        "business",
        [
            (40 * MINUTE, Revision(title, v0, "By Ren\u00e9e Dubois")),
            (8 * HOUR, Revision(title, v1, "By Ren\u00e9e Dubois")),
        ],
        encoding="windows-1252",
    )


def _embargoed() -> ScriptedArticle:
    """Under /private/: robots.txt disallows it, so a polite crawler never fetches it."""
    title = "Embargoed: quarterly crime figures"
    v0 = ("Recorded crime fell by 3% in the last quarter.", "Burglaries fell by 8%.")
    v1 = (*v0, "Fraud offences rose for the fourth quarter in a row.")
    return ScriptedArticle(
        "embargoed-crime-figures",
        "crime",
        [(1 * HOUR, Revision(title, v0)), (5 * HOUR, Revision(title, v1))],
        private=True,
    )


def _weather_stub() -> ScriptedArticle:
    """A one-line breaking stub, expanded two hours later: News Sniffer's most common kind of edit."""
    stub = ("Forecasters have issued an amber warning for snow and ice covering the whole region.",)
    full = (
        "Forecasters have issued an amber warning for snow and ice covering the whole region from Friday "
        "evening until Sunday morning.",
        "Up to 15cm of snow could fall on higher ground, with icy roads likely elsewhere.",
        "Drivers have been told to travel only if necessary and to allow extra time for journeys.",
        "The council said its gritting lorries would treat main roads overnight.",
        "Temperatures are expected to stay below freezing until early next week.",
    )
    return ScriptedArticle(
        "weekend-weather-warning",
        "weather",
        [
            (20 * HOUR, Revision("Snow and ice warning issued", stub)),
            (22 * HOUR, Revision("Amber warning as snow and ice set to hit region", full, "By Dan Price")),
        ],
    )


def _library() -> ScriptedArticle:
    """Published late in the day and never changed."""
    body = (
        "The central library will stay open until 9pm on weekdays from February.",
        "The council said the change followed a survey of more than 3,000 residents.",
        "Most said they could not visit during working hours.",
        "The longer hours will be paid for by closing the library on Monday mornings.",
    )
    return ScriptedArticle(
        "library-late-opening",
        "local",
        [(22 * HOUR, Revision("Central library to open late on weekdays", body))],
    )


def default_day(start: datetime = DAY_START) -> Script:
    """24 scripted hours from 2026-01-01T06:00Z: see each builder's docstring for the behaviour it covers."""
    return Script(
        [
            _harbour_bridge(),
            _minister(),
            _school_funding(),
            _factory_fire(),
            _poll_headline(),
            _marathon(),
            _museum(),
            _council_budget(),
            _transport_strike(),
            _hospital(),
            _river_cleanup(),
            _pound_rally(),
            _embargoed(),
            _weather_stub(),
            _library(),
        ],
        start,
    )

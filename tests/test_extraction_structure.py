"""The generic extractor finds the article and its furniture from the page's structure and the shape of
lines, never from English words: short stories in English, German, French and Spanish, real corpus pages
(non-English ones among them) with plain-markup chrome injected, class-name rules that check what they
remove, and the check of trafilatura's fast pass against the page's densest block of prose."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import lxml.html
import pytest

from newsdelta.extract import generic
from newsdelta.extract.cleanup import chrome_word, drop_stamp_runs, is_stamp_line, trim_edges
from newsdelta.extract.density import coverage, main_block, main_text, read_paragraphs, running
from newsdelta.extract.generic import GENERIC
from newsdelta.text import normalise

URL = "https://news.example.org/2026/01/02/story"

# headline, byline, "updated N minutes ago", two paragraphs, counter: as an outlet in that language shows them
STORIES = {
    "en": (
        "Snow warning issued",
        "By Jane Doe",
        "Updated {n} minutes ago",
        "Forecasters issued an amber warning for snow across the whole region on Tuesday night.",
        "Drivers were told to avoid the hill roads until the gritters had been out, the council said.",
        "{c:,} comments",
    ),
    "de": (
        "Schneewarnung ausgegeben",
        "Von Jana Schmidt",
        "Aktualisiert vor {n} Minuten",
        "Meteorologen haben für die ganze Region eine Warnung vor starkem Schneefall ausgegeben.",
        "Autofahrer sollen die Bergstraßen meiden, bis die Streufahrzeuge unterwegs waren, sagte die Stadt.",
        "{c} Kommentare",
    ),
    "fr": (
        "Alerte à la neige",
        "Par Jeanne Dupont",
        "Mis à jour il y a {n} minutes",
        "Les météorologues ont émis une alerte orange à la neige pour toute la région mardi soir.",
        "Les automobilistes doivent éviter les routes de montagne jusqu'au passage des saleuses, a dit la mairie.",
        "{c} partages",
    ),
    "es": (
        "Alerta por nieve",
        "Por Juana Pérez",
        "Actualizado hace {n} minutos",
        "Los meteorólogos emitieron una alerta naranja por nieve para toda la región el martes por la noche.",
        "Se pidió a los conductores evitar las carreteras de montaña hasta que pasaran las quitanieves.",
        "{c} comentarios",
    ),
}


def short_story(lang: str, variant: int) -> str:
    """A two-paragraph story in plain markup: no class or id says what any block is."""
    headline, byline, updated, first, second, counter = STORIES[lang]
    n, c = 3 + 17 * variant, 12 + 335 * variant
    return (
        f"<html lang='{lang}'><head><title>{headline} | Nachrichten</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/a'>Politik</a> <a href='/b'>Sport</a></nav><main>"
        f"<div><span>{9 + variant:02d}:{7 * variant:02d}</span></div>"
        f"<div><h1>{headline}</h1><div><a href='/autor/x'>{byline}</a></div>"
        f"<div><span>{updated.format(n=n)}</span></div>"
        f"<div><p>{first}</p><p>{second}</p></div><div><span>{counter.format(c=c)}</span></div></div>"
        "</main><footer><a href='/impressum'>Impressum</a></footer></body></html>"
    )


@pytest.mark.parametrize("lang", list(STORIES))
def test_a_two_paragraph_story_keeps_its_paragraphs_and_leaves_its_chrome_out(lang: str) -> None:
    first, second = STORIES[lang][3:5]
    for variant in (1, 2):
        result = GENERIC.parse(short_story(lang, variant), URL)
        assert result.paragraphs == (first, second)
        assert result.title == STORIES[lang][0]


def classed_short_story(lang: str, headline_inside: bool) -> str:
    """The same story in a CMS article element: trafilatura finds too little text in its body block and
    falls back to the whole element, byline and timestamps glued to the paragraphs."""
    headline, byline, updated, first, second, counter = STORIES[lang]
    h1 = f"<h1>{headline}</h1>"
    return (
        f"<html lang='{lang}'><head><title>{headline}</title></head><body><nav><a href='/'>Home</a></nav>"
        f"{'' if headline_inside else h1}<article class='story'>{h1 if headline_inside else ''}"
        f"<div class='byline'>{byline}</div><div class='meta'>{updated.format(n=5)}</div>"
        f"<div class='story-body'><p>{first}</p><p>{second}</p></div>"
        f"<div class='counts'>{counter.format(c=12)}</div></article></body></html>"
    )


@pytest.mark.parametrize("headline_inside", [True, False], ids=["headline-inside", "headline-outside"])
@pytest.mark.parametrize("lang", list(STORIES))
def test_a_short_story_read_as_one_glued_run_is_split_into_its_paragraphs(
    lang: str, headline_inside: bool
) -> None:
    result = GENERIC.parse(classed_short_story(lang, headline_inside), URL)
    assert result.paragraphs == STORIES[lang][3:5]


@pytest.mark.parametrize(
    ("line", "stamp"),
    [
        ("Aktualisiert vor 5 Minuten", True),
        ("Mis à jour il y a 5 minutes", True),
        ("Actualizado hace 5 minutos", True),
        ("1.204 Kommentare", True),
        ("14h07", True),
        ("segunda-feira, 22 de janeiro de 2018 às 0:13", False),  # too long for the middle of a body
        ("Die Polizei nahm 5 Personen fest.", False),  # a sentence
        ("- 3 Eier", False),  # a list item
        ("| 12 | 14 |", False),  # a table row
    ],
)
def test_stamp_lines_are_told_by_shape(line: str, stamp: bool) -> None:
    assert is_stamp_line(line) is stamp


PROSE = [
    "Der Stadtrat hat den Haushalt nach einer langen Debatte über Schulen, Straßen und die Bibliothek beschlossen.",
    "Die Opposition kündigte an, gegen einzelne Posten vor dem Verwaltungsgericht klagen zu wollen, sagte ihr Sprecher.",
]


def test_stamp_lines_between_paragraphs_go_but_lists_and_headings_stay() -> None:
    assert drop_stamp_runs([PROSE[0], "Aktualisiert vor 5 Minuten", "347 Kommentare", PROSE[1]]) == PROSE
    fixtures = [
        "1. Spieltag: 10. März",
        "2. Spieltag: 8. April",
        "3. Spieltag: 22. April",
        "4. Spieltag: 6. Mai",
    ]
    assert drop_stamp_runs([PROSE[0], *fixtures, PROSE[1]]) == [PROSE[0], *fixtures, PROSE[1]]
    assert drop_stamp_runs([PROSE[0], "Teil 2", PROSE[1]], headings={"teil 2"}) == [
        PROSE[0],
        "Teil 2",
        PROSE[1],
    ]


def test_edges_lose_clock_headline_byline_and_counter_but_keep_a_closing_list() -> None:
    body = ["09:41", "Schneewarnung", "Von Jana Schmidt", *PROSE, "1.204 Kommentare"]
    assert trim_edges(body, headlines=["Schneewarnung"]) == PROSE
    dates = [f"{day}. Juni – Halle {day}" for day in range(1, 6)]
    assert trim_edges([*PROSE, *dates]) == [*PROSE, *dates]


def test_lines_above_the_headline_copy_go_however_many() -> None:
    """Short lines above the headline's copy are page furniture, not a list the article opens with: how many
    of them a page happens to carry (a "latest" strip of any length) does not change what is kept."""
    strip = [f"{hour:02d}:15 Stadt Wahl Brücke" for hour in range(6)]
    body = [*strip, "Schneewarnung", "Von Jana Schmidt", *PROSE]
    assert trim_edges(body, headlines=["Schneewarnung"], names=["Jana Schmidt"]) == PROSE
    assert trim_edges(body[4:], headlines=["Schneewarnung"], names=["Jana Schmidt"]) == PROSE


def test_only_lines_that_stand_together_in_the_page_make_a_list_at_an_edge() -> None:
    """A strip of short lines elsewhere on the page does not make the byline beside the body a list item, and
    an info box whose lines stand together in the page stays, however it is split into elements."""
    strip = [f"{hour:02d}:15 Stadt Wahl Brücke" for hour in range(5)]
    byline = "Berlin, Redaktion | 19. November 2019, 09:01"
    page = running(" ".join([*strip, "Menü Suche Anmelden", byline, *PROSE]))
    assert trim_edges([*strip, byline, *PROSE], page_text=lambda: page) == [*strip, *PROSE]
    assert trim_edges([*strip[:2], byline, *PROSE], page_text=lambda: page) == PROSE
    box = ["Tickets", "www.example.org", "VIP : 60 €", "R : 50 €", "Inquiry", "02-751-1500"]
    page = running(" ".join([*PROSE, *box, "Share this entry"]))
    assert trim_edges([*PROSE, *box], page_text=lambda: page) == [*PROSE, *box]


def test_label_and_link_paragraphs_are_pointers_in_any_language() -> None:
    tree = lxml.html.document_fromstring(
        "<html><body>"
        "<p>Lesen Sie auch: <a href='/x'>Bürgermeister tritt nach Streit um Parkplätze zurück</a></p>"
        "<p>Te puede interesar: <a href='/y'>Dimite el alcalde</a></p>"  # a short headline, a longer label
        "<p>Mehr dazu steht im <a href='/bericht'>Bericht des Rechnungshofs</a>, sagte die Sprecherin.</p>"
        "<p><a href='https://example.org/quelle'>https://example.org/quelle</a></p>"
        "</body></html>"
    )
    assert read_paragraphs(tree).link_lines == {
        "lesen sie auch bürgermeister tritt nach streit um parkplätze zurück",
        "te puede interesar dimite el alcalde",
    }


# --- real corpus pages with chrome injected as plain markup -------------------------------------------------

# extraction-dev pages: Portuguese, Indonesian, Russian, Japanese, then English of different layouts
INJECTED_PAGES = [
    "23aaecd1",
    "7837c9d6",
    "ff0f958a",
    "85439e26",
    "04a6711c",
    "360c732d",
    "70cb2d5b",
    "d48aeb9c",
]
# clock, "updated" line, counter: the injected chrome, in the language of one of the short stories
INJECTED_CHROME = {
    "de": ("{h:02d}:{m:02d}", "Aktualisiert vor {n} Minuten", "{c} Kommentare"),
    "fr": ("{h:02d}h{m:02d}", "Mis à jour il y a {n} minutes", "{c} partages"),
    "es": ("{h:02d}:{m:02d}", "Actualizado hace {n} minutos", "{c} comentarios"),
}


def _dev_page(corpus: Path, prefix: str) -> tuple[str, str]:
    root = corpus / "extraction-dev"
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    page_id = next(k for k in truth if k.startswith(prefix))
    return gzip.decompress((root / "html" / f"{page_id}.html.gz").read_bytes()).decode("utf-8"), truth[
        page_id
    ]["url"]


def with_chrome(html: str, paragraphs: tuple[str, ...], lang: str, variant: int) -> str:
    """The page with a clock before its headline, an "updated" line before the first paragraph and a counter
    after the last, each a bare <div>/<span> with no class or id."""
    tree = lxml.html.document_fromstring(html)
    wanted = set(paragraphs)
    found = [
        e for e in tree.iter("p", "h2", "h3", "li", "blockquote") if normalise(e.text_content()) in wanted
    ]
    first, last = found[0], found[-1]
    headline = tree.find(".//h1")
    clock, updated, counter = INJECTED_CHROME[lang]
    n, c = 3 + 11 * variant, 12 + 335 * variant
    (first if headline is None else headline).addprevious(
        lxml.html.fragment_fromstring(f"<div><span>{clock.format(h=n % 24, m=7 * variant)}</span></div>")
    )
    first.addprevious(lxml.html.fragment_fromstring(f"<div>{updated.format(n=n)}</div>"))
    tail = lxml.html.fragment_fromstring(f"<div><span>{counter.format(c=c)}</span></div>")
    tail.tail, last.tail = last.tail, None
    last.addnext(tail)
    return lxml.html.tostring(tree, encoding="unicode")


@pytest.mark.parametrize("lang", list(INJECTED_CHROME))
@pytest.mark.parametrize("prefix", INJECTED_PAGES)
def test_plain_markup_chrome_on_real_pages_is_left_out(corpus: Path, prefix: str, lang: str) -> None:
    html, url = _dev_page(corpus, prefix)
    original = GENERIC.parse(html, url)
    for variant in (1, 2):
        assert GENERIC.parse(with_chrome(html, original.paragraphs, lang, variant), url).paragraphs == (
            original.paragraphs
        )


# --- class-name rules are checked against what they remove --------------------------------------------------


@pytest.mark.parametrize(
    ("name", "word"),
    [
        ("ad-slot top", "ad"),
        ("dfp_top", "dfp"),
        ("sidebarAds", "ads"),
        ("cookie-consent", "cookie"),
        ("cmp-text", None),  # a CMS text component, not a consent banner
        ("header", None),
        ("load-more", None),
        ("adobe-target", None),
        ("shadow", None),
    ],
)
def test_chrome_words_match_whole_parts_of_class_names(name: str, word: str | None) -> None:
    assert chrome_word(name) == word


SENTENCE = "The tester rode the bike for three weeks on wet roads, in the city and on a long mountain pass. "


def test_blocks_named_like_adverts_that_hold_the_article_are_kept() -> None:
    sections = "".join(
        f"<section class='review-Ads'><h2>Part {i}</h2><p>Part {i}. {SENTENCE * 3}</p></section>"
        for i in range(9)
    )
    advert = "<div class='ad-slot'><p>Cheap flights to Lisbon this weekend only, book now with our partner!</p></div>"
    page = (
        "<html><body><h1>Bike test</h1><div class='cmp-text'>"
        f"<p>Intro. {SENTENCE * 2}</p>{sections}{advert}</div></body></html>"
    )
    text = " ".join(GENERIC.parse(page, URL).paragraphs)
    assert all(f"Part {i}. The tester" in text for i in range(9))
    assert text.startswith("Intro.")
    assert "Lisbon" not in text


# --- trafilatura's fast pass is checked against the densest block of prose ----------------------------------


def test_a_fast_pass_that_read_a_sign_up_dialog_gets_a_second_opinion() -> None:
    dialog = (
        "Get our best stories every morning, free, with offers from our partners and events near you. " * 6
    )
    article = "".join(f"<p>Paragraph {i}. {SENTENCE * 2}</p>" for i in range(6))
    page = (
        "<html><body><h1>Bike test</h1><div class='entry-content'><h2>Newsletter</h2>"
        f"<p>{dialog}</p></div><div>{article}</div></body></html>"
    )
    tree = generic.parse_page(page, URL)
    main = main_text(main_block(generic.prepare_tree(tree)))
    fast = generic.trafilatura_paragraphs(tree, URL)
    assert coverage(fast, main) < generic.MIN_MAIN_COVERAGE  # trafilatura alone reads the dialog
    paragraphs = GENERIC.parse(page, URL).paragraphs
    assert [p for p in paragraphs if p.startswith("Paragraph")] == [
        f"Paragraph {i}. {(SENTENCE * 2).strip()}" for i in range(6)
    ]


def test_main_text_is_the_block_with_the_most_prose_not_the_most_links() -> None:
    tree = lxml.html.document_fromstring(
        "<html><body><div>"
        + "".join(f"<p><a href='/{i}'>Another story headline number {i} for you</a></p>" for i in range(20))
        + "</div><div><p>Kurz. "
        + PROSE[0]
        + "</p><p>"
        + PROSE[1]
        + "</p></div></body></html>"
    )
    assert main_text(main_block(read_paragraphs(tree))) == ["Kurz. " + PROSE[0], PROSE[1]]


def test_main_text_is_after_the_headline_when_a_denser_block_precedes_it() -> None:
    consent = "".join(
        f"<p>Wir und unsere Partner speichern Informationen, Absatz {i}. {PROSE[0]}</p>" for i in range(4)
    )
    article = f"<p>{PROSE[0]}</p><p>{PROSE[1]}</p>"
    tree = lxml.html.document_fromstring(
        f"<html><body><div>{consent}</div><h1>Haushalt beschlossen</h1><div>{article}</div></body></html>"
    )
    assert main_text(main_block(read_paragraphs(tree))) == PROSE
    without_headline = lxml.html.document_fromstring(
        f"<html><body><div>{consent}</div><div>{article}</div></body></html>"
    )
    assert len(main_text(main_block(read_paragraphs(without_headline)))) == 4


def test_when_both_passes_miss_the_dense_block_it_wins_only_over_a_far_shorter_reading(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    main = [f"Paragraph {i}. {SENTENCE * 2}" for i in range(4)]
    standfirst = ["The tester rode the bike for three weeks."]
    elsewhere = [
        f"Another long text {i}. " + "Readers wrote in about other bikes and other roads. " * 3
        for i in range(4)
    ]
    for reading, expected in ((standfirst, main), (elsewhere, elsewhere)):
        monkeypatch.setattr(generic, "trafilatura_paragraphs", lambda *args, r=reading, **kwargs: r)
        assert generic._second_opinion(lxml.html.fromstring("<div></div>"), URL, reading, main) == expected


def test_a_real_page_whose_fast_pass_reads_only_the_opening_is_read_whole(corpus: Path) -> None:
    """A Washington Post capture (outlets/) read by the generic extractor: trafilatura's fast pass stops
    after the opening two paragraphs; the densest block shows the article goes on, and the second opinion
    reads it."""
    root = corpus / "outlets"
    fixture = "washingtonpost/will-a-bust-follow-the-boom-in-britain.html.gz"
    case = next(
        c
        for c in json.loads((root / "expectations.json").read_text(encoding="utf-8"))
        if c["fixture"] == fixture
    )
    html = gzip.decompress((root / fixture).read_bytes()).decode("utf-8", "replace")
    tree = generic.parse_page(html, case["url"])
    main = main_text(main_block(generic.prepare_tree(tree)))
    fast = generic.trafilatura_paragraphs(tree, case["url"])
    assert len(fast) <= 2
    assert generic.misses_main_text(fast, main)
    paragraphs = GENERIC.parse(html, case["url"]).paragraphs
    assert len(paragraphs) >= 0.8 * case["paragraph_count"]
    assert paragraphs[-1] == normalise(case["paragraphs"]["-1"])

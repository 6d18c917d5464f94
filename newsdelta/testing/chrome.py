"""Page chrome that changes on every request, and real edits, put into real article pages.

For bench/fidelity.py and the fidelity tests. A `VolatilePage` fixes, from a seed, which chrome a page carries
and where (before the headline, between two paragraphs, after the last one, inside a body paragraph, outside
the article, with or without class names, in several languages); every `render` fills it with fresh values
(counters, live viewer counts, clocks in local formats, stock and weather tickers, "updated N minutes ago",
rotating "read more" lines, most-read lists, blocks of a varying number of lines). Slow chrome keeps its value
for `SLOW_PERIOD` checks (`epoch`), so the two fetches of one check agree on it; most of it is the site's,
the same on every page at once. `edit` makes a real change to the article: a word, an added sentence, a
removed paragraph, the headline, a correction.

`vocabulary="held-out"` swaps all of that for a second, disjoint set (`HELD_OUT_KINDS`, `HELD_OUT_PLACES`):
other phrases and shapes in other languages (Italian, Portuguese, Dutch, Polish, Japanese, Chinese), plain
markup only, in other tags and at other places. The default vocabulary was seen while the masks were built;
the held-out one was not, so only it says whether they generalise.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Set
from dataclasses import dataclass, field

from lxml import html as lxml_html
from lxml.html import HtmlElement

from newsdelta.testing.httpserver import Request, Response

_MONTHS = ("January", "March", "June", "September", "November")
EDITS = ("word", "sentence", "paragraph", "headline", "correction")
_WORDS = [
    "council",
    "budget",
    "river",
    "storm",
    "minister",
    "harbour",
    "vaccine",
    "festival",
    "striker",
    "election",
    "museum",
    "bridge",
    "tariff",
    "drought",
    "Regierung",
    "Stadt",
    "Wahl",
    "Brücke",
    "gobierno",
    "ciudad",
    "puente",
    "élection",
    "pont",
    "ville",
    "mercato",
    "governo",
]
_COUNTERS: tuple[Callable[[random.Random], str], ...] = (
    lambda r: f"{r.randrange(2, 9000)} comments",
    lambda r: f"Shared {r.randrange(2, 90000)} times",
    lambda r: f"{r.randrange(2, 900)} people are reading this now",
    lambda r: f"{r.randrange(2, 900)} Kommentare",
    lambda r: f"{r.randrange(2, 900)} commentaires",
    lambda r: f"Compartido {r.randrange(2, 900)} veces",
)
_CLOCKS: tuple[Callable[[random.Random], str], ...] = (
    lambda r: f"Last updated {r.randrange(24):02d}:{r.randrange(60):02d}:{r.randrange(60):02d}",
    lambda r: f"FTSE 100 {r.uniform(7000, 8000):.2f} {r.choice('▲▼')} {r.uniform(0, 2):.2f}%",
    lambda r: f"Updated {r.randrange(1, 59)} minutes ago",
    lambda r: f"Aktualisiert vor {r.randrange(1, 59)} Minuten",
    lambda r: f"Mis à jour il y a {r.randrange(1, 59)} minutes",
    lambda r: f"Actualizado hace {r.randrange(1, 59)} minutos",
    lambda r: f"{r.randrange(1, 28)}/{r.randrange(1, 12)}/2026 {r.randrange(24)}:{r.randrange(60):02d}",
)


def _headline(r: random.Random) -> str:
    return " ".join(r.choice(_WORDS) for _ in range(r.randrange(4, 9))).capitalize()


_ROTATING: tuple[Callable[[random.Random], str], ...] = (
    lambda r: f"Read more: {_headline(r)}",
    lambda r: f"Lesen Sie auch: {_headline(r)}",
    lambda r: f"À lire aussi : {_headline(r)}",
    lambda r: f"Most read: {_headline(r)}",
)
_VIEWERS: tuple[Callable[[random.Random], str], ...] = (
    lambda r: f"{r.randrange(20, 9000):,} watching now",
    lambda r: f"👁 {r.randrange(100, 99000):,}",
    lambda r: f"{r.randrange(2, 900)} Leser online",
    lambda r: f"En direct : {r.randrange(2, 9000)} lecteurs",
    lambda r: f"{r.randrange(2, 900)} personas están viendo esto",
)
_TICKERS: tuple[Callable[[random.Random], str], ...] = (
    lambda r: (
        f"DAX {r.uniform(15000, 16000):,.2f} {r.uniform(-2, 2):+.2f} %".replace(",", "X")
        .replace(".", ",")
        .replace("X", ".")
    ),
    lambda r: f"EUR/USD {r.uniform(1.05, 1.12):.4f}",
    lambda r: f"London {r.randrange(-2, 25)}°C {r.choice(('Cloudy', 'Sunny', 'Rain', 'Showers'))}",
    lambda r: f"Berlin {r.randrange(-5, 20)} °C, {r.choice(('bewölkt', 'sonnig', 'Regen'))}",
    lambda r: f"BTC ${r.randrange(30000, 60000):,} {r.choice('▲▼')}{r.uniform(0, 5):.1f}%",
    lambda r: (
        f"Dow {r.uniform(33000, 36000):,.0f} ({r.uniform(-1, 1):+.2%}) · Nasdaq {r.uniform(13000, 15000):,.0f}"
    ),
)
_LOCAL_CLOCKS: tuple[Callable[[random.Random], str], ...] = (
    lambda r: f"{r.randrange(24)} h {r.randrange(60):02d}",
    lambda r: f"{r.randrange(1, 13)}:{r.randrange(60):02d} {r.choice(('AM', 'PM'))} ET",
    lambda r: (
        f"Stand: {r.randrange(1, 29)}.{r.randrange(1, 13):02d}.2026, {r.randrange(24)}:{r.randrange(60):02d} Uhr"
    ),
    lambda r: f"{r.randrange(24)}時{r.randrange(60):02d}分更新",
    lambda r: f"Publié le {r.randrange(1, 29)} nov. 2026 à {r.randrange(24)}h{r.randrange(60):02d}",
    lambda r: f"hace {r.randrange(2, 59)} min",
    lambda r: f"(updated {r.randrange(1, 59)} min ago)",
)
# Chrome that changes slowly: the same value for a while (both fetches of one check agree), another later.
# Site-wide: every page carrying it shows the same value at the same time, as a site's header strip does.
_SLOW: tuple[Callable[[random.Random], str], ...] = (
    lambda r: f"Trending: {_headline(r)}",
    lambda r: f"Weather: {r.randrange(-2, 25)}°C and {r.choice(('cloudy', 'sunny', 'rainy', 'windy'))}",
    lambda r: f"Meistgelesen: {_headline(r)}",
    lambda r: f"Updated {r.randrange(2, 23)} hours ago",
    lambda r: f"{r.randrange(2, 900)} comments",
)
KINDS = {
    "counter": _COUNTERS,
    "clock": _CLOCKS,
    "rotating": _ROTATING,
    "viewers": _VIEWERS,
    "ticker": _TICKERS,
    "local_clock": _LOCAL_CLOCKS,
    "slow": _SLOW,
    "block": _ROTATING,  # a block of several such lines, how many changing on every request
}
# How many checks slow chrome keeps one value.
SLOW_PERIOD = 2
PLACES = (
    "before_headline",
    "between",
    "between_any",
    "after_last",
    "body_start",
    "body_end",
    "in_paragraph",
    "most_read",
)


@dataclass(frozen=True, slots=True)
class ChromeSlot:
    """One piece of chrome: where it goes, what kind (and which variant of it), in which tag and class."""

    place: str
    kind: str
    variant: int
    tag: str
    cls: str | None
    phase: int = 0  # the page's slow chrome: which checks it changes at
    at: float = 0.5  # between_any: where among the paragraphs


@dataclass
class VolatilePage:
    """One real page served with fresh chrome on every request; `edited` switches on a real edit."""

    html: str
    seed: int
    truth: str = ""  # the article's true text, if known: edits then only touch its paragraphs
    edit_kind: str | None = None
    edited: bool = False
    edit_made: bool = False  # whether the page had what the edit needs (a headline, body paragraphs)
    epoch: int = 0  # the check being served (the bench sets it): slow chrome changes with it, not per request
    slots: list[ChromeSlot] = field(default_factory=list)  # none given: a random layout from the seed
    vocabulary: str = "default"  # or "held-out": chrome never used while the masks were developed
    _requests: int = 0

    def __post_init__(self) -> None:
        if self.vocabulary not in VOCABULARIES:
            raise ValueError(f"unknown chrome vocabulary {self.vocabulary!r}")
        if self.slots:
            return
        if self.vocabulary == "held-out":
            self.slots = _held_out_layout(self.seed)
            return
        layout = random.Random(self.seed)
        for _ in range(layout.randrange(3, 8)):
            kind = layout.choice(tuple(KINDS))
            self.slots.append(
                ChromeSlot(
                    layout.choice(PLACES),
                    kind,
                    layout.randrange(len(KINDS[kind])),
                    layout.choice(("p", "div", "span", "time", "li")),
                    layout.choice((None, None, "meta", "c-x9f2", "info")),
                    layout.randrange(SLOW_PERIOD),
                    layout.random(),
                )
            )

    def render(self) -> bytes:
        """The page as served now: the edit if on, and chrome with values never served before."""
        self._requests += 1
        values = random.Random(f"{self.seed}/{self._requests}")
        tree = lxml_html.fromstring(self.html)
        paragraphs = _body_paragraphs(tree, self.truth)
        if self.edited and self.edit_kind:
            self.edit_made = _edit(tree, paragraphs, self.edit_kind)
        for slot in self.slots:
            if self.vocabulary == "held-out":
                _held_out_place(tree, paragraphs, slot, self._text(slot, values), values)
            else:
                _place(tree, paragraphs, slot, self._text(slot, values))
        page: bytes = lxml_html.tostring(tree, encoding="utf-8", doctype="<!DOCTYPE html>")
        return page

    def _text(self, slot: ChromeSlot, values: random.Random) -> str:
        """The slot's text now, from the page's vocabulary. Slow chrome: the page's own (a comment count)
        changes at the slot's phase; the site's has one value on every page at a time and changes at the
        same check everywhere."""
        kinds, per_page, name = _TEXTS[self.vocabulary]
        if slot.kind != "slow":
            return kinds[slot.kind][slot.variant](values)
        if slot.variant in per_page:
            owner, phase = str(self.seed), slot.phase
        else:
            owner, phase = "site", slot.variant % SLOW_PERIOD
        period = (self.epoch + phase) // SLOW_PERIOD
        return kinds["slow"][slot.variant](random.Random(f"{name}/{owner}/{slot.variant}/{period}"))


# Slow chrome whose value is the page's own (a comment count); the others are the site's.
_SLOW_PER_PAGE = frozenset({3, 4})
# Chrome a paragraph can carry inside it: one short line that changes on every request. (A number inside a body
# paragraph that changes only between checks reads exactly like an edit of that number: none is made.)
_INLINE = frozenset({"counter", "clock", "viewers", "ticker", "local_clock"})


def _text(element: HtmlElement) -> str:
    return " ".join(element.text_content().split())


def _body_paragraphs(tree: HtmlElement, truth: str) -> list[HtmlElement]:
    """The article's paragraphs: in the true text when it is known, else the long <p>s of the element that
    holds most of them."""
    long = [p for p in tree.iter("p") if len(_text(p)) >= 80]
    flat = " ".join(truth.split())
    true = [p for p in long if _text(p) in flat] if flat else []
    if flat and not true:
        # Spacing aside: a page that glues its dateline to the first sentence ("(CNN)A muddled") and keeps its
        # other paragraphs in divs would otherwise have its edits made to a promo <p> outside the article.
        squeezed = "".join(flat.split())
        true = [p for p in long if "".join(_text(p).split()) in squeezed]
    if true or not long:
        return true
    parents = [p.getparent() for p in long]
    container = max(parents, key=parents.count)
    return [p for p in long if p.getparent() is container]


def _element(slot: ChromeSlot, text: str) -> HtmlElement:
    # Slow chrome stands as a block of its own: glued into a paragraph by an inline tag, it would be a slowly
    # changing number or phrase inside article text, which reads exactly like an edit.
    tag = "p" if slot.kind == "slow" and slot.tag in ("span", "time") else slot.tag
    element = lxml_html.Element(tag)
    element.text = text
    if slot.cls:
        element.set("class", slot.cls)
    return element


def _block(slot: ChromeSlot, values: random.Random) -> HtmlElement:
    """A block of one to six lines, as many as the request happens to get (a "latest" strip, a live feed)."""
    block = lxml_html.Element("div")
    for _ in range(values.randrange(1, 7)):
        line = lxml_html.Element(slot.tag if slot.tag != "li" else "p")
        line.text = f"{values.randrange(24):02d}:{values.randrange(60):02d} {_headline(values)}"
        block.append(line)
    if slot.cls:
        block.set("class", slot.cls)
    return block


def _place(tree: HtmlElement, paragraphs: list[HtmlElement], slot: ChromeSlot, text: str) -> None:
    values = random.Random(text)
    body = tree.find(".//body")
    body = tree if body is None else body
    headline = tree.find(".//h1")
    if slot.place == "most_read":
        listing = lxml_html.Element("ul")
        for _ in range(5):
            item = lxml_html.Element("li")
            link = lxml_html.Element("a", href=f"/story/{values.randrange(10**6)}")
            link.text = _headline(values)
            item.append(link)
            listing.append(item)
        (paragraphs[-1].getparent() if paragraphs else body).append(listing)
        return
    element = _block(slot, values) if slot.kind == "block" else _element(slot, text)
    if slot.place == "before_headline" and headline is not None:
        headline.addprevious(element)
    elif slot.place == "between" and len(paragraphs) > 1:
        paragraphs[len(paragraphs) // 2].addnext(element)
    elif slot.place == "between_any" and len(paragraphs) > 1:
        paragraphs[int(slot.at * (len(paragraphs) - 1))].addnext(element)
    elif slot.place == "after_last" and paragraphs:
        paragraphs[-1].addnext(element)
    elif slot.place == "in_paragraph" and paragraphs and slot.kind in _INLINE:
        span = lxml_html.Element("span")
        span.text = f" ({text})"
        paragraphs[len(paragraphs) // 3].append(span)  # the paragraph edits change
    elif slot.place == "body_start":
        body.insert(0, element)
    else:
        body.append(element)


def _edit(tree: HtmlElement, paragraphs: list[HtmlElement], kind: str) -> bool:
    """One real edit of the article, made everywhere the page states the text (markup and JSON-LD);
    False when the page lacks what the edit needs. A removed paragraph leaves `paragraphs` too."""
    if kind == "headline":
        return _edit_headline(tree)
    if not paragraphs:
        return False
    if kind == "correction":
        note = lxml_html.Element("p")
        when = random.Random(_text(paragraphs[0]))
        note.text = (
            f"This article was amended on {when.randrange(1, 28)} {when.choice(_MONTHS)} 2026 to correct "
            "the date of the council meeting."
        )
        paragraphs[-1].addnext(note)
        return True
    target = paragraphs[len(paragraphs) // 3]
    before = _text(target)
    if kind == "paragraph":
        target.drop_tree()
        paragraphs.remove(target)
        after = ""
    elif kind == "sentence":
        tail = lxml_html.Element("span")
        tail.text = " Officials said further details would be released on Monday."
        target.append(tail)
        after = _text(target)
    else:
        _change_a_word(target)
        after = _text(target)
    _edit_scripts(tree, before, after)
    return True


def _change_a_word(paragraph: HtmlElement) -> None:
    """Replace the longest word of the paragraph's first run of text with another word."""
    for element in paragraph.iter():
        for attribute in ("text", "tail") if element is not paragraph else ("text",):
            words = (getattr(element, attribute) or "").split(" ")
            if sum(1 for w in words if w) < 3:
                continue
            longest = max(range(len(words)), key=lambda i: len(words[i]))
            words[longest] = "balloon" if words[longest] == "zeppelin" else "zeppelin"
            setattr(element, attribute, " ".join(words))
            return


def _edit_headline(tree: HtmlElement) -> bool:
    """The headline gets words added wherever the page states it: <h1>, <title>, social tags, JSON-LD."""
    headline = tree.find(".//h1")
    if headline is None:
        return False
    old = _text(headline)
    for child in list(headline):
        headline.remove(child)
    headline.text = f"{old} {_HEADLINE_ADDITION}"
    title = tree.find(".//title")
    if title is not None:
        title.text = f"{title.text or ''} {_HEADLINE_ADDITION}"
    for meta in tree.iterfind(".//meta"):
        if (meta.get("property") or meta.get("name") or "").lower() in ("og:title", "twitter:title", "title"):
            meta.set("content", f"{meta.get('content', '')} {_HEADLINE_ADDITION}")
    for script in tree.iterfind(".//script[@type='application/ld+json']"):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        script.text = json.dumps(_add_to_headlines(data), ensure_ascii=False)
    return True


_HEADLINE_ADDITION = "as talks collapse"


def _add_to_headlines(data: object) -> object:
    if isinstance(data, dict):
        return {
            k: f"{v} {_HEADLINE_ADDITION}" if k == "headline" and isinstance(v, str) else _add_to_headlines(v)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [_add_to_headlines(v) for v in data]
    return data


def _edit_scripts(tree: HtmlElement, before: str, after: str) -> None:
    """The same edit in JSON-LD (headline, articleBody), where outlets state the text a second time."""
    for script in tree.iterfind(".//script[@type='application/ld+json']"):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        script.text = json.dumps(_replace_in(data, before, after), ensure_ascii=False)


def _replace_in(data: object, before: str, after: str) -> object:
    if isinstance(data, dict):
        return {k: _replace_in(v, before, after) for k, v in data.items()}
    if isinstance(data, list):
        return [_replace_in(v, before, after) for v in data]
    if isinstance(data, str) and before and before in " ".join(data.split()):
        return " ".join(data.split()).replace(before, after)
    return data


# --- the held-out vocabulary ------------------------------------------------------------------------------
# Nothing below was seen while the masks were developed: other phrases, shapes, languages, tags and places.
VOCABULARIES = ("default", "held-out")
_HO_WORDS = [
    "comune",
    "bilancio",
    "sciopero",
    "stazione",
    "prefeito",
    "greve",
    "vacina",
    "eleição",
    "gemeente",
    "begroting",
    "verkiezing",
    "dijk",
    "rząd",
    "wybory",
    "susza",
    "burmistrz",
    "ferrovia",
    "ospedale",
    "enchente",
    "câmara",
    "stikstof",
    "woningbouw",
    "sejmik",
    "powódź",
]
_HO_NAMES = (
    "Marco Rossi",
    "Ana Souza",
    "Jan de Vries",
    "Katarzyna Nowak",
    "Giulia Bianchi",
    "Pieter Bakker",
    "佐藤健",
    "王伟",
    "João Pereira",
    "Tomasz Wójcik",
)
_HO_AGENCIES = (
    "ANSA",
    "Agência Brasil",
    "ANP",
    "PAP",
    "共同通信",
    "新华社",
    "LaPresse",
    "Folhapress",
    "Hollandse Hoogte",
)
_HO_AD = (
    ("Risparmia fino al", "Ganhe até", "Tot", "Nawet", "Save up to"),
    (
        "mattresses",
        "painéis solares",
        "zonnepanelen",
        "kredyt gotówkowy",
        "crociere",
        "e-bikes",
        "apparecchi acustici",
    ),
    ("this weekend only", "só hoje", "alleen vandaag", "tylko dziś", "solo oggi", "— ends soon"),
)
_HO_QUOTES = (
    "“Chi va piano va sano e va lontano.”",
    "“Quem espera sempre alcança.”",
    "“Oost west, thuis best.”",
    "“Co nagle, to po diable.”",
    "“Less is more.” — Mies van der Rohe",
    "“七転び八起き”",
    "“The best way out is always through.” — Robert Frost",
    "“A pressa é inimiga da perfeição.”",
    "“Beter laat dan nooit.”",
    "“L'appetito vien mangiando.”",
)


def _ho_headline(r: random.Random) -> str:
    return " ".join(r.choice(_HO_WORDS) for _ in range(r.randrange(3, 8))).capitalize()


def _spaced(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def _dotted(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _hhmm(r: random.Random) -> str:
    return f"{r.randrange(24):02d}:{r.randrange(60):02d}"


def _hex(r: random.Random) -> str:
    return f"{r.getrandbits(48):012x}"


_HO_COUNTERS: tuple[Callable[[random.Random], str], ...] = (
    lambda r: f"{r.uniform(1, 9.9):.1f}k shares",
    lambda r: f"🔥 {r.randrange(1, 10)},{r.randrange(10)}K",
    lambda r: f"Page views: {_spaced(r.randrange(1000, 99999))}",
    lambda r: f"[{r.randrange(2, 400)}]",
    lambda r: f"Visualizzazioni: {_dotted(r.randrange(1000, 99999))}",
    lambda r: f"Comentários ({r.randrange(2, 900)})",
    lambda r: f"{r.randrange(2, 900)} reacties",
    lambda r: f"Wyświetlenia: {_spaced(r.randrange(1000, 99999))}",
    lambda r: f"閲覧数 {r.randrange(1000, 99999):,}",
    lambda r: f"阅读 {r.uniform(1, 9.9):.1f}万",
)
_HO_CLOCKS: tuple[Callable[[random.Random], str], ...] = (
    lambda r: f"{r.randrange(1, 23)}h ago",
    lambda r: f"yesterday at {_hhmm(r)}",
    lambda r: f"aggiornato {r.randrange(2, 59)} minuti fa",
    lambda r: f"atualizado há {r.randrange(2, 59)} min",
    lambda r: f"bijgewerkt: {r.randrange(2, 59)} min. geleden",
    lambda r: f"zaktualizowano {r.randrange(2, 59)} min temu",
    lambda r: f"{r.randrange(2, 59)}分前",
    lambda r: f"{r.randrange(2, 59)}分钟前更新",
    lambda r: f"ieri alle {_hhmm(r)}",
    lambda r: f"ontem às {r.randrange(24)}h{r.randrange(60):02d}",
)
_HO_LISTEN: tuple[Callable[[random.Random], str], ...] = (
    lambda r: f"Listen · {r.randrange(2, 15)} min",
    lambda r: f"Ascolta · {r.randrange(2, 15)} min",
    lambda r: f"Ouvir · {r.randrange(2, 15)} min",
    lambda r: f"Leestijd: {r.randrange(2, 15)} min.",
    lambda r: f"Czas czytania: {r.randrange(2, 15)} min",
    lambda r: f"音声で聴く {r.randrange(2, 15)}分",
)
_HO_SCORES: tuple[Callable[[random.Random], str], ...] = (
    lambda r: f"ARS {r.randrange(4)}–{r.randrange(4)} CHE {r.randrange(1, 90)}'",
    lambda r: f"JUV {r.randrange(4)}-{r.randrange(4)} MIL {r.randrange(1, 90)}'",
    lambda r: f"AJA {r.randrange(4)}–{r.randrange(4)} PSV {r.randrange(1, 90)}'",
    lambda r: f"LEG {r.randrange(4)}:{r.randrange(4)} LPO {r.randrange(40, 46)}+{r.randrange(1, 5)}'",
    lambda r: f"FLA {r.randrange(4)} x {r.randrange(4)} COR {r.randrange(1, 90)}'",
)
_HO_SHARES: tuple[Callable[[random.Random], str], ...] = (
    lambda r: f"Facebook {r.randrange(2, 900)} · X {r.randrange(2, 900)} · Email",
    lambda r: f"WhatsApp {r.randrange(2, 900)} · Telegram {r.randrange(2, 900)} · Copiar link",
    lambda r: f"Deel: Facebook ({r.randrange(2, 900)}) · LinkedIn ({r.randrange(2, 900)})",
    lambda r: f"Udostępnij {r.randrange(2, 900)} · Tweetnij {r.randrange(2, 900)}",
    lambda r: f"シェア {r.randrange(2, 900)} · ポスト {r.randrange(2, 900)}",
)


def _sponsored(label: str) -> Callable[[random.Random], str]:
    """A sponsored line: the label, then ad text drawn afresh (one of hundreds)."""
    return lambda r: f"{label} {' '.join(r.choice(part) for part in _HO_AD)}"


_HO_SPONSORED: tuple[Callable[[random.Random], str], ...] = tuple(
    _sponsored(label)
    for label in ("Sponsored:", "Pubblicità:", "Patrocinado:", "Gesponsord:", "Reklama:", "広告：")
)
_HO_PHOTOS: tuple[Callable[[random.Random], str], ...] = (
    lambda r: f"Photo: {r.choice(_HO_NAMES)}/{r.choice(_HO_AGENCIES)}",
    lambda r: f"Foto: {r.choice(_HO_AGENCIES)} / {r.choice(_HO_NAMES)}",
    lambda r: f"Zdjęcie: {r.choice(_HO_NAMES)} ({r.choice(_HO_AGENCIES)})",
    lambda r: f"写真：{r.choice(_HO_AGENCIES)}",
)
_HO_CONSENT: tuple[Callable[[random.Random], str], ...] = (
    lambda r: (
        f"We and our {r.randrange(200, 900)} partners store and access information on your device. "
        f"Consent ID: {_hex(r)}"
    ),
    lambda r: f"Noi e i nostri {r.randrange(200, 900)} partner utilizziamo cookie. ID consenso: {_hex(r)}",
    lambda r: f"Wij en onze partners gebruiken cookies (ID {_hex(r)}).",
    lambda r: f"Usamos cookies para melhorar sua experiência. Identificador {_hex(r)}",
    lambda r: f"Używamy plików cookie. Twój identyfikator: {_hex(r)}",
)
_HO_LIVE: tuple[Callable[[random.Random], str], ...] = (
    lambda r: f"{r.randrange(1, 30)} new posts",
    lambda r: f"{r.randrange(1, 30)} nuovi aggiornamenti",
    lambda r: f"{r.randrange(1, 30)} novas atualizações",
    lambda r: f"{r.randrange(1, 30)} nieuwe berichten",
    lambda r: f"{r.randrange(1, 30)} nowych wpisów",
    lambda r: f"新着{r.randrange(1, 30)}件",
)
_HO_QUOTE: tuple[Callable[[random.Random], str], ...] = (
    lambda r: f"Quote of the day: {r.choice(_HO_QUOTES)}",
    lambda r: f"Citazione del giorno {r.choice(_HO_QUOTES)}",
    lambda r: f"Frase do dia — {r.choice(_HO_QUOTES)}",
)
_HO_TICKERS: tuple[Callable[[random.Random], str], ...] = (
    lambda r: (
        f"PSI {_dotted(r.randrange(6000, 7000))},{r.randrange(100):02d} {r.uniform(-2, 2):+.1f}%".replace(
            ".", ","
        ).replace(",", ".", 1)
    ),
    lambda r: f"Ibovespa {_dotted(r.randrange(120000, 135000))} pts {r.choice('▲▼')} {r.uniform(0, 2):.2f}%",
    lambda r: f"AEX {r.uniform(850, 900):.2f} ({r.uniform(-1, 1):+.2f}%)".replace(".", ","),
    lambda r: f"WIG20 {_spaced(r.randrange(2200, 2500))},{r.randrange(100):02d}",
    lambda r: f"日経平均 {r.randrange(37000, 40000):,}円 {r.uniform(-2, 2):+.2f}%",
    lambda r: f"上证指数 {r.uniform(2900, 3200):,.2f} 涨{r.uniform(0, 2):.2f}%",
)
# Lists: their items come from `_held_out_place`; the text is the list's label, drawn like any chrome.
_HO_RELATED: tuple[Callable[[random.Random], str], ...] = (
    lambda r: "Leggi anche",
    lambda r: "Veja também",
    lambda r: "Zie ook",
    lambda r: "",
)
_HO_MOST_READ: tuple[Callable[[random.Random], str], ...] = (
    lambda r: "I più letti",
    lambda r: "Mais lidas",
    lambda r: "Najczęściej czytane",
    lambda r: "",
)
_HO_SLOW: tuple[Callable[[random.Random], str], ...] = (
    lambda r: f"In primo piano: {_ho_headline(r)}",
    lambda r: f"Tempo em Lisboa: {r.randrange(8, 30)}° {r.choice(('nublado', 'ensolarado', 'chuva'))}",
    lambda r: f"Reacties ({r.randrange(2, 900)})",
)
_HO_SLOW_PER_PAGE = frozenset({2})
HELD_OUT_KINDS = {
    "counter": _HO_COUNTERS,
    "clock": _HO_CLOCKS,
    "listen": _HO_LISTEN,
    "score": _HO_SCORES,
    "share": _HO_SHARES,
    "sponsored": _HO_SPONSORED,
    "photo": _HO_PHOTOS,
    "consent": _HO_CONSENT,
    "live": _HO_LIVE,
    "quote": _HO_QUOTE,
    "ticker": _HO_TICKERS,
    "related": _HO_RELATED,  # a list of one to six links, a different length and stories on every request
    "most_read": _HO_MOST_READ,  # five other stories on every request, numbered
    "slow": _HO_SLOW,
}
# Short chrome, which a headline or a body paragraph can carry inside it.
_HO_INLINE = frozenset({"counter", "clock", "listen", "score", "share", "live", "ticker", "photo"})
HELD_OUT_PLACES = (
    "in_headline",  # a trailing <span> inside the <h1>
    "after_headline",
    "before_first",
    "between_any",
    "wrapped",  # inside <div><div>…</div></div>, a sibling of the paragraphs
    "in_list",  # a <ul> between paragraphs
    "figure",  # <figure><figcaption> between paragraphs
    "paragraph_end",  # <b>/<strong>/<em>/<small> at the end of a body paragraph
    "paragraph_start",  # the same at its start
    "container_end",  # a <section> or <aside> closing the paragraphs' container
    "page_top",
)
_HO_INLINE_PLACES = frozenset({"in_headline", "paragraph_end", "paragraph_start"})
_HO_BLOCK_TAGS = ("p", "div", "section", "aside", "small", "b", "strong", "em")
_HO_INLINE_TAGS = ("b", "strong", "em", "small", "span")


def _held_out_layout(seed: int) -> list[ChromeSlot]:
    """Three to seven pieces of held-out chrome, from the seed: only short chrome goes inside text."""
    layout = random.Random(f"held-out/{seed}")
    slots = []
    for _ in range(layout.randrange(3, 8)):
        kind = layout.choice(tuple(HELD_OUT_KINDS))
        places = (
            HELD_OUT_PLACES
            if kind in _HO_INLINE
            else tuple(p for p in HELD_OUT_PLACES if p not in _HO_INLINE_PLACES)
        )
        place = layout.choice(places)
        tags = _HO_INLINE_TAGS if place in _HO_INLINE_PLACES else _HO_BLOCK_TAGS
        slots.append(
            ChromeSlot(
                place,
                kind,
                layout.randrange(len(HELD_OUT_KINDS[kind])),
                layout.choice(tags),
                None,
                layout.randrange(SLOW_PERIOD),
                layout.random(),
            )
        )
    return slots


def _held_out_element(slot: ChromeSlot, text: str, values: random.Random) -> HtmlElement:
    """The chrome as a block: a list of links for related / most-read, else the text in the slot's tag."""
    if slot.kind in ("related", "most_read"):
        wrapper = lxml_html.Element("div")
        if text:
            label = lxml_html.Element("b")
            label.text = text
            wrapper.append(label)
        listing = lxml_html.Element("ol" if slot.kind == "most_read" else "ul")
        for _ in range(5 if slot.kind == "most_read" else values.randrange(1, 7)):
            item = lxml_html.Element("li")
            link = lxml_html.Element("a", href=f"/{values.randrange(10**7)}")
            link.text = _ho_headline(values)
            item.append(link)
            listing.append(item)
        wrapper.append(listing)
        return wrapper
    tag = "p" if slot.kind == "slow" and slot.tag in _HO_INLINE_TAGS else slot.tag
    element = lxml_html.Element(tag)
    element.text = text
    return element


def _held_out_place(
    tree: HtmlElement, paragraphs: list[HtmlElement], slot: ChromeSlot, text: str, values: random.Random
) -> None:
    body = tree.find(".//body")
    body = tree if body is None else body
    headline = tree.find(".//h1")
    at = paragraphs[int(slot.at * (len(paragraphs) - 1))] if paragraphs else None
    if slot.place in _HO_INLINE_PLACES:
        inline = lxml_html.Element(slot.tag)
        inline.text = text
        if slot.place == "in_headline" and headline is not None:
            _append_inline(headline, inline)
            return
        if at is not None and slot.place == "paragraph_end":
            _append_inline(at, inline)
            return
        if at is not None:
            inline.tail = " " + (at.text or "")
            at.text = None
            at.insert(0, inline)
            return
    element = _held_out_element(slot, text, values)
    if slot.place == "in_list" and slot.kind not in ("related", "most_read"):
        listing = lxml_html.Element("ul")
        item = lxml_html.Element("li")
        item.append(element)
        listing.append(item)
        element = listing
    elif slot.place == "wrapped":
        outer, inner = lxml_html.Element("div"), lxml_html.Element("div")
        inner.append(element)
        outer.append(inner)
        element = outer
    elif slot.place == "figure":
        figure, caption = lxml_html.Element("figure"), lxml_html.Element("figcaption")
        figure.append(lxml_html.Element("img", src=f"/img/{values.randrange(10**6)}.jpg", alt=""))
        caption.append(element)
        figure.append(caption)
        element = figure
    if slot.place in ("after_headline", "in_headline") and headline is not None:
        headline.addnext(element)
    elif slot.place == "before_first" and paragraphs:
        paragraphs[0].addprevious(element)
    elif slot.place in ("between_any", "wrapped", "in_list", "figure") and at is not None:
        at.addnext(element)
    elif slot.place == "container_end" and paragraphs:
        container = paragraphs[-1].getparent()
        (body if container is None else container).append(element)
    elif slot.place == "page_top":
        body.insert(0, element)
    else:
        body.append(element)


def _append_inline(parent: HtmlElement, inline: HtmlElement) -> None:
    """`inline` as the last thing in `parent`, after a space, as a site's template would write it."""
    children = list(parent)
    if children:
        children[-1].tail = (children[-1].tail or "") + " "
    else:
        parent.text = (parent.text or "") + " "
    parent.append(inline)


class VolatileSite:
    """An HTTP handler serving /p/<n> as the n-th page, freshly rendered on every request; no robots.txt."""

    def __init__(self, pages: list[VolatilePage]) -> None:
        self.pages = pages
        self.requests = 0

    def handle(self, request: Request) -> Response:
        if not request.path.startswith("/p/"):
            return Response(404, b"not found\n", [("Content-Type", "text/plain")])
        self.requests += 1
        page = self.pages[int(request.path.removeprefix("/p/"))]
        return Response(200, page.render(), [("Content-Type", "text/html; charset=utf-8")])


# Per vocabulary: its chrome texts by kind, the slow variants that are a page's own, and its random stream name.
_TEXTS: dict[str, tuple[dict[str, tuple[Callable[[random.Random], str], ...]], Set[int], str]] = {
    "default": (KINDS, _SLOW_PER_PAGE, "slow"),
    "held-out": (HELD_OUT_KINDS, _HO_SLOW_PER_PAGE, "held-out-slow"),
}

"""A scripted day in German, French and Spanish: short stories whose pages word their chrome in the
story's language.

Each language has a two-paragraph story edited once (a figure corrected in its second paragraph) and a
two-paragraph story whose page chrome changes on every request ("vor 7 Minuten", "il y a 12 minutes",
counters, related links, the "read also" line between the paragraphs) while its text never does, on a page
without a single class attribute. The
pages carry a byline with the language's lead-in ("Von", "Par", "Por"), the published and updated times
written the language's way, a "read also" line inside the story and a comment counter after it, so a
crawl stores exactly the story's paragraphs only if the extractor leaves all of that out without knowing
any of those words. Kept apart from the default day, whose expected versions other tests pin.
"""

from __future__ import annotations

from datetime import datetime

from newsdelta.testing.default_day import DAY_START, HOUR, MINUTE
from newsdelta.testing.script import Revision, Script, ScriptedArticle

# language: (slug, title, byline, first paragraph, second paragraph, the same edited) for the edited story
_EDITED = {
    "de": (
        "hochwasser-am-rhein",
        "Hochwasser am Rhein: Uferstraßen in Köln gesperrt",
        "Von Jana Schmidt",
        "Nach tagelangem Regen ist der Rhein in Köln über die Marke von acht Metern gestiegen. Die Stadt hat "
        "am Morgen mehrere Uferstraßen gesperrt und die Anwohner der Altstadt gebeten, Keller zu räumen.",
        "Der Scheitel wird nach Angaben des Hochwassermeldedienstes für Freitagabend erwartet. Die "
        "Feuerwehr hat rund 300 Einsatzkräfte in Bereitschaft versetzt.",
        "Der Scheitel wird nach Angaben des Hochwassermeldedienstes für Samstagmorgen erwartet. Die "
        "Feuerwehr hat rund 450 Einsatzkräfte in Bereitschaft versetzt.",
    ),
    "fr": (
        "greve-des-controleurs",
        "Grève des contrôleurs aériens : des centaines de vols annulés",
        "Par Jeanne Dupont",
        "La grève des contrôleurs aériens a entraîné l'annulation de plusieurs centaines de vols jeudi au "
        "départ de Paris, Lyon et Marseille, selon la Direction générale de l'aviation civile.",
        "Les compagnies ont été invitées à réduire de moitié leurs programmes de vols. Les syndicats "
        "réclament des embauches et une revalorisation des salaires.",
        "Les compagnies ont été invitées à réduire d'un tiers leurs programmes de vols. Les syndicats "
        "réclament des embauches et une revalorisation des salaires.",
    ),
    "es": (
        "sequia-en-cataluna",
        "Cataluña amplía las restricciones de agua por la sequía",
        "Por Juana Pérez",
        "El Gobierno catalán ha ampliado las restricciones de agua a otros 40 municipios ante la falta de "
        "lluvias, que mantiene los embalses de las cuencas internas por debajo del 20 % de su capacidad.",
        "Las nuevas medidas prohíben regar jardines y llenar piscinas privadas. Los ayuntamientos deberán "
        "reducir el consumo municipal un 15 % antes de marzo.",
        "Las nuevas medidas prohíben regar jardines y llenar piscinas privadas. Los ayuntamientos deberán "
        "reducir el consumo municipal un 25 % antes de marzo.",
    ),
}
# language: (slug, title, byline, first paragraph, second paragraph) for the story with churning chrome
_CHURNING = {
    "de": (
        "neue-stadtbahnlinie",
        "Stadtrat beschließt neue Stadtbahnlinie nach Ehrenfeld",
        "Von Lukas Becker",
        "Der Stadtrat hat am Donnerstag mit großer Mehrheit den Bau einer neuen Stadtbahnlinie zwischen dem "
        "Hauptbahnhof und Ehrenfeld beschlossen. Die Strecke soll 2031 in Betrieb gehen.",
        "Die Kosten werden auf 410 Millionen Euro geschätzt, von denen Bund und Land den größten Teil "
        "übernehmen sollen. Die Opposition kritisierte den Zeitplan als zu ehrgeizig.",
    ),
    "fr": (
        "festival-de-la-bande-dessinee",
        "Le festival de la bande dessinée ouvre ses portes à Angoulême",
        "Par Marc Lefèvre",
        "Le festival international de la bande dessinée a ouvert ses portes jeudi à Angoulême, où les "
        "organisateurs attendent plus de 200 000 visiteurs en quatre jours.",
        "Cette édition met à l'honneur le manga et la jeune création européenne. Le Grand Prix sera remis "
        "samedi soir au théâtre de la ville.",
    ),
    "es": (
        "nuevo-hospital-en-malaga",
        "Málaga inaugura su nuevo hospital materno-infantil",
        "Por Carlos Ruiz",
        "El nuevo hospital materno-infantil de Málaga ha abierto este jueves sus puertas tras cuatro años "
        "de obras y una inversión de 120 millones de euros.",
        "El centro contará con 250 camas y atenderá a pacientes de toda la provincia. La consejera de Salud "
        "destacó que las urgencias pediátricas se trasladarán la próxima semana.",
    ),
}
SECTION = {"de": "local", "fr": "business", "es": "health"}


def _edited(language: str, published: float) -> ScriptedArticle:
    slug, title, byline, first, second, edited = _EDITED[language]
    return ScriptedArticle(
        slug,
        SECTION[language],
        [
            (published, Revision(title, (first, second), byline)),
            (published + 4 * HOUR, Revision(title, (first, edited), byline)),
        ],
        language=language,
    )


def _churning(language: str, published: float) -> ScriptedArticle:
    slug, title, byline, first, second = _CHURNING[language]
    return ScriptedArticle(
        slug,
        SECTION[language],
        [(published, Revision(title, (first, second), byline))],
        chrome_churn=True,
        language=language,
        plain_markup=True,
    )


def languages_day(start: datetime = DAY_START) -> Script:
    """Six short stories, two per language (see the module docstring), published in the day's first hour."""
    articles = []
    for index, language in enumerate(("de", "fr", "es")):
        articles.append(_edited(language, (10 + 10 * index) * MINUTE))
        articles.append(_churning(language, (15 + 10 * index) * MINUTE))
    return Script(articles, start)

"""Real captures of one BBC article taken at different times (../shared/corpus/real-pairs/)."""

from __future__ import annotations

import gzip
from pathlib import Path

from newsdelta.extract import Extracted, extract
from newsdelta.text import version_hash

UNCHANGED_URL = "http://news.bbc.co.uk/1/hi/england/bradford/6072486.stm"
EDITED_URL = "http://news.bbc.co.uk/1/hi/uk_politics/7984711.stm"


def read(corpus: Path, name: str, url: str) -> Extracted:
    return extract(gzip.decompress((corpus / "real-pairs" / name).read_bytes()), url)


def test_unchanged_article_hashes_the_same(corpus: Path) -> None:
    first = read(corpus, "6072486-A.stm.html.gz", UNCHANGED_URL)
    second = read(corpus, "6072486-B.stm.html.gz", UNCHANGED_URL)
    assert version_hash(first.title, first.paragraphs) == version_hash(second.title, second.paragraphs)
    assert first.title == "Son-in-law remanded over killing"
    assert (
        first.paragraphs[0]
        == "The son-in-law of a 73-year-old Castleford widow has been charged with her murder."
    )
    assert first.paragraphs[-1].startswith("He denied the charges against him through his solicitor")
    assert len(first.paragraphs) == 5


def test_edited_article_hashes_differently(corpus: Path) -> None:
    before = read(corpus, "7984711-A.stm.html.gz", EDITED_URL)
    after = read(corpus, "7984711-B.stm.html.gz", EDITED_URL)
    assert version_hash(before.title, before.paragraphs) != version_hash(after.title, after.paragraphs)
    assert before.title == after.title == "PM Brown plays down expenses row"
    assert before.paragraphs[0].startswith(
        "Gordon Brown says he has more important issues than MPs' expenses"
    )
    dropped = [p for p in before.paragraphs if p not in after.paragraphs]
    assert dropped and len(after.paragraphs) == len(before.paragraphs) - len(dropped)
    assert [p for p in before.paragraphs if p not in dropped] == list(after.paragraphs)


def test_latin1_page_decodes_pound_signs(corpus: Path) -> None:
    page = read(corpus, "7984711-A.stm.html.gz", EDITED_URL)
    assert any("£40" in p for p in page.paragraphs)
    assert not any("\ufffd" in p for p in page.paragraphs)

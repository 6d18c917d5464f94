"""Generic extractor (stub: trafilatura only; the extraction work replaces it)."""

from __future__ import annotations

import trafilatura

from newsdelta.extract.base import Extracted, ExtractionError
from newsdelta.text import normalise, normalise_paragraphs


class GenericExtractor:
    name = "generic"
    version = 1

    def matches(self, url: str) -> bool:
        return True

    def is_article_url(self, url: str) -> bool:
        return True

    def parse(self, html: str, url: str) -> Extracted:
        doc = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False)
        if not doc or not doc.text:
            raise ExtractionError(f"no article text found in {url}")
        return Extracted(
            title=normalise(doc.title or ""),
            paragraphs=normalise_paragraphs(doc.text.split("\n")),
            parser=self.name,
            parser_version=self.version,
            byline=doc.author,
        )


GENERIC = GenericExtractor()

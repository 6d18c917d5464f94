"""Ready-made citations of a change or a version: what a journalist pastes into a story or a paper.

Every citation names the outlet, the headlines, the UTC times to the second, a permalink under the site's
configured base URL and the SHA-256 of the archived page (the evidence anyone can re-check with /raw).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from newsdelta.store.models import Version

WAYBACK = "https://web.archive.org/web/{stamp}/{url}"


def stamp(moment: datetime) -> str:
    """A UTC time to the second, as citations print it."""
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def wayback_url(url: str, moment: datetime) -> str:
    """The Wayback Machine's capture of `url` nearest `moment`: a link only, nothing is fetched from it."""
    return WAYBACK.format(stamp=moment.strftime("%Y%m%d%H%M%S"), url=url)


@dataclass(frozen=True, slots=True)
class Citation:
    outlet: str
    url: str
    permalink: str
    old: Version | None  # None when citing one version
    new: Version

    @property
    def key(self) -> str:
        span = f"v{self.old.number}-v{self.new.number}" if self.old else f"v{self.new.number}"
        return f"newsdelta-{self.new.article_id}-{span}"

    @property
    def evidence(self) -> str:
        return self.new.raw_sha256 or "none archived"

    def title(self) -> str:
        if self.old is None:
            return f"“{self.new.title}” (version {self.new.number})"
        if self.old.title == self.new.title:
            return f"Changes to “{self.new.title}”, version {self.old.number} to {self.new.number}"
        return f"“{self.old.title}” → “{self.new.title}”, version {self.old.number} to {self.new.number}"

    def times(self) -> str:
        seen = f"version {self.new.number} seen {stamp(self.new.fetched_at)}"
        return (
            seen
            if self.old is None
            else f"version {self.old.number} seen {stamp(self.old.fetched_at)}; {seen}"
        )

    def plain(self) -> str:
        return (
            f"{self.outlet}. {self.title()}. Original: {self.url}. {self.times()[0].upper()}{self.times()[1:]}. "
            f"Archived by newsdelta: {self.permalink}. Evidence SHA-256: {self.evidence}."
        )

    def bibtex(self) -> str:
        fields = {
            "title": self.title(),
            "organization": self.outlet,
            "url": self.permalink,
            "howpublished": f"Original: {self.url}",
            "note": f"{self.times()}; evidence SHA-256 {self.evidence}",
            "year": str(self.new.fetched_at.year),
        }
        body = ",\n".join(f"  {name} = {{{_bibtex_text(value)}}}" for name, value in fields.items())
        return f"@misc{{{self.key},\n{body}\n}}"

    def csl_json(self) -> str:
        moment = self.new.fetched_at
        item = {
            "id": self.key,
            "type": "webpage",
            "title": self.title(),
            "container-title": self.outlet,
            "URL": self.permalink,
            "original-url": self.url,
            "issued": {"date-parts": [[moment.year, moment.month, moment.day]]},
            "note": f"{self.times()}; evidence SHA-256 {self.evidence}",
        }
        return json.dumps([item], ensure_ascii=False, indent=2)


def _bibtex_text(value: str) -> str:
    """Braces would end a BibTeX field early: outlets' headlines may contain them."""
    return value.replace("{", "(").replace("}", ")")

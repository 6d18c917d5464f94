"""Where a topic's WebSub hub is: HTTP Link headers first, then the feed's own link elements (W3C WebSub §4).

The topic to subscribe to is the `self` URL the publisher declares, which may differ from the URL polled.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urljoin

from newsdelta.discovery.urls import is_web_url

# One link-value of RFC 8288: <target> followed by its parameters, up to the next link-value.
_LINK_VALUE = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,<]+(?:=(?:\"[^\"]*\"|[^;,<]*))?)*)")
_REL = re.compile(r";\s*rel\s*=\s*(?:\"([^\"]*)\"|([^\s;,]+))", re.I)


@dataclass(frozen=True)
class HubLinks:
    """The hubs a topic names (in its order) and its `self` URL, if it names one."""

    hubs: tuple[str, ...] = ()
    self_url: str | None = None

    def topic(self, fetched_url: str) -> str:
        """What to subscribe to: the declared self URL, else the URL that served the feed."""
        return self.self_url or fetched_url


def links_with_rels(links: Iterable[tuple[str, str]], base_url: str) -> HubLinks:
    """From (rel, href) pairs: every rel="hub" and the first rel="self", resolved, web URLs only."""
    hubs: list[str] = []
    self_url: str | None = None
    for rels, href in links:
        url = urljoin(base_url, href.strip())
        if not is_web_url(url):
            continue
        names = rels.lower().split()
        if "hub" in names and url not in hubs:
            hubs.append(url)
        if "self" in names and self_url is None:
            self_url = url
    return HubLinks(tuple(hubs), self_url)


def parse_link_header(value: str, base_url: str) -> HubLinks:
    """The hub and self links of an HTTP Link header (several headers arrive joined by commas)."""
    pairs = []
    for match in _LINK_VALUE.finditer(value):
        rel = _REL.search(match.group(2))
        if rel is not None:
            pairs.append((rel.group(1) or rel.group(2) or "", match.group(1)))
    return links_with_rels(pairs, base_url)


def hub_links(headers: Mapping[str, str], declared: HubLinks | None, base_url: str) -> HubLinks | None:
    """The topic's hub links, or None when it declares no hub: Link headers win over the document's links."""
    header = next((value for name, value in headers.items() if name.lower() == "link"), None)
    from_header = parse_link_header(header, base_url) if header else HubLinks()
    if from_header.hubs:
        return HubLinks(from_header.hubs, from_header.self_url or (declared.self_url if declared else None))
    return declared if declared is not None and declared.hubs else None

"""One article, one URL: canonical forms and per-feed exclusions.

Tracking parameters are stripped because feeds, newsletters and social shares hand out the same article
with different campaign tags; keeping them would make each tag a separate "article" with its own history.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import tldextract
from selectolax.lexbor import LexborHTMLParser

from newsdelta.fetch.addresses import ip_literal

# Query parameters that only say how the reader arrived (matched case-insensitively):
#   generic analytics: utm_*, fbclid, gclid, gclsrc, dclid, msclkid, yclid, igshid, mc_cid, mc_eid (Mailchimp),
#     _hsenc, _hsmi (HubSpot), pk_* / mtm_* (Matomo), wt.* (Webtrends), ocid (Microsoft), ref, ref_src
#   BBC: ns_mchannel, ns_source, ns_campaign, ns_linkname, ns_fee, at_* (AT Internet)
#   Guardian: CMP, cmpid
#   NYT: smid, smtyp, partner, emc, _r, hp, action, pgtype, module, region, clickSource, contentCollection
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid", "_hsenc",
        "_hsmi", "ocid", "ref", "ref_src", "ns_mchannel", "ns_source", "ns_campaign", "ns_linkname",
        "ns_fee", "cmp", "cmpid", "smid", "smtyp", "partner", "emc", "_r", "hp", "action", "pgtype",
        "module", "region", "clicksource", "contentcollection",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "wt.", "at_", "pk_", "mtm_")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PERCENT_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")
# Characters a path may not hold unescaped (outside RFC 3986 pchar, "/" and "%" of existing escapes).
_NEEDS_ESCAPING = re.compile(r"[^A-Za-z0-9/%:@!$&'()*+,;=._~-]")
# Publishing platforms that give every writer a subdomain but are not (yet) on the public suffix list:
# each writer's subdomain is a site of its own, as for github.io or blogspot.com, which are on it.
HOSTING_SUFFIXES = (
    "substack.com", "wordpress.com", "tumblr.com", "medium.com", "ghost.io", "beehiiv.com", "typepad.com",
    "livejournal.com",
)  # fmt: skip
# The public suffix list (ICANN and private sections) as bundled with tldextract: never downloaded.
_SUFFIXES = tldextract.TLDExtract(
    cache_dir=None, suffix_list_urls=(), include_psl_private_domains=True, extra_suffixes=HOSTING_SUFFIXES
)


def canonicalize_url(url: str) -> str:
    """The canonical form of an http(s) URL; anything else is returned stripped but unchanged.

    Lower-cases scheme and host, drops the default port, the fragment (but not "#!" routes) and tracking
    parameters, sorts the remaining parameters (their encoding untouched), resolves "." and ".." in the
    path and upper-cases percent-escapes; a trailing slash is kept as the outlet wrote it.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return url
    host = _ascii_host(parts.hostname.rstrip("."))
    address = ip_literal(host)
    if address is not None:  # one spelling per address: 0x7f.1 and 2130706433 are 127.0.0.1
        host = str(address)
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    fragment = parts.fragment if parts.fragment.startswith("!") else ""
    return urlunsplit((scheme, netloc, _normalise_path(parts.path), _clean_query(parts.query), fragment))


def _ascii_host(host: str) -> str:
    """IDNA form, so bücher.example and xn--bcher-kva.example are one host."""
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def is_tracking_param(name: str) -> bool:
    key = unquote(name).lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)


def _clean_query(query: str) -> str:
    pairs = [pair for pair in query.split("&") if pair and not is_tracking_param(pair.split("=", 1)[0])]
    return "&".join(sorted(pairs))


def _normalise_path(path: str) -> str:
    """Percent-encode what must be (spaces, non-ASCII) and upper-case escapes, so every spelling agrees."""
    path = _NEEDS_ESCAPING.sub(_escape, path)
    if "%" in path:
        path = _PERCENT_ESCAPE.sub(lambda m: m.group(0).upper(), path)
    if "." in path:
        path = _remove_dot_segments(path)
    return path or "/"


def _escape(match: re.Match[str]) -> str:
    return "".join(f"%{byte:02X}" for byte in match.group(0).encode("utf-8"))


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4, keeping a trailing slash."""
    output: list[str] = []
    segments = path.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == ".":
            if last:
                output.append("")
        elif segment == "..":
            if len(output) > 1:
                output.pop()
            if last:
                output.append("")
        else:
            output.append(segment)
    return "/".join(output)


@lru_cache(maxsize=65_536)
def site_of(host: str) -> str:
    """The registrable domain of a host by the public suffix list: news.bbc.co.uk → bbc.co.uk, but
    victim.substack.com and evil.substack.com are two sites. An IP address, or a host that is itself a public
    suffix, is a site of its own; an unlisted top-level domain counts as one label (the list's "*" rule).
    """
    host = host.lower().rstrip(".")
    if ip_literal(host) is not None:
        return host
    parts = _SUFFIXES.extract_str(host)
    if parts.suffix:
        return f"{parts.domain}.{parts.suffix}" if parts.domain else host
    return ".".join(host.split(".")[-2:])


def same_site(url: str, other: str) -> bool:
    """Whether two URLs belong to one registrable domain (one owner); False for anything unparsable."""
    try:
        first, second = urlsplit(url).hostname, urlsplit(other).hostname
    except ValueError:
        return False
    return bool(first and second) and site_of(first) == site_of(second)


def is_web_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        return parts.scheme.lower() in _DEFAULT_PORTS and bool(parts.hostname)
    except ValueError:
        return False


def filed_url(declared: str | None, final: str) -> str:
    """The canonical URL a page is filed under: its own claim (rel=canonical) when on the fetched page's site,
    else where the fetch ended. A page must not be able to move its history onto another site's article."""
    return canonicalize_url(declared if declared and same_site(declared, final) else final)


def base_href(tree: LexborHTMLParser, url: str) -> str:
    """<base href> changes what relative links mean; ignore it unless it is a web URL."""
    node = tree.css_first("base[href]")
    href = (node.attributes.get("href") or "").strip() if node else ""
    resolved = urljoin(url, href) if href else url
    return resolved if is_web_url(resolved) else url


class UrlFilter:
    """A feed's URL exclusion patterns (regular expressions, searched anywhere in the canonical URL)."""

    def __init__(self, exclude: Sequence[str]) -> None:
        self.patterns = tuple(_compile(pattern) for pattern in exclude)

    def allows(self, url: str) -> bool:
        return not any(pattern.search(url) for pattern in self.patterns)


def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid URL exclusion pattern {pattern!r}: {exc}") from exc

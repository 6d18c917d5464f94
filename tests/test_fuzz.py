"""Property tests over what outlets hand us: URLs, addresses, Retry-After, feeds, sitemaps and HTML pages.

No input may raise anything but the project's own error types (FetchError, DiscoveryError, ExtractionError,
ValueError where documented). Examples are derived from a fixed seed (`derandomize`) and bounded, so CI runs the
same few hundred cases in a few seconds; NEWSDELTA_FUZZ_EXAMPLES=5000 explores further on a developer's machine.
"""

from __future__ import annotations

import contextlib
import os
from datetime import UTC, datetime
from ipaddress import IPv4Address, IPv6Address, ip_address

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsdelta.discovery import DiscoveryError, canonicalize_url, same_site
from newsdelta.discovery.sniff import discover_all
from newsdelta.discovery.urls import filed_url, is_web_url, site_of
from newsdelta.extract import ExtractionError, extract
from newsdelta.fetch import AddressPolicy, FetchError, check_url, retry_after_seconds
from newsdelta.fetch.addresses import embedded_ipv4, ip_literal, parse_networks
from newsdelta.fetch.retry_after import MAX_RETRY_AFTER

EXAMPLES = int(os.environ.get("NEWSDELTA_FUZZ_EXAMPLES", "0"))


def fuzz(examples: int) -> settings:
    """A fixed-seed profile: the same `examples` inputs on every run, no example database in the repo."""
    return settings(
        max_examples=EXAMPLES or examples,
        derandomize=not EXAMPLES,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


# --- strategies -----------------------------------------------------------------------------------------------

LOOPBACK_SPELLINGS = ["127.0.0.1", "2130706433", "0x7f.1", "017700000001", "0x7F000001", "127.1", "[::1]"]
hosts = st.one_of(
    st.sampled_from(
        [
            "www.bbc.co.uk",
            "news.bbc.co.uk",
            "victim.substack.com",
            "evil.github.io",
            "github.io",
            "co.uk",
            "xn--bcher-kva.example",
            "bücher.example",
            "localhost",
            "169.254.169.254",
            "[::ffff:10.0.0.1]",
            "[fe80::1%25eth0]",
            "[2002:7f00:1::]",
            "EXAMPLE.COM.",
            "a..b",
            ".",
            "-",
            "0x",
            "1.2.3.4.5",
            *LOOPBACK_SPELLINGS,
        ]
    ),
    st.from_regex(r"[a-z0-9-]{1,12}(\.[a-z0-9-]{1,12}){0,3}", fullmatch=True),
    st.ip_addresses().map(lambda a: f"[{a}]" if a.version == 6 else str(a)),
    st.text(min_size=1, max_size=20),
)
url_parts = st.lists(
    st.sampled_from(
        [
            *"abc/.%?#&=:@!$'()*+,;~-_ é\x00\t\n[]\\0123456789AF",
            "..",
            "%2F",
            "%zz",
            "utm_source=x",
            "#!/",
            "?b=2&a=1",
        ]
    ),
    max_size=25,
).map("".join)
urls = st.one_of(
    st.builds(
        lambda scheme, host, port, rest: f"{scheme}://{host}{port}{rest}",
        st.sampled_from(["http", "https", "HTTP", "ftp", "javascript", "file", ""]),
        hosts,
        st.sampled_from(["", ":80", ":443", ":8080", ":0", ":99999", ":x", ":"]),
        url_parts,
    ),
    st.text(max_size=60),
)
addresses = st.ip_addresses()


# --- URLs and site identity ----------------------------------------------------------------------------------


@fuzz(400)
@given(urls)
def test_canonicalisation_never_raises_and_is_idempotent(url: str) -> None:
    once = canonicalize_url(url)
    assert isinstance(once, str)
    assert canonicalize_url(once) == once


@fuzz(250)
@given(urls, urls)
def test_site_identity_never_raises_and_is_symmetric(first: str, second: str) -> None:
    assert same_site(first, second) == same_site(second, first)
    if is_web_url(first):
        assert same_site(first, first) is True


@fuzz(200)
@given(hosts)
def test_site_of_any_host_is_a_suffix_of_it(host: str) -> None:
    site = site_of(host)
    assert host.lower().rstrip(".").endswith(site)


@fuzz(300)
@given(urls)
def test_url_checks_raise_only_fetch_errors(url: str) -> None:
    try:
        parsed = check_url(url, AddressPolicy())
    except FetchError:
        return
    assert parsed.scheme in ("http", "https") and parsed.host
    literal = ip_literal(parsed.host)
    assert literal is None or AddressPolicy().refusal(literal) is None  # a refused address never passes


# --- addresses -----------------------------------------------------------------------------------------------


@fuzz(500)
@given(addresses)
def test_every_address_is_judged_and_only_public_unicast_passes_by_default(
    address: IPv4Address | IPv6Address,
) -> None:
    reason = AddressPolicy().refusal(address)
    judged = [address] + ([inner] if (inner := embedded_ipv4(address)) else [])
    if reason is None:
        assert all(a.is_global and not a.is_multicast for a in judged)
    else:
        assert str(address) in reason
    assert AddressPolicy(parse_networks(f"{address}")).refusal(address) is None  # allowing it allows it


@fuzz(300)
@given(st.one_of(hosts, st.text(max_size=30)))
def test_host_spellings_parse_to_the_address_a_resolver_would_use(host: str) -> None:
    address = ip_literal(host)
    if address is not None:
        assert ip_literal(str(address)) == address  # the normal spelling reads back the same


@fuzz(200)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_decimal_and_hex_spellings_of_an_ipv4_address_agree(number: int) -> None:
    expected = IPv4Address(number)
    assert ip_literal(str(number)) == expected
    assert ip_literal(hex(number)) == expected
    assert ip_literal(f"0{number:o}") == expected
    assert canonicalize_url(f"http://{number}/x") == f"http://{expected}/x"


@fuzz(300)
@given(st.text(max_size=60))
def test_network_lists_parse_or_raise_value_error(text: str) -> None:
    try:
        networks = parse_networks(text)
    except ValueError:
        return
    assert all(ip_address(network.network_address) in network for network in networks)


# --- Retry-After ---------------------------------------------------------------------------------------------

http_dates = st.datetimes(
    min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)
).map(lambda moment: moment.strftime("%a, %d %b %Y %H:%M:%S GMT"))


@fuzz(500)
@given(
    st.one_of(st.text(max_size=40), st.integers(min_value=-(10**30), max_value=10**30).map(str), http_dates)
)
def test_retry_after_never_raises_and_stays_within_a_day(value: str) -> None:
    seconds = retry_after_seconds(value, now=datetime(2026, 3, 1, tzinfo=UTC))
    assert seconds is None or 0.0 <= seconds <= MAX_RETRY_AFTER


# --- feeds, sitemaps and pages -------------------------------------------------------------------------------

xml_fragments = st.lists(
    st.sampled_from(
        [
            '<?xml version="1.0"?>',
            "<rss>",
            "</rss>",
            '<rss version="2.0">',
            "<channel>",
            "</channel>",
            "<item>",
            "</item>",
            "<link>",
            "</link>",
            "<guid>",
            "</guid>",
            "<pubDate>",
            "</pubDate>",
            "<feed xmlns='http://www.w3.org/2005/Atom'>",
            "</feed>",
            "<entry>",
            "</entry>",
            "<link href='",
            "'/>",
            "<urlset>",
            "</urlset>",
            "<sitemapindex>",
            "<sitemap>",
            "<loc>",
            "</loc>",
            "<url>",
            "</url>",
            "<!DOCTYPE x [<!ENTITY a 'aaaa'>]>",
            "&a;",
            "&amp;",
            "<![CDATA[",
            "]]>",
            "http://127.0.0.1/a",
            "https://outlet.example/news/2026/story-one",
            "javascript:x",
            "//x",
            "Mon, 99 Xyz 2026",
            "9999-12-31T23:59:59",
            '{"items": [',
            '{"url": "',
            '"}',
            "]}",
            "\x00",
            "é",
        ]
    )
    | st.text(max_size=10),
    max_size=30,
).map("".join)
content_types = st.sampled_from(
    [None, "application/rss+xml", "application/atom+xml", "application/xml", "text/xml", "application/json",
     "application/feed+json", "text/html", "text/plain", "application/x-gzip", "image/png"]
)  # fmt: skip


page_urls = st.sampled_from(
    ["https://www.bbc.co.uk/news/uk-politics-123", "https://www.theguardian.com/world/2026/mar/01/x",
     "https://evil.substack.com/p/y", "http://127.0.0.1:8000/news/2026/03/01/z", "https://outlet.example/a-b-c"]
)  # fmt: skip


@fuzz(150)
@given(xml_fragments, content_types, page_urls)
def test_feed_and_sitemap_discovery_raise_only_discovery_errors(
    body: str, content_type: str | None, url: str
) -> None:
    try:
        found = discover_all(body.encode("utf-8", "surrogatepass"), content_type, url)
    except DiscoveryError:
        return
    assert all(isinstance(link.url, str) for link in found.links)


@fuzz(200)
@given(st.binary(max_size=300), content_types)
def test_discovery_of_arbitrary_bytes_raises_only_discovery_errors(
    body: bytes, content_type: str | None
) -> None:
    with contextlib.suppress(DiscoveryError):
        discover_all(body, content_type, "https://outlet.example/feed")


html_fragments = st.lists(
    st.sampled_from(
        [
            "<html>",
            "<head>",
            "</head>",
            "<title>",
            "</title>",
            "<body>",
            "<article>",
            "</article>",
            "<h1>",
            "</h1>",
            "<p>",
            "</p>",
            "A sentence of news text that is long enough to be kept. ",
            "<script>",
            "</script>",
            '<link rel="canonical" href="',
            '<meta property="og:url" content="',
            '<base href="',
            '">',
            '"/>',
            "https://victim.substack.com/p/x",
            "/relative/path",
            "javascript:alert(1)",
            "http://[::1",
            "<div>",
            "</div>",
            '<meta charset="x-unknown">',
            '<script type="application/ld+json">{"@type":"NewsArticle",',
            '"headline": "h", "datePublished": "9999-99-99"}',
            "<time datetime='0001-01-01T00:00:00+14:00'>",
            "&#0;",
            "&#x110000;",
            "\x00",
            "\ud800",
            "é",
            "<!--",
            "-->",
            "<![CDATA[",
        ]
    )
    | st.text(max_size=8),
    max_size=40,
).map("".join)


@fuzz(80)
@given(html_fragments, page_urls)
def test_extraction_raises_only_extraction_errors(html: str, url: str) -> None:
    try:
        extracted = extract(html.encode("utf-8", "surrogatepass"), url)
    except ExtractionError:
        return
    assert isinstance(extracted.title, str)


@fuzz(150)
@given(st.one_of(st.none(), page_urls, st.text(max_size=80)), page_urls)
def test_a_pages_claim_to_its_url_stays_on_its_registrable_domain(declared: str | None, url: str) -> None:
    assert same_site(filed_url(declared, url), url)


@pytest.mark.parametrize("spelling", LOOPBACK_SPELLINGS)
def test_every_loopback_spelling_is_one_canonical_url(spelling: str) -> None:
    expected = "http://[::1]/x" if spelling == "[::1]" else "http://127.0.0.1/x"
    assert canonicalize_url(f"http://{spelling}/x") == expected

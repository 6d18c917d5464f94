"""Refusing URLs we must never request, before any socket is opened.

A name is checked again when it is resolved, by the transport (see `newsdelta.fetch.transport`).
"""

from __future__ import annotations

import re

import httpx

from newsdelta.fetch.addresses import AddressPolicy
from newsdelta.fetch.errors import FetchError

MAX_URL_LENGTH = 4096
_ALLOWED_SCHEMES = frozenset({"http", "https"})
# Raw control characters and whitespace: legitimate URLs percent-encode them; raw ones smuggle headers.
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")


def check_url(url: str, addresses: AddressPolicy | None = None) -> httpx.URL:
    """The parsed URL, or FetchError saying why it is refused (feeds and redirects are untrusted input).

    With `addresses`, a host that spells an IP address (in any spelling) must be one the policy allows.
    """
    if len(url) > MAX_URL_LENGTH:
        raise FetchError(f"URL refused: {len(url)} characters is longer than {MAX_URL_LENGTH}")
    if _CONTROL_OR_SPACE.search(url):
        raise FetchError(f"URL refused: contains whitespace or control characters: {url[:200]!r}")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise FetchError(f"URL refused: not a valid URL ({exc}): {url[:200]!r}") from exc
    if parsed.scheme not in _ALLOWED_SCHEMES:
        raise FetchError(f"URL refused: scheme {parsed.scheme!r} is not http or https: {url[:200]!r}")
    if not parsed.host:
        raise FetchError(f"URL refused: no host: {url[:200]!r}")
    if parsed.userinfo:
        raise FetchError(f"URL refused: credentials in URL are not sent: {parsed.copy_with(userinfo=b'')}")
    if addresses is not None:
        addresses.check_literal(parsed.host)
    return parsed

"""Which IP addresses newsdelta may connect to: public unicast only, unless the operator widens it.

Feeds, redirects and pages are written by outlets we do not control, so a URL may point at the cloud metadata
service, the database or anything else on the crawler's own network (SSRF). Every connection is checked
against this policy after DNS resolution, by the transport that then connects to the very address checked.
An address that embeds an IPv4 address (IPv4-mapped, 6to4, NAT64, Teredo) is judged by the one it embeds.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

from newsdelta import settings
from newsdelta.fetch.errors import AddressRefused

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

_SHARED_ADDRESS_SPACE = IPv4Network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598)
_NAT64 = IPv6Network("64:ff9b::/96")  # RFC 6052: the last 32 bits are an IPv4 address
_HEX_LABEL = frozenset("0123456789abcdefx")


def parse_networks(text: str | None) -> tuple[IPNetwork, ...]:
    """ "127.0.0.0/8, ::1/128" (a bare address means just that one); ValueError naming a bad entry."""
    networks = []
    for entry in (text or "").replace(" ", ",").split(","):
        if not entry:
            continue
        try:
            networks.append(ip_network(entry, strict=False))
        except ValueError as exc:
            raise ValueError(f"{entry!r} is not a network in CIDR notation (e.g. 10.0.0.0/8): {exc}") from exc
    return tuple(networks)


def ip_literal(host: str) -> IPAddress | None:
    """The address a host name spells, if it is one, in any spelling a resolver would accept.

    Besides dotted quads and IPv6 ("[::1]"), C's inet_aton reads "2130706433", "0x7f.1" and "017700000001"
    as 127.0.0.1; those are only tried when the last label is a number, as browsers do (WHATWG URL).
    """
    host = host.strip("[]").rstrip(".").lower()
    try:
        return ip_address(host)
    except ValueError:
        pass
    last_label = host.rsplit(".", 1)[-1]
    if not last_label or not set(last_label) <= _HEX_LABEL or not host.isascii():
        return None
    try:
        return IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def embedded_ipv4(address: IPAddress) -> IPv4Address | None:
    """The IPv4 address an IPv6 one carries (IPv4-mapped, 6to4, NAT64, Teredo client), if any."""
    if isinstance(address, IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return address.teredo[1] if address.teredo is not None else None


def special_use(address: IPAddress) -> str | None:
    """What kind of non-public address this is (e.g. "loopback"), or None for public unicast."""
    kinds = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("shared (carrier-grade NAT)", address in _SHARED_ADDRESS_SPACE),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("site-local", isinstance(address, IPv6Address) and address.is_site_local),
        ("non-public", not address.is_global),
    )
    return next((kind for kind, matches in kinds if matches), None)


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Public unicast addresses, plus whatever `allowed` networks the operator opened."""

    allowed: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_env(cls) -> AddressPolicy:
        return cls(parse_networks(settings.ALLOWED_NETWORKS.read()))

    def refusal(self, address: IPAddress) -> str | None:
        """Why newsdelta may not connect to `address`, or None when it may."""
        why = self._why_not(address)
        return None if why is None else f"{why}; {self._advice()}"

    def _why_not(self, address: IPAddress) -> str | None:
        """An address embedding an IPv4 one is refused when either is non-public, unless either is allowed."""
        inner = embedded_ipv4(address)
        judged = (address,) if inner is None else (inner, address)  # the embedded one tells more
        if any(candidate in network for candidate in judged for network in self.allowed):
            return None
        kind = next((kind for candidate in judged if (kind := special_use(candidate))), None)
        if kind is None:
            return None
        shown = str(address) if inner is None else f"{address} (IPv4 {inner})"
        return f"{shown} is a {kind} address"

    def _advice(self) -> str:
        opened = ", ".join(map(str, self.allowed)) or "none"
        return (
            f"only public addresses are fetched unless --allow-networks or {settings.ALLOWED_NETWORKS.env} allows it "
            f"(allowed now: {opened})"
        )

    def check(self, host: str, address: IPAddress) -> None:
        reason = self.refusal(address)
        if reason is not None:
            raise AddressRefused(f"address refused for {host}: {reason}")

    def check_literal(self, host: str) -> None:
        """Refuse a host that spells a refused address, before anything (robots.txt included) is requested.

        Names are left to the connection, which checks what they resolve to.
        """
        address = ip_literal(host)
        if address is not None:
            self.check(host, address)

    def allowed_of(self, host: str, addresses: Iterable[IPAddress]) -> list[IPAddress]:
        """The addresses a name resolved to that may be connected to; AddressRefused when none may."""
        addresses = list(dict.fromkeys(addresses))
        usable = [address for address in addresses if self._why_not(address) is None]
        if usable:
            return usable
        reasons = ", ".join(filter(None, map(self._why_not, addresses))) or "it resolved to no address"
        raise AddressRefused(f"address refused for {host}: {reasons}; {self._advice()}")

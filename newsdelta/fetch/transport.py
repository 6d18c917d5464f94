"""The one place newsdelta opens a connection: resolve, check the addresses, connect to a checked one.

Checking a URL's host and then letting the HTTP library resolve it again would leave a DNS-rebinding gap (the
name answers a public address to the check and 127.0.0.1 to the connection). So the check lives in httpcore's
network backend, beneath every request the Fetcher makes (pages, feeds, each redirect hop, robots.txt and its
redirects): the address checked is the address connected to, while the Host header, TLS SNI and certificate
verification keep using the host name, as httpcore takes those from the request, not from the socket.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterable

import httpcore
import httpx
from httpcore import AsyncNetworkBackend, AsyncNetworkStream

from newsdelta.fetch.addresses import AddressPolicy, IPAddress, ip_literal
from newsdelta.fetch.errors import AddressRefused

_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)


class GuardedBackend(AsyncNetworkBackend):
    """httpcore's own backend, handed only addresses the policy allows."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        addresses = self.policy.allowed_of(host, await _resolve(host, port, timeout))
        error: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in addresses:  # like the resolver's own order, skipping the refused ones
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None  # allowed_of returns at least one address
        raise error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        raise AddressRefused(f"unix socket {path} refused: newsdelta only connects over TCP")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


async def _resolve(host: str, port: int, timeout: float | None) -> list[IPAddress]:
    """Every address `host` stands for; failures are httpcore's connect errors (retried like any)."""
    literal = ip_literal(host)
    if literal is not None:
        return [literal]
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except TimeoutError as exc:
        raise httpcore.ConnectTimeout(f"resolving {host} took longer than {timeout}s") from exc
    except (OSError, UnicodeError) as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    return [_address(str(info[4][0])) for info in infos]


def _address(text: str) -> IPAddress:
    """An address as getaddrinfo prints it, without an IPv6 scope ("fe80::1%eth0")."""
    address = ip_literal(text.split("%", 1)[0])
    if address is None:
        raise AddressRefused(f"the resolver answered {text!r}, which is not an IP address")
    return address


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a `GuardedBackend`: no proxies, TCP only, checked addresses only."""

    def __init__(self, policy: AddressPolicy) -> None:
        ssl_context = httpx.create_ssl_context()
        super().__init__(verify=ssl_context, limits=_LIMITS)
        # httpx does not take a network backend, so its pool is replaced by an identical one that uses ours.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=_LIMITS.max_connections,
            max_keepalive_connections=_LIMITS.max_keepalive_connections,
            keepalive_expiry=_LIMITS.keepalive_expiry,
            network_backend=GuardedBackend(policy),
        )

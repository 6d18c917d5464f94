"""A minimal HTTP/1.1 server on asyncio, run in a background thread.

Why not http.server or uvicorn: the benchmarks need several thousand small responses per second from one
core while the crawler under test uses the other, and slow pages must not tie up a thread each. An asyncio
protocol with keep-alive, pipelining and a hand-rolled header parser does that in ~150 lines.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus

log = logging.getLogger(__name__)

MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 1024 * 1024
_REASONS = {status.value: status.phrase for status in HTTPStatus}


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]  # names lower-cased
    body: bytes


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    delay: float = 0.0  # seconds to wait before answering, without blocking other connections
    # Slow work (e.g. the truth of 10,000 articles) run on a worker thread so the loop keeps serving; its
    # response gets this one's headers appended.
    deferred: Callable[[], Response] | None = None


Handler = Callable[[Request], Response]


class _BadRequest(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def _parse_head(head: str) -> tuple[str, str, str, dict[str, str]]:
    lines = head.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _BadRequest(400)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise _BadRequest(400)
        headers[name.lower()] = value.strip()
    return parts[0], parts[1], parts[2], headers


def _respond(request: Request, handler: Handler) -> Response:
    try:
        return handler(request)
    except Exception:
        log.exception("newsroom handler failed on %s %s", request.method, request.path)
        return Response(500, b"internal error\n")


def _wants_keep_alive(version: str, headers: dict[str, str]) -> bool:
    connection = headers.get("connection", "").lower()
    if version == "HTTP/1.0":
        return "keep-alive" in connection
    return "close" not in connection


def encode_response(response: Response, *, head_only: bool, keep_alive: bool) -> bytes:
    lines = [f"HTTP/1.1 {response.status} {_REASONS.get(response.status, 'Unknown')}"]
    lines.extend(f"{name}: {value}" for name, value in response.headers)
    lines.append(f"Content-Length: {len(response.body)}")
    if not keep_alive:
        lines.append("Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head if head_only or response.status == 304 else head + response.body


class _Connection(asyncio.Protocol):
    """One client connection: parses pipelined requests in order and answers each (possibly delayed)."""

    def __init__(self, handler: Handler, connections: set[_Connection]) -> None:
        self._handler = handler
        self._connections = connections
        self._buffer = bytearray()
        self._busy = False
        self._pending: asyncio.Future[None] | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._connections.discard(self)
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if not self._busy:
            self._serve_buffered()

    def _serve_buffered(self) -> None:
        while self.transport is not None and not self._busy:
            try:
                parsed = self._next_request()
            except _BadRequest as error:
                self._write(Response(error.status, b"bad request\n"), head_only=False, keep_alive=False)
                return
            if parsed is None:
                return
            request, keep_alive = parsed
            response = _respond(request, self._handler)
            if response.delay > 0 or response.deferred is not None:
                self._busy = True  # later requests on this connection wait, so answers stay in order
                self._pending = asyncio.ensure_future(self._answer_later(request, response, keep_alive))
                return
            self._write(response, head_only=request.method == "HEAD", keep_alive=keep_alive)

    async def _answer_later(self, request: Request, response: Response, keep_alive: bool) -> None:
        if response.delay > 0:
            await asyncio.sleep(response.delay)
        if response.deferred is not None:
            work = response.deferred
            final = await asyncio.get_running_loop().run_in_executor(
                None, _respond, request, lambda _: work()
            )
            final.headers.extend(response.headers)
            response = final
        self._busy = False
        self._write(response, head_only=request.method == "HEAD", keep_alive=keep_alive)
        self._serve_buffered()

    def _next_request(self) -> tuple[Request, bool] | None:
        while self._buffer[:2] == b"\r\n":  # tolerated between pipelined requests (RFC 9112 §2.2)
            del self._buffer[:2]
        end = self._buffer.find(b"\r\n\r\n")
        if end == -1:
            if len(self._buffer) > MAX_HEAD_BYTES:
                raise _BadRequest(431)
            return None
        method, target, version, headers = _parse_head(self._buffer[:end].decode("latin-1"))
        if "transfer-encoding" in headers:
            raise _BadRequest(501)
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            raise _BadRequest(400) from None
        if not 0 <= length <= MAX_BODY_BYTES:
            raise _BadRequest(413)
        total = end + 4 + length
        if len(self._buffer) < total:
            return None
        body = bytes(self._buffer[end + 4 : total])
        del self._buffer[:total]
        path, _, query = target.partition("?")
        request = Request(method, path, query, headers, body)
        return request, _wants_keep_alive(version, headers)

    def _write(self, response: Response, *, head_only: bool, keep_alive: bool) -> None:
        if self.transport is None:
            return
        self.transport.write(encode_response(response, head_only=head_only, keep_alive=keep_alive))
        if not keep_alive:
            self.transport.close()


class BackgroundServer:
    """Serves `handler` on host:port from a daemon thread with its own event loop."""

    def __init__(self, handler: Handler, host: str, port: int) -> None:
        self._handler = handler
        self._host = host
        self._port = port
        self._connections: set[_Connection] = set()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    def start(self) -> int:
        self._thread = threading.Thread(target=self._run, name="newsroom-http", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error
        return self.port

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._thread = None

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            server = loop.run_until_complete(
                loop.create_server(
                    lambda: _Connection(self._handler, self._connections),
                    self._host,
                    self._port,
                    backlog=1024,
                )
            )
        except BaseException as error:
            self._error = error
            self._ready.set()
            loop.close()
            return
        self.port = server.sockets[0].getsockname()[1]
        self._loop = loop
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            server.close()
            for connection in list(self._connections):
                if connection.transport is not None:
                    connection.transport.abort()
            pending = asyncio.all_tasks(loop)  # slow or deferred answers still waiting
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(server.wait_closed())
            loop.close()

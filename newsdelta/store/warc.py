"""Evidence out as WARC/1.1, the web archives' own format, so replay and archive tools can read it.

Per version with a kept body: a `request` record (our request line and headers, when the exchange was kept),
a `response` record (status line and headers as received, the body, `WARC-IP-Address`, the receive time as
`WARC-Date`) and a `metadata` record with newsdelta's reading of it (title, paragraphs, parser, text hash).
The body is kept decoded (httpx undoes gzip and chunking), so the headers that described the wire encoding
are renamed `X-Archive-Orig-…` and Content-Length states the stored body's length, as replay tools expect.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from newsdelta import __version__
from newsdelta.store.evidence import EvidenceStore, load_raw_page
from newsdelta.store.models import Article, Version
from newsdelta.vocabulary import Origin

_WIRE_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}


def write_warc(store: EvidenceStore, articles: Iterable[Article], out: BinaryIO) -> int:
    """Write every kept version of `articles` to `out` (gzip-compressed per record); return the versions."""
    writer = WARCWriter(out, gzip=True, warc_version="1.1")
    writer.write_record(
        writer.create_warcinfo_record("newsdelta.warc.gz", {"software": f"newsdelta/{__version__}"})
    )
    written = 0
    for article in articles:
        for version in sorted(article.versions, key=lambda v: v.number):
            body = load_raw_page(store, version.raw_sha256) if version.raw_sha256 else None
            if body is None or version.origin != Origin.FETCH:
                continue
            _write_version(writer, article, version, body)
            written += 1
    return written


def _write_version(writer: WARCWriter, article: Article, version: Version, body: bytes) -> None:
    exchange: dict[str, Any] = version.exchange or {}
    uri = exchange.get("request", {}).get("url") or version.final_url or article.url
    date = _warc_date(exchange.get("received_at"), version.fetched_at)
    response_headers = {"WARC-Date": date}
    if version.remote_ip:
        response_headers["WARC-IP-Address"] = version.remote_ip
    response = writer.create_warc_record(
        uri,
        "response",
        payload=io.BytesIO(body),
        length=len(body),
        warc_headers_dict=response_headers,
        http_headers=_response_headers(exchange.get("response"), version, len(body)),
    )
    linked = {"WARC-Date": date, "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID")}
    if "request" in exchange:
        writer.write_record(
            writer.create_warc_record(
                uri,
                "request",
                payload=io.BytesIO(b""),
                length=0,
                warc_headers_dict=linked,
                http_headers=_request_headers(exchange["request"]),
            )
        )
    writer.write_record(response)
    reading = {
        "article_id": article.id,
        "version": version.number,
        "title": version.title,
        "byline": version.byline,
        "paragraphs": version.paragraphs,
        "parser": version.parser,
        "parser_version": version.parser_version,
        "text_hash": version.text_hash,
        "raw_sha256": version.raw_sha256,
    }
    metadata = json.dumps(reading, ensure_ascii=False).encode()
    writer.write_record(
        writer.create_warc_record(
            uri,
            "metadata",
            payload=io.BytesIO(metadata),
            length=len(metadata),
            warc_content_type="application/json",
            warc_headers_dict=linked,
        )
    )


def _warc_date(received_at: str | None, fetched_at: datetime) -> str:
    moment = datetime.fromisoformat(received_at) if received_at else fetched_at
    stamp: str = datetime_to_iso_date(moment.replace(tzinfo=None), use_micros=True)
    return stamp


def _request_headers(request: dict[str, Any]) -> StatusAndHeaders:
    parts = urlsplit(request["url"])
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    return StatusAndHeaders(
        f"{request['method']} {target} HTTP/1.1",
        [tuple(pair) for pair in request["headers"]],
        is_http_request=True,
    )


def _response_headers(response: dict[str, Any] | None, version: Version, length: int) -> StatusAndHeaders:
    """As received when kept; for versions stored before exchanges were, the status and charset known."""
    if response is None:
        content_type = f"text/html; charset={version.charset}" if version.charset else "text/html"
        return StatusAndHeaders(
            f"{version.http_status}",
            [("Content-Type", content_type), ("Content-Length", str(length))],
            "HTTP/1.1",
        )
    headers = [
        (f"X-Archive-Orig-{name}" if name.lower() in _WIRE_HEADERS else name, value)
        for name, value in response["headers"]
    ]
    headers.append(("Content-Length", str(length)))
    status = f"{response['status']} {response['reason']}".strip()
    return StatusAndHeaders(status, headers, protocol=response["http_version"])

"""Every request the newsroom served, kept compactly: a benchmark makes millions of them.

Tests read it to check politeness (per-host rates, robots.txt) from outside the crawler.
"""

from __future__ import annotations

import threading
from array import array
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One served request: `at` is wall-clock time.time(), `clock` the newsroom's virtual time."""

    at: float
    clock: datetime
    method: str
    host: str
    path: str
    status: int


class RequestLog:
    """Parallel arrays plus a table of distinct (method, host, path): ~30 bytes a request, not ~300."""

    def __init__(self, epoch: datetime) -> None:
        self._epoch = epoch  # virtual times are stored as seconds since this
        self._lock = threading.Lock()
        self._keys: dict[tuple[str, str, str], int] = {}
        self._key_list: list[tuple[str, str, str]] = []
        self._at = array("d")
        self._clock = array("d")
        self._key = array("I")
        self._status = array("H")

    def add(self, at: float, clock: datetime, method: str, host: str, path: str, status: int) -> None:
        key = (method, host, path)
        with self._lock:
            number = self._keys.get(key)
            if number is None:
                number = self._keys[key] = len(self._key_list)
                self._key_list.append(key)
            self._at.append(at)
            self._clock.append((clock - self._epoch).total_seconds())
            self._key.append(number)
            self._status.append(status)

    def __len__(self) -> int:
        return len(self._at)

    def records(self, since: float = 0.0, path: str | None = None) -> list[RequestRecord]:
        """Records with `at` >= since (wall-clock), optionally for one path, oldest first."""
        with self._lock:
            rows = list(zip(self._at, self._clock, self._key, self._status, strict=True))
            keys = list(self._key_list)
        records = []
        for at, clock, number, status in rows:
            method, host, request_path = keys[number]
            if at >= since and (path is None or request_path == path):
                records.append(
                    RequestRecord(
                        at, self._epoch + timedelta(seconds=clock), method, host, request_path, status
                    )
                )
        return records

    def counts(self) -> dict[str, int]:
        """Requests per path."""
        with self._lock:
            per_key = Counter(self._key)
            keys = list(self._key_list)
        counts: Counter[str] = Counter()
        for number, count in per_key.items():
            counts[keys[number][2]] += count
        return dict(counts)

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()
            self._key_list.clear()
            for column in (self._at, self._clock, self._key, self._status):
                del column[:]

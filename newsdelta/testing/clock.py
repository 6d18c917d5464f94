"""A virtual clock: the newsroom's world moves only when a test (or the demo) says so."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta


class NewsroomClock:
    """Thread-safe virtual time; the server thread reads it while a test thread moves it."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the newsroom clock needs an aware datetime (UTC)")
        self._start = start
        self._now = start
        self._lock = threading.Lock()

    @property
    def start(self) -> datetime:
        return self._start

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            self._now += timedelta(seconds=seconds)
            return self._now

    def set(self, when: datetime) -> datetime:
        if when.tzinfo is None:
            raise ValueError("the newsroom clock needs an aware datetime (UTC)")
        with self._lock:
            self._now = when
            return self._now

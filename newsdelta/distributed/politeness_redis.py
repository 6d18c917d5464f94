"""Politeness shared by every worker on every machine: the per-host rate limit and robots.txt cache in Redis.

Each process keeps its own Fetcher; only these two pieces of state must be common, or ten workers would hit
one outlet ten times harder and fetch its robots.txt ten times. Time comes from the Redis server (TIME inside
the script), so machines with drifting clocks still space their requests correctly.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from newsdelta.fetch.politeness import RobotsRules

# Acquire a slot: drop holders whose slot expired (crashed processes), refuse when all slots are held,
# else wait until the host's next allowed start; on success record the holder and the next allowed start.
# Returns 0 when acquired, else the microseconds to wait before asking again (-1: all slots busy).
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  return -1
end
local next_start = tonumber(redis.call('GET', KEYS[2]) or '0')
if next_start > now then
  return next_start - now
end
local slot_ttl = tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], now + slot_ttl, ARGV[4])
redis.call('PEXPIRE', KEYS[1], math.floor(slot_ttl / 1000) + 1000)
redis.call('SET', KEYS[2], now + tonumber(ARGV[2]), 'PX', math.floor(tonumber(ARGV[2]) / 1000) + 1000)
return 0
"""
_BUSY_POLL = 0.01  # seconds between asks while every slot of a host is taken


def redis_client(url: str) -> Redis:
    """An asyncio client that rides out a Redis restart (about half a minute of retries) instead of failing."""
    return Redis.from_url(
        url,
        retry=Retry(ExponentialBackoff(cap=2.0, base=0.05), retries=25),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
        health_check_interval=30,
    )


class RedisRateLimiter:
    """At most `concurrency` requests in flight per host and `min_interval` between starts, for all processes.

    A slot held by a process that died is freed after `slot_ttl` seconds, which must exceed the fetcher's
    per-request timeout.
    """

    def __init__(
        self, redis: Redis, *, concurrency: int = 2, slot_ttl: float = 120.0, prefix: str = "newsdelta"
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"per-host concurrency must be at least 1, not {concurrency}")
        self.concurrency = concurrency
        self._redis = redis
        self._slot_ttl_us = int(slot_ttl * 1_000_000)
        self._prefix = prefix
        self._acquire = redis.register_script(_ACQUIRE)

    @asynccontextmanager
    async def slot(self, host: str, min_interval: float) -> AsyncIterator[None]:
        slots_key = f"{self._prefix}:host:{host}:slots"
        holder = uuid.uuid4().hex
        await self._wait_for_slot(slots_key, f"{self._prefix}:host:{host}:next", holder, min_interval)
        try:
            yield
        finally:
            await self._redis.zrem(slots_key, holder)

    async def _wait_for_slot(self, slots_key: str, next_key: str, holder: str, min_interval: float) -> None:
        args: list[int | str] = [self.concurrency, int(min_interval * 1_000_000), self._slot_ttl_us, holder]
        while True:
            wait_us = int(await self._acquire(keys=[slots_key, next_key], args=args))
            if wait_us == 0:
                return
            await asyncio.sleep(_BUSY_POLL if wait_us < 0 else wait_us / 1_000_000)


class RedisRobotsCache:
    """robots.txt rules per origin, expiring in Redis itself, with a short-lived copy in this process so a
    busy worker does not ask Redis before every fetch."""

    def __init__(self, redis: Redis, *, prefix: str = "newsdelta", local_ttl: float = 60.0) -> None:
        self._redis = redis
        self._prefix = prefix
        self._local_ttl = local_ttl
        self._local: dict[str, tuple[float, RobotsRules]] = {}

    def _key(self, origin: str) -> str:
        return f"{self._prefix}:robots:{origin}"

    async def get(self, origin: str) -> RobotsRules | None:
        expires, rules = self._local.get(origin, (0.0, None))
        if rules is not None and time.monotonic() < expires:
            return rules
        raw = await self._redis.get(self._key(origin))
        if raw is None:
            return None
        data = json.loads(raw)
        rules = RobotsRules(data["text"], unreachable=data["unreachable"])
        self._local[origin] = (time.monotonic() + self._local_ttl, rules)
        return rules

    async def put(self, origin: str, rules: RobotsRules, ttl: float) -> None:
        payload = json.dumps({"text": rules.text, "unreachable": rules.unreachable})
        await self._redis.set(self._key(origin), payload, px=max(1, int(ttl * 1000)))
        self._local[origin] = (time.monotonic() + min(ttl, self._local_ttl), rules)

"""Django's Redis cache backend, reusing one client per pool and failing open when Redis is down.

Reused client: `django.core.cache.backends.redis.RedisCacheClient.get_client` builds a `redis.Redis`
for every cache call; with redis-py that means filling its table of ~200 response callbacks each time
(~0.25 ms of CPU). Here each connection pool gets one client, kept for the life of the backend
(Django keeps one backend per thread; a `redis.Redis` on a pool is safe to share anyway).

Failing open: the cache holds only what can be rebuilt — cached rows, DRF throttle histories and
allauth's rate-limit counters. When Redis is unreachable a read answers "not cached" and a write is
dropped, with one logged warning per outage, so reads, logins, orders and payment notifications keep
working on PostgreSQL alone (docs/quality.md, "Faults survived"). Password guessing stays slow during
an outage because the login lockout (core/lockout.py) counts failures in PostgreSQL, not here. After
a failure the backend does not try Redis again for `RETRY_AFTER_SECONDS`, so an outage costs one
refused connection every few seconds instead of one per cache call.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5.0
_UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)


class ReusedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # Private helpers of Django's client (not in django-stubs).
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))  # type: ignore[attr-defined]
        return client


class _Outage:
    """Process-wide: when Redis last failed, so every thread's backend skips it for a while."""

    lock = threading.Lock()
    down_since: float | None = None
    retry_at = 0.0

    @classmethod
    def skip(cls) -> bool:
        return cls.down_since is not None and time.monotonic() < cls.retry_at

    @classmethod
    def failed(cls, exc: Exception) -> None:
        with cls.lock:
            now = time.monotonic()
            if cls.down_since is None:
                cls.down_since = now
                logger.warning("cache unavailable, failing open (throttles and rate limits off): %r", exc)
            cls.retry_at = now + RETRY_AFTER_SECONDS

    @classmethod
    def succeeded(cls) -> None:
        if cls.down_since is not None:
            with cls.lock:
                if cls.down_since is not None:
                    logger.warning("cache available again after %.0f s", time.monotonic() - cls.down_since)
                cls.down_since = None


def cache_available() -> bool:
    """False while the cache is in an outage (for /healthz)."""
    return _Outage.down_since is None


def _fail_open(name: str, default: Any) -> Callable[..., Any]:
    parent = getattr(RedisCache, name)

    def method(self: RedisCache, *args: Any, **kwargs: Any) -> Any:
        if _Outage.skip():
            return default() if callable(default) else default
        try:
            result = parent(self, *args, **kwargs)
        except _UNAVAILABLE as exc:
            _Outage.failed(exc)
            return default() if callable(default) else default
        _Outage.succeeded()
        return result

    method.__name__ = name
    method.__doc__ = parent.__doc__
    return method


class ZhiquanRedisCache(RedisCache):
    @cached_property
    def _cache(self) -> ReusedClientRedisCacheClient:
        return ReusedClientRedisCacheClient(self._servers, **self._options)  # type: ignore[attr-defined]

    # Reads answer "absent"; writes are dropped. `incr` keeps Django's contract for a missing key.
    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        if _Outage.skip():
            return default
        try:
            result = super().get(key, default, version)
        except _UNAVAILABLE as exc:
            _Outage.failed(exc)
            return default
        _Outage.succeeded()
        return result

    get_many = _fail_open("get_many", dict)
    has_key = _fail_open("has_key", False)
    set = _fail_open("set", None)
    set_many = _fail_open("set_many", list)
    add = _fail_open("add", True)
    touch = _fail_open("touch", False)
    delete = _fail_open("delete", False)
    delete_many = _fail_open("delete_many", None)
    clear = _fail_open("clear", None)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        if _Outage.skip():
            return delta
        try:
            result = super().incr(key, delta, version)
        except _UNAVAILABLE as exc:
            _Outage.failed(exc)
            return delta
        _Outage.succeeded()
        return result

"""Django's Redis cache backend without a new client object per operation.

`django.core.cache.backends.redis.RedisCacheClient.get_client` builds a `redis.Redis` for every cache
call; with redis-py that means filling its table of ~200 response callbacks each time (~0.25 ms of
CPU). A request that checks two throttles and reads a few cached rows paid more for that than for
its Redis round trips. Here each connection pool gets one client, kept for the life of the backend
(Django keeps one backend per thread; a `redis.Redis` on a pool is safe to share anyway).
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property


class ReusedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        # Private helpers of Django's client (not in django-stubs).
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))  # type: ignore[attr-defined]
        return client


class ZhiquanRedisCache(RedisCache):
    @cached_property
    def _cache(self):
        return ReusedClientRedisCacheClient(self._servers, **self._options)  # type: ignore[attr-defined]

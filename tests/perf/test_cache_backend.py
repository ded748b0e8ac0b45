"""core.cache.ZhiquanRedisCache: Django's Redis cache with one client per pool, same behaviour."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from core.cache import ZhiquanRedisCache

pytestmark = pytest.mark.redis


def test_the_configured_cache_is_the_reusing_backend():
    from django.core.cache import caches

    assert isinstance(caches["default"], ZhiquanRedisCache)


def test_one_client_serves_every_call():
    from django.core.cache import caches

    backend = caches["default"]
    first = backend._cache.get_client("a")
    assert backend._cache.get_client("b") is first
    assert backend._cache.get_client("c", write=True) is first  # one server: reads and writes share it


def test_it_behaves_as_djangos_redis_cache():
    cache.set("perf:a", {"x": [1, 2]}, 30)
    assert cache.get("perf:a") == {"x": [1, 2]}
    assert cache.add("perf:a", 1) is False and cache.add("perf:b", 1) is True
    assert cache.incr("perf:b") == 2
    cache.set_many({"perf:c": 3, "perf:d": 4})
    assert cache.get_many(["perf:c", "perf:d", "perf:missing"]) == {"perf:c": 3, "perf:d": 4}
    cache.delete_many(["perf:c", "perf:d"])
    assert cache.get("perf:c") is None
    with pytest.raises(ValueError):
        cache.incr("perf:missing")

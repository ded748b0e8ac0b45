"""Version numbers in Django's cache, the invalidation scheme of the versioned caches (courses.cache).

A cached entry carries the version it was built at and is served only while that version is current; a
write that changes what entries hold bumps the version instead of finding and deleting them. The apps
that own the facts bump (members.cache_versions for memberships, tiers and shown names; courses.cache
for courses), the cache that reads them lives above.
"""

from __future__ import annotations

import time

from django.core.cache import cache
from django.db import transaction


def current_version(key: str, timeout: int | None = None) -> int:
    """The version stored under `key`, started if there is none."""
    current = cache.get(key)
    if current is None:
        # A fresh epoch (milliseconds) if the key was evicted: never the number of an old version.
        epoch = int(time.time() * 1000)
        cache.add(key, epoch, timeout=timeout)
        current = cache.get(key)
        if current is None:
            # The cache is unreachable (core.cache fails open): nothing is served from it either, so
            # any version will do — the reader rebuilds from the database instead of failing.
            return epoch
    return int(current)


def _bump_now(key: str, timeout: int | None) -> None:
    try:
        cache.incr(key)
    except ValueError:  # no version yet (or evicted): a new epoch is a new version
        cache.set(key, int(time.time() * 1000), timeout=timeout)


def bump_version(key: str, timeout: int | None = None) -> None:
    """Move the version at once, and again after the transaction commits: a reader rebuilding between
    the two would otherwise cache the uncommitted past."""
    _bump_now(key, timeout)
    transaction.on_commit(lambda: _bump_now(key, timeout))

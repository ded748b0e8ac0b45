"""Counting events per key in fixed time windows, in the database (core.models.AttemptCounter)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import connection
from django.utils import timezone

from core.models import AttemptCounter


def window_start(seconds: int, *, now: datetime | None = None) -> datetime:
    now = now or timezone.now()
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)


def bump(key: str, *, seconds: int, now: datetime | None = None) -> int:
    """Add one to `key`'s current window; returns the window's new count (one statement, race-free)."""
    start = window_start(seconds, now=now)
    table = connection.ops.quote_name(AttemptCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (key, window_start, count) VALUES (%s, %s, 1) "  # noqa: S608 - table name only
            f"ON CONFLICT (key, window_start) DO UPDATE SET count = {table}.count + 1 RETURNING count",
            [key[:128], start],
        )
        return int(cursor.fetchone()[0])


def recent(keys: list[str], *, seconds: int, now: datetime | None = None) -> dict[str, int]:
    """Each key's count over the current and the previous window (so a limit spans at least `seconds`)."""
    start = window_start(seconds, now=now) - timedelta(seconds=seconds)
    counts = dict.fromkeys(keys, 0)
    for key, count in AttemptCounter.objects.filter(key__in=keys, window_start__gte=start).values_list(
        "key", "count"
    ):
        counts[key] += count
    return counts


def clear(key: str) -> None:
    AttemptCounter.objects.filter(key=key).delete()

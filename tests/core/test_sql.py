"""core.sql.insert_unless_conflict: one statement, the row or None, on PostgreSQL and SQLite alike."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import AttemptCounter
from core.sql import insert_unless_conflict

pytestmark = pytest.mark.django_db

WINDOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def test_a_new_row_is_inserted_in_one_statement_and_comes_back_saved():
    row = AttemptCounter(key="login:ip:10.0.0.1", window_start=WINDOW, count=3)
    with CaptureQueriesContext(connection) as queries:
        saved = insert_unless_conflict(row, conflict_on=("key", "window_start"))
    assert len(queries) == 1
    assert saved is row and row.pk is not None and not row._state.adding
    assert AttemptCounter.objects.get(pk=row.pk).count == 3
    row.count = 4
    row.save()  # behaves as a saved instance: an UPDATE, not a second INSERT
    assert AttemptCounter.objects.count() == 1


def test_a_taken_key_writes_nothing_and_returns_none():
    AttemptCounter.objects.create(key="login:ip:10.0.0.1", window_start=WINDOW, count=1)
    again = AttemptCounter(key="login:ip:10.0.0.1", window_start=WINDOW, count=99)
    assert insert_unless_conflict(again, conflict_on=("key", "window_start")) is None
    assert again.pk is None and again._state.adding
    assert list(AttemptCounter.objects.values_list("count", flat=True)) == [1]

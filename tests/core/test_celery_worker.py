"""A real Celery worker on real Redis runs a task enqueued with on_commit; rollback enqueues nothing."""

import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.cache import cache
from django.db import transaction

from config.celery import app
from core.tasks import record_heartbeat


@pytest.fixture
def real_worker(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    app.conf.broker_url = settings.REDIS_URL
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield
    finally:
        app.conf.task_always_eager = True


def _wait_for(key: str, seconds: float = 15.0) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cache.get(key) == "done":
            return True
        time.sleep(0.1)
    return False


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_task_enqueued_on_commit_runs_on_a_real_worker(real_worker):
    token = uuid.uuid4().hex
    with transaction.atomic():
        transaction.on_commit(lambda: record_heartbeat.delay(token))
        assert cache.get(f"heartbeat:{token}") is None
    assert _wait_for(f"heartbeat:{token}")


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_rollback_enqueues_nothing(real_worker):
    token = uuid.uuid4().hex
    with pytest.raises(RuntimeError), transaction.atomic():
        transaction.on_commit(lambda: record_heartbeat.delay(token))
        raise RuntimeError("roll back")
    assert not _wait_for(f"heartbeat:{token}", seconds=2)

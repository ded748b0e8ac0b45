"""Real Celery workers run tasks enqueued with on_commit (on Redis and on the embedded filesystem broker); rollback enqueues nothing."""

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
        app.set_current()
        app.set_default()


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


@pytest.fixture
def filesystem_app(tmp_path):
    """`make demo`'s broker: kombu's filesystem transport, web and worker sharing one folder.

    A separate Celery app with the project's configuration and base.py's embedded broker options, on the
    test's own folders (the demo's var/celery is left alone) and without touching the shared app's pools.
    """
    from celery import Celery

    options = _embedded_broker_options()
    # Each of base.py's folders moves under tmp_path, keeping which ones are the same folder.
    moved = {}
    for key in ("data_folder_in", "data_folder_out", "control_folder"):
        if options[key] not in moved:
            moved[options[key]] = tmp_path / f"folder{len(moved)}"
            moved[options[key]].mkdir()
        options[key] = str(moved[options[key]])
    fs_app = Celery("zhiquan-embedded", set_as_current=False)
    fs_app.config_from_object("django.conf:settings", namespace="CELERY")
    fs_app.conf.update(broker_url="filesystem://", broker_transport_options=options, task_always_eager=False)
    fs_app.autodiscover_tasks(force=True)
    try:
        with start_worker(fs_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield fs_app
    finally:
        # start_worker makes its app the current and default one; left so, every later test's
        # `.delay()` would go to this dead folder broker instead of running eagerly.
        app.set_current()
        app.set_default()


def _embedded_broker_options() -> dict:
    """base.py's broker options as they are without REDIS_URL (the embedded default)."""
    import importlib
    import os

    import config.settings.base as base

    url = os.environ.pop("REDIS_URL", None)
    try:
        embedded = importlib.reload(base)
        assert embedded.CELERY_BROKER_URL == "filesystem://"
        return dict(embedded.CELERY_BROKER_TRANSPORT_OPTIONS)
    finally:
        if url is not None:
            os.environ["REDIS_URL"] = url
        importlib.reload(base)


@pytest.mark.django_db(transaction=True)
def test_the_embedded_filesystem_broker_runs_a_task_enqueued_on_commit(filesystem_app):
    token = uuid.uuid4().hex
    with transaction.atomic():
        transaction.on_commit(lambda: filesystem_app.send_task("core.tasks.record_heartbeat", args=[token]))
    assert _wait_for(f"heartbeat:{token}")


def test_after_the_real_workers_tasks_run_eagerly_again_on_the_project_app():
    """The fixtures above hand the current app back: tests that follow rely on eager tasks."""
    from celery import current_app

    assert current_app.main == app.main and current_app.conf.task_always_eager
    assert record_heartbeat.app is app

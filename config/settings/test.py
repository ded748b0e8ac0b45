"""Test settings: real PostgreSQL and Redis when reachable (see tests/conftest.py)."""

import os
from pathlib import Path

from config.redis_db import with_db_offset

from .base import *  # noqa: F403
from .base import (
    CACHES,
    CELERY_BROKER_TRANSPORT_OPTIONS,
    PAYMENTS_SANDBOX_KEY_DIR,
    REDIS_URL,
    REST_FRAMEWORK,
    VAR_DIR,
    env,
)

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdefghijklmnop"
JWT_SIGNING_KEY = "test-jwt-signing-key-0123456789abcdefghijklmnopqrstuvwxyz"
SIMPLE_JWT = {**SIMPLE_JWT, "SIGNING_KEY": JWT_SIGNING_KEY}  # noqa: F405
FIELD_ENCRYPTION_KEY = "test-field-encryption-key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
PAYMENTS_SANDBOX_ENABLED = True
WECHAT_SANDBOX_LOGIN = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests that check throttling set their own low rates; the rest must never be throttled.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {k: "100000/min" for k in REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]},
}
MEDIA_ROOT = VAR_DIR / "test-media"
MEDIA_PRIVATE_ROOT = VAR_DIR / "test-media-private"
DEMO_MEDIA_VIDEO = env.bool("DEMO_MEDIA_VIDEO", default=False)
MEDIA_PLAYBACK_SIGNING_KEY = "test-media-playback-signing-key"

# --- Parallel runs (pytest -n, pytest-xdist) ----------------------------------------------------------
# Each worker gets its own test database (pytest-django suffixes it: test_<name>_gw0, …) and, here, its
# own Redis database, file folders and cache: tests clear the cache around every test (tests/conftest.py)
# and a real Celery worker consumes the broker's queue, so two workers must never share them.
# gwN uses Redis database <the URL's database> + N (modulo Redis's default 16).
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if XDIST_WORKER:
    _index = int(XDIST_WORKER.removeprefix("gw") or 0)
    if REDIS_URL:
        REDIS_URL = with_db_offset(REDIS_URL, _index)
        CACHES = {"default": {**CACHES["default"], "LOCATION": REDIS_URL}}
        CELERY_BROKER_URL = REDIS_URL
    else:
        CACHES = {"default": {**CACHES["default"], "LOCATION": str(VAR_DIR / f"cache-{XDIST_WORKER}")}}
        # The embedded filesystem broker's folders too: a task one worker published must not be
        # consumed (or counted) by another's.
        CELERY_BROKER_TRANSPORT_OPTIONS = {
            **CELERY_BROKER_TRANSPORT_OPTIONS,
            **{
                key: str(VAR_DIR / f"celery-{XDIST_WORKER}" / Path(CELERY_BROKER_TRANSPORT_OPTIONS[key]).name)
                for key in ("data_folder_in", "data_folder_out", "control_folder")
            },
        }
        for _key in ("data_folder_in", "data_folder_out", "control_folder"):
            Path(CELERY_BROKER_TRANSPORT_OPTIONS[_key]).mkdir(parents=True, exist_ok=True)
    MEDIA_ROOT = VAR_DIR / f"test-media-{XDIST_WORKER}"
    MEDIA_PRIVATE_ROOT = VAR_DIR / f"test-media-private-{XDIST_WORKER}"
    PAYMENTS_SANDBOX_KEY_DIR = PAYMENTS_SANDBOX_KEY_DIR.with_name(
        f"{PAYMENTS_SANDBOX_KEY_DIR.name}-{XDIST_WORKER}"
    )

# --- Test databases copied from a migrated template (scripts/test_db_template.py, full `make test`) -----
if os.environ.get("ZQ_TEST_DB_TEMPLATE") and DATABASES["default"]["ENGINE"].endswith("postgresql"):  # noqa: F405
    DATABASES["default"].setdefault("TEST", {})["TEMPLATE"] = os.environ["ZQ_TEST_DB_TEMPLATE"]  # noqa: F405

# --- PostgreSQL without the WAL flush wait --------------------------------------------------------------
# A test database never has to survive a crash, so COMMIT need not wait for the WAL to reach the disk
# (synchronous_commit=off; durability only, never visibility or locking, changes). The tests that commit
# for real (transactional_db, live_server, the concurrency and chaos drills) spent half their time
# waiting on that flush: tests/payments and tests/courses test_concurrency.py took 22 s, now 11 s.
# Not under `make bench` (which uses these settings too): benchmarks time production's durable commits.
if DATABASES["default"]["ENGINE"].endswith("postgresql") and not os.environ.get("BENCH_DATABASE_URL"):  # noqa: F405
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c synchronous_commit=off"  # noqa: F405

"""Test settings: real PostgreSQL and Redis when reachable (see tests/conftest.py)."""

from .base import *  # noqa: F403
from .base import REST_FRAMEWORK, env

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
MEDIA_ROOT = VAR_DIR / "test-media"  # noqa: F405

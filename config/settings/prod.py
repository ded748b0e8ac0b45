"""Production: refuses to start without its secrets; passes `check --deploy` with zero warnings."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env

DEBUG = False


def _required(name: str) -> str:
    value = env(name, default="")
    if not value:
        raise ImproperlyConfigured(f"Production needs the environment variable {name}.")
    return value


SECRET_KEY = _required("SECRET_KEY")
JWT_SIGNING_KEY = _required("JWT_SIGNING_KEY")
SIMPLE_JWT = {**SIMPLE_JWT, "SIGNING_KEY": JWT_SIGNING_KEY}  # noqa: F405
FIELD_ENCRYPTION_KEY = _required("FIELD_ENCRYPTION_KEY")
# Derived from production's own secret unless set (base.py derived it from the development default).
MEDIA_PLAYBACK_SIGNING_KEY = env("MEDIA_PLAYBACK_SIGNING_KEY", default=SECRET_KEY + "-media-playback")
# Empty would start a server that answers every request with 400.
ALLOWED_HOSTS = [host.strip() for host in _required("ALLOWED_HOSTS").split(",") if host.strip()]
_required("DATABASE_URL")
_required("REDIS_URL")
if not env("SITE_URL", default="").startswith("https://"):
    raise ImproperlyConfigured("Production needs SITE_URL starting with https://.")
for _name in (
    "WECHATPAY_MCHID",
    "WECHATPAY_APIV3_KEY",
    "WECHATPAY_PRIVATE_KEY_PATH",
    "WECHATPAY_CERT_SERIAL_NO",
    "WECHATPAY_PUBLIC_KEY_PATH",
    "WECHATPAY_PUBLIC_KEY_ID",
    "WECHAT_MINIPROGRAM_APPID",
    "WECHAT_MINIPROGRAM_SECRET",
):
    _required(_name)

HEALTHZ_DETAILS = env.bool("HEALTHZ_DETAILS", default=False)

# The sandbox cashier signs payments itself: never in production.
PAYMENTS_SANDBOX_ENABLED = False
# Sandbox mini-program login makes anyone any user: never in production, whatever the environment says.
WECHAT_SANDBOX_LOGIN = False

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Load balancers and the compose healthcheck probe /healthz over plain HTTP inside the network;
# a redirect to https would read as "down".
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")

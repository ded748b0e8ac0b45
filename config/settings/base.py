"""Settings shared by every environment.

Everything an operator may change comes from the environment (django-environ). Absent external
services fall back to embedded ones: no DATABASE_URL -> SQLite, no REDIS_URL -> a filesystem Celery
broker and an in-process cache. That is what makes `make demo` work on a bare machine.
"""

from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parents[2]

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")
# Everything the embedded defaults write (SQLite, file cache, broker folders, media, collected static,
# sandbox keys). `make lighthouse` points it at a throwaway folder so it never touches the demo's.
VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="dev-insecure-secret-key-change-me-0123456789abcdef")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])
# Which X-Forwarded-For hops to believe (core/ip.py): the number of our own proxies in front of
# gunicorn, or their networks. Neither: the connecting peer is the client and the header is ignored.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
TRUSTED_PROXY_CIDRS = env.list("TRUSTED_PROXY_CIDRS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_celery_beat",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.weixin",
    "allauth.usersessions",  # "log out everywhere" (core/sessions.py)
    # Our apps, lowest layer first (dependencies point down only: see docs/architecture.md §3).
    "core",
    "payments",
    "members",
    "courses",
    "circles",
    "referrals",
    "growth",
    "insights",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Pages and API answers gzipped for phones on slow networks (static files come pre-compressed from
    # whitenoise and are left alone). Django's gzip pads each response against BREACH, and CSRF tokens
    # are masked per response.
    "django.middleware.gzip.GZipMiddleware",
    "core.middleware.SecurityHeadersMiddleware",
    "core.middleware.DatabaseOutageMiddleware",  # PostgreSQL unreachable → 503, not a traceback
    "core.middleware.BrandVersionMiddleware",  # X-Brand-Version on /api/v1/ answers (mini-program)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.middleware.ChineseFirstLocaleMiddleware",  # zh-hans unless the visitor picked English
    "django.middleware.common.CommonMiddleware",
    "core.middleware.RequestGuardMiddleware",  # bad query parameters → 400; form text cleaned
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "referrals.capture.ReferralCaptureMiddleware",  # ?ref=<code> on any page → session + visit count
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "core.middleware.RateLimitedMiddleware",  # allauth's uncaught RateLimited → 429, not 500
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "core.context_processors.site",
            ],
            "builtins": ["core.templatetags.money"],
        },
    }
]

# --- Database -------------------------------------------------------------------------------
# An empty DATABASE_URL counts as unset (a blank line in .env), not as a URL without an engine.
DATABASES = {
    "default": env.db_url_config(env("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    # SQLite is the embedded default: wait for the write lock instead of failing while the
    # worker and the web server write at the same time.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    # Writers take SQLite's lock when their transaction begins, so a second one waits (up to the
    # timeout) instead of failing at once with "database is locked" when its read turns into a
    # write (two taps on redeem or refund in `make demo` answered 500).
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "members.User"
# Password guessing (core/lockout.py): failures per typed account and per client address within a
# window, counted in PostgreSQL so the limit holds while Redis is down.
LOGIN_LOCKOUT_ACCOUNT = 5
LOGIN_LOCKOUT_IP = 30
LOGIN_LOCKOUT_SECONDS = 15 * 60
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "core.lockout.LockoutBackend",  # refuses while an account or address is locked out
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# --- Redis, cache, Celery --------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    # Django's RedisCache, keeping one client per pool (core/cache.py: not ~0.25 ms of setup per call).
    # Short socket timeouts: a Redis that is down or hung must cost a request milliseconds, not the
    # request (the backend then fails open, core/cache.py).
    CACHES = {
        "default": {
            "BACKEND": "core.cache.ZhiquanRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

CELERY_BROKER_URL = REDIS_URL or "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = (
    {"visibility_timeout": 3600}
    if REDIS_URL
    else {
        # Producer and consumer share one folder, so web, worker and beat see the same queue.
        "data_folder_in": str(VAR_DIR / "celery" / "queue"),
        "data_folder_out": str(VAR_DIR / "celery" / "queue"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
        "polling_interval": 0.5,
    }
)
# A broker outage must cost a request about a second, not 4 s x retries (core/queueing.py).
CELERY_BROKER_CONNECTION_TIMEOUT = 1.0
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_ENABLE_UTC = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Past one machine (docs/scaling.md): CELERY_SPLIT_QUEUES=true sends money jobs, member notifications
# and reports to their own queues, each served by its own workers (`celery -A config worker -Q money`,
# `-Q notify`, `-Q reports`, and one plain worker for the rest), so a burst of reminders or a slow
# report never waits in front of settlement or a refund. Off: one queue, one worker (docker-compose).
CELERY_SPLIT_QUEUES = env.bool("CELERY_SPLIT_QUEUES", default=False)
# Tasks that move money or decide whether it moves (refunds, payouts, settlement, month close,
# reconciliation): the one list behind the `money` queue and behind beat's admin
# (`core.money_tasks`: only superusers add, change, delete, toggle or run a periodic task naming one).
MONEY_TASKS = (
    "payments.tasks.orders_sweep",  # closes expired orders, retries refunds, refunds late payments
    "payments.tasks.settle_earnings",
    "payments.tasks.ledger_check",
    "payments.tasks.withdrawals_sweep",
    "payments.tasks.withdrawal_submit",  # approved withdrawals only
    "payments.tasks.reconcile_bills",
    "payments.tasks.refund_submit",  # refunds already requested only
    "payments.tasks.refund_auto_start",  # payments marked needs_auto_refund only
    "referrals.tasks.expire_group_buys",  # refunds failed groups
    "referrals.tasks.group_buy_refund_seat",  # seats marked needs_refund only
    "referrals.tasks.close_staff_share_month",
    "referrals.tasks.release_commission_points",
    "courses.tasks.refund_order",  # orders marked as owed an automatic refund only
    "circles.tasks.circles_sweep",  # refunds unanswered paid questions
)
if CELERY_SPLIT_QUEUES:
    CELERY_TASK_ROUTES = {
        **{name: {"queue": "money"} for name in MONEY_TASKS},
        "payments.tasks.*": {"queue": "money"},  # a payments task not listed yet still runs there
        "members.tasks.notification_push": {"queue": "notify"},
        "members.tasks.notifications_push_sweep": {"queue": "notify"},
        "members.tasks.membership_sweep": {"queue": "notify"},
        "courses.tasks.checkin_reminders": {"queue": "notify"},
        "courses.tasks.send_checkin_reminders": {"queue": "notify"},
        "growth.tasks.campaigns_sweep": {"queue": "notify"},
        "growth.tasks.campaign_send_slice": {"queue": "notify"},
        "insights.tasks.*": {"queue": "reports"},
    }

# --- I18N -----------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and media -------------------------------------------------------------------------
STATIC_URL = "/static/"
# Where collectstatic gathers the files whitenoise serves (the Docker image builds them into var/).
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Originals of protected media (courses.media): private, never under MEDIA_ROOT (which is published).
MEDIA_PRIVATE_ROOT = Path(env("MEDIA_PRIVATE_ROOT", default=str(VAR_DIR / "media-private")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "media_sources": {"BACKEND": "courses.media.storage.PrivateFileSystemStorage"},
    # The encrypted HLS renditions: segments are served from here (a CDN in front of object storage in
    # production: MEDIA_HLS_STORAGE_BACKEND="storages.backends.s3.S3Storage" and its OPTIONS as JSON);
    # the playlists and keys only through the signed views. Default: MEDIA_ROOT/hls/ at MEDIA_URL.
    "media_hls": {
        "BACKEND": env("MEDIA_HLS_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"),
        "OPTIONS": env.json("MEDIA_HLS_STORAGE_OPTIONS", default={}),
    },
}
# Protected media (courses.media, docs/architecture.md §8). Playback URLs are signed with this key for
# one member and are valid for this many minutes (the player fetches the playlists and the key at the start).
MEDIA_PLAYBACK_SIGNING_KEY = env("MEDIA_PLAYBACK_SIGNING_KEY", default=SECRET_KEY + "-media-playback")
MEDIA_PLAYBACK_URL_MINUTES = env.int("MEDIA_PLAYBACK_URL_MINUTES", default=15)
# Origins of the CDN or object storage serving the segments (added to the CSP's connect-src for hls.js).
MEDIA_HLS_ORIGINS = env.list("MEDIA_HLS_ORIGINS", default=[])
MEDIA_FFMPEG = env("MEDIA_FFMPEG", default="ffmpeg")
MEDIA_FFPROBE = env("MEDIA_FFPROBE", default="ffprobe")
# A failed transcoding is retried this many times (backoff 1, 4, 16 … minutes), then reported failed.
MEDIA_TRANSCODE_MAX_RETRIES = env.int("MEDIA_TRANSCODE_MAX_RETRIES", default=2)
MEDIA_UPLOAD_MAX_BYTES = env.int("MEDIA_UPLOAD_MAX_BYTES", default=2 * 1024 * 1024 * 1024)
# `seed_demo` makes a 10-second video with ffmpeg and transcodes it (off in tests, which make their own).
DEMO_MEDIA_VIDEO = env.bool("DEMO_MEDIA_VIDEO", default=True)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
UPLOAD_IMAGE_MAX_BYTES = env.int("UPLOAD_IMAGE_MAX_BYTES", default=5 * 1024 * 1024)
# Width × height, read from the header before decoding: a tiny PNG may declare 13000×13000 (core/images.py).
UPLOAD_IMAGE_MAX_PIXELS = env.int("UPLOAD_IMAGE_MAX_PIXELS", default=40_000_000)

# --- Security (tightened further in prod.py) -----------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the cookie-free meta tag; keep default
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Personal data (phone numbers, payout real names) is encrypted with this key; see core/crypto.py.
FIELD_ENCRYPTION_KEY = env("FIELD_ENCRYPTION_KEY", default="")

# --- DRF, JWT, OpenAPI --------------------------------------------------------------------------
REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "PAGE_SIZE": 20,
    "DEFAULT_THROTTLE_CLASSES": [
        "core.throttling.AnonRateThrottle",
        "core.throttling.UserRateThrottle",
        "core.throttling.ScopedRateThrottle",
        "core.throttling.QueryGuard",  # 400 for a bad query parameter, after auth (core/middleware.py)
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("THROTTLE_ANON", default="300/min"),
        "user": env("THROTTLE_USER", default="1200/min"),
        "login": env("THROTTLE_LOGIN", default="20/min"),
        "sms": env("THROTTLE_SMS", default="5/min"),
        "refund": env("THROTTLE_REFUND", default="10/min"),
        "withdrawal": env("THROTTLE_WITHDRAWAL", default="10/min"),
        "redeem_code": env("THROTTLE_REDEEM_CODE", default="10/min"),  # guessing codes is hopeless and slow
        "coupon_code": env("THROTTLE_COUPON_CODE", default="20/min"),  # claiming coupons and entering codes
        "notify": env("THROTTLE_NOTIFY", default="100000/min"),
    },
    "EXCEPTION_HANDLER": "core.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON with a size and depth limit, text cleaned (core/parsers.py).
    "DEFAULT_PARSER_CLASSES": ["core.parsers.LimitedJSONParser", "core.parsers.CleanMultiPartParser"],
    "DATETIME_FORMAT": "iso-8601",
}
API_JSON_MAX_BYTES = 1024 * 1024
API_JSON_MAX_DEPTH = 32
JWT_SIGNING_KEY = env("JWT_SIGNING_KEY", default=SECRET_KEY + "-jwt")
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(hours=2),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=30),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "知圈 Zhiquan API",
    "DESCRIPTION": "Mini-program API (v1). Amounts are integer fen in fields ending _fen.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # One stable name per choice set the API exposes (drf-spectacular's collision warnings otherwise
    # fail `check --deploy`, and generated names like Status024Enum drift as the API grows).
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "payments.schema_enums.ORDER_STATUS",
        "PayoutMethodEnum": "payments.schema_enums.PAYOUT_METHOD",
        "CouponKindEnum": "growth.schema_enums.COUPON_KIND",
        "MemberCouponStateEnum": "growth.schema_enums.MEMBER_COUPON_STATE",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.document_common_errors",
    ],
}

# --- django-allauth (web login: phone / email + weixin) --------------------------------------------
SITE_ID = 1
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGOUT_REDIRECT_URL = "/"
ACCOUNT_ADAPTER = "members.adapters.AccountAdapter"
ACCOUNT_FORMS = {"login": "members.adapters.LoginForm"}
ACCOUNT_USER_DISPLAY = "members.adapters.user_display"  # never the generated web_… username
SOCIALACCOUNT_ADAPTER = "members.adapters.SocialAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"phone", "email"}
ACCOUNT_SIGNUP_FIELDS = ["phone*", "email", "password1", "password2"]
ACCOUNT_PHONE_VERIFICATION_ENABLED = True
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}
# The WeChat button appears only when a website app is configured: an empty client_id would offer a
# login that WeChat refuses.
# Web sessions are recorded at login so "log out everywhere" can end them; not on every request.
USERSESSIONS_TRACK_ACTIVITY = False
SOCIALACCOUNT_PROVIDERS: dict[str, dict[str, Any]] = {"weixin": {"SCOPE": ["snsapi_login"]}}
if env("WECHAT_WEB_APPID", default=""):
    SOCIALACCOUNT_PROVIDERS["weixin"]["APP"] = {
        "client_id": env("WECHAT_WEB_APPID"),
        "secret": env("WECHAT_WEB_SECRET", default=""),
    }
# Which SMS sender delivers verification codes (dotted path to a class with send(phone, code)).
SMS_SENDER = env("SMS_SENDER", default="members.sms.ConsoleSmsSender")
# Marketing SMS of campaigns go through their own sender (a provider's marketing signature and templates).
MARKETING_SMS_SENDER = env("MARKETING_SMS_SENDER", default="growth.campaigns.sms.ConsoleMarketingSmsSender")
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
# The SMTP server production's operations reports go through (prod's default backend is SMTP).
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)  # STARTTLS, usually port 587
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)  # implicit TLS, usually port 465
# A report task must not hang on a silent mail server (Django's default is to wait forever).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
# A bare address is sent under the brand's site name (core.brand.from_address); "Name <addr>" as given.
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="noreply@zhiquan.local")
OPERATIONS_REPORT_RECIPIENTS = env.list("OPERATIONS_REPORT_RECIPIENTS", default=[])

# --- WeChat -------------------------------------------------------------------------------------
WECHAT_API_BASE_URL = env("WECHAT_API_BASE_URL", default="https://api.weixin.qq.com").rstrip("/")
WECHAT_TIMEOUT_SECONDS = env.float("WECHAT_TIMEOUT_SECONDS", default=5.0)
WECHAT_MINIPROGRAM_APPID = env("WECHAT_MINIPROGRAM_APPID", default="wx_demo_miniprogram")
WECHAT_MINIPROGRAM_SECRET = env("WECHAT_MINIPROGRAM_SECRET", default="demo-secret")
WECHAT_MP_APPID = env("WECHAT_MP_APPID", default="")  # 公众号, for JSAPI inside WeChat's browser
WECHAT_MP_SECRET = env("WECHAT_MP_SECRET", default="")
# Mini-program page that achievement posters' 小程序码 open (getwxacodeunlimit, scene "r=<referral code>").
# Empty: posters carry a QR code of the web referral link instead.
WECHAT_MINIPROGRAM_POSTER_PAGE = env("WECHAT_MINIPROGRAM_POSTER_PAGE", default="")
WECHATPAY_MCHID = env("WECHATPAY_MCHID", default="")
WECHATPAY_APIV3_KEY = env("WECHATPAY_APIV3_KEY", default="")
WECHATPAY_PRIVATE_KEY_PATH = env("WECHATPAY_PRIVATE_KEY_PATH", default="")
WECHATPAY_CERT_SERIAL_NO = env("WECHATPAY_CERT_SERIAL_NO", default="")
WECHATPAY_PUBLIC_KEY_PATH = env("WECHATPAY_PUBLIC_KEY_PATH", default="")
WECHATPAY_PUBLIC_KEY_ID = env("WECHATPAY_PUBLIC_KEY_ID", default="")
WECHATPAY_GATEWAY_URL = env("WECHATPAY_GATEWAY_URL", default="https://api.mch.weixin.qq.com").rstrip("/")
WECHATPAY_NOTIFY_URL = env("WECHATPAY_NOTIFY_URL", default=f"{SITE_URL}/payments/wechatpay/notify/")
# Rejected (unverified) notifications: counted per minute, a few kept as bounded samples, an ALERT
# log line when they spike (core/rejects.py).
REJECTED_SAMPLES_PER_MINUTE = 5
REJECTED_SAMPLE_BYTES = 2048
REJECTED_ALERT_PER_MINUTE = 50
# Sandbox channel: a cashier page plays WeChat's part (development and demo only; prod refuses it).
PAYMENTS_SANDBOX_ENABLED = env.bool("PAYMENTS_SANDBOX_ENABLED", default=False)
# Mini-program login without WeChat (`sandbox:<name>` codes, members.auth.services.miniprogram_login):
# development and `make demo` only; prod.py forces it off.
WECHAT_SANDBOX_LOGIN = env.bool("WECHAT_SANDBOX_LOGIN", default=False)
PAYMENTS_SANDBOX_KEY_DIR = VAR_DIR / "sandbox_keys"

# The 新人礼包: points every new member gets at sign-up (members.points.services.points_for_signup), shown
# with its reason on the points page. 0 (the default) turns it off; dev.py (`make demo`) gives 1,000.
POINTS_SIGNUP_BONUS = env.int("POINTS_SIGNUP_BONUS", default=0)

# /healthz lists its components (database engine, broker, workers) only where this is on; production
# answers just {"status"} so it tells nobody what runs behind it.
HEALTHZ_DETAILS = env.bool("HEALTHZ_DETAILS", default=True)

# Benchmarks only: mounts the constant-JSON floor endpoint (/api/v1/_bench/floor/). See bench/.
BENCHMARK_ENDPOINTS = env.bool("BENCHMARK_ENDPOINTS", default=False)

# --- Logging: personal data is masked in every record (core/logging.py) ---------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_pii": {"()": "core.logging.MaskPersonalDataFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["mask_pii"], "formatter": "plain"}
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

"""Test harness shared by every test.

- No network: every WeChat base URL points at a closed local port unless a test asks for the
  `fake_wechat` fixture (a local server speaking the real protocols, tests/fakes/wechat.py).
- WeChat Pay keys for the session are generated once and written to PEM files.
- `postgres` / `redis` markers: such tests need the real service. Outside CI they are skipped with
  the reason printed when the service is absent; with CI=true a missing service is a failure.
"""

from __future__ import annotations

import os

import pytest
from celery.result import _set_task_join_will_block
from django.conf import settings
from django.core.cache import cache
from django.utils import translation

from tests.fakes.wechat import FakeWeChat, WeChatPayKeys

pytest_plugins = ["tests.browser"]

CLOSED_PORT_URL = "http://127.0.0.1:9"  # nothing listens on the discard port: connections are refused
IN_CI = os.environ.get("CI", "").lower() == "true"


def _redis_available() -> bool:
    if not settings.REDIS_URL:
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def pytest_report_header(config):
    db = settings.DATABASES["default"]
    engine = db["ENGINE"].rsplit(".", 1)[-1]
    where = (
        f"{db.get('HOST') or ''}:{db.get('PORT') or ''}/{db.get('NAME')}"
        if engine == "postgresql"
        else db["NAME"]
    )
    broker = "redis " + settings.REDIS_URL if settings.REDIS_URL else "filesystem (embedded)"
    lines = [f"zhiquan: database = {engine} {where}", f"zhiquan: broker/cache = {broker}"]
    if getattr(config.option, "numprocesses", None):
        # pytest-xdist: config/settings/test.py gives each worker its own databases and folders.
        lines.append("zhiquan: parallel workers: gwN uses database <name>_gwN and Redis database <n>+N")
    return lines


def pytest_addoption(parser):
    parser.addoption(
        "--leave-out-slow",
        action="store_true",
        help="leave out the browser journeys and the tests marked slow (make test-fast). Unlike "
        "-m 'not browser and not slow', it keeps pytest-testmon's selection of affected tests on.",
    )


def pytest_collection_modifyitems(config, items):
    if not config.getoption("--leave-out-slow"):
        return
    kept, left_out = [], []
    for item in items:
        slow = item.get_closest_marker("slow") or item.get_closest_marker("browser")
        (left_out if slow else kept).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


def pytest_runtest_setup(item):
    if (
        item.get_closest_marker("postgres")
        and settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql"
    ):
        message = "needs PostgreSQL (DATABASE_URL is not PostgreSQL)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    if item.get_closest_marker("redis") and not _redis_available():
        message = "needs Redis (REDIS_URL unset or unreachable)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def wechatpay_keys(tmp_path_factory) -> WeChatPayKeys:
    return WeChatPayKeys.generate(tmp_path_factory.mktemp("wechatpay-keys"))


@pytest.fixture(autouse=True)
def _wechat_offline(settings, wechatpay_keys):
    """Point every WeChat URL at a closed port and configure merchant keys for the session."""
    settings.WECHAT_API_BASE_URL = CLOSED_PORT_URL
    settings.WECHATPAY_GATEWAY_URL = CLOSED_PORT_URL
    settings.WECHAT_TIMEOUT_SECONDS = 2.0
    settings.WECHAT_MINIPROGRAM_APPID = "wx_test_miniprogram"
    settings.WECHAT_MINIPROGRAM_SECRET = "test-secret"
    settings.WECHATPAY_NOTIFY_URL = "http://testserver/payments/wechatpay/notify/"
    for name, value in wechatpay_keys.settings_overrides().items():
        setattr(settings, name, value)


@pytest.fixture
def throttle_rates(monkeypatch):
    """`throttle_rates(login="3/min")`: tighter DRF throttle rates for one test, restored afterwards.

    DRF binds the rates to the throttle classes at import (`THROTTLE_RATES`), so overriding the
    REST_FRAMEWORK setting alone changes nothing, and re-binding a class attribute by hand leaks into
    every later test. monkeypatch puts back exactly what each class had."""
    from rest_framework import throttling

    def set_rates(**rates):
        merged = {**throttling.SimpleRateThrottle.THROTTLE_RATES, **rates}
        classes = [throttling.SimpleRateThrottle, *_subclasses(throttling.SimpleRateThrottle)]
        for cls in classes:
            if "THROTTLE_RATES" in vars(cls) or cls is throttling.SimpleRateThrottle:
                monkeypatch.setattr(cls, "THROTTLE_RATES", merged)
        cache.clear()

    return set_rates


def _subclasses(cls) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the site's default language (zh-hans): LocaleMiddleware activates a
    request's language in the thread and nothing deactivates it after the response, so a test whose
    client asked for English would leave English active for the next test on that worker."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _clean_cache():
    """Tokens, throttles and locks live in the cache: every test starts from an empty one."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _celery_app_as_configured():
    """Every test starts with the Celery app as the settings configure it: an outage drill points it at
    a Redis of its own that it then kills, and a publish that later reached that dead broker would
    leave every following test's refunds 'left to the sweep'."""
    from config.celery import app

    wanted = {
        "broker_url": settings.CELERY_BROKER_URL,
        "task_always_eager": settings.CELERY_TASK_ALWAYS_EAGER,
    }
    if any(app.conf[key] != value for key, value in wanted.items()):
        for key, value in wanted.items():
            app.conf[key] = value
        app._pool = None
        app.amqp._producer_pool = None
    # A real worker started in this process (tests/core/test_celery_worker.py) can leave Celery's
    # process-wide "inside a worker" flag set, and then every later `.delay().get()` raises "Never call
    # result.get() within a task!": a test process is no worker. (Celery's own testing worker resets it
    # with the same function; which test followed a worker depends on how xdist shared out the files.)
    _set_task_join_will_block(False)
    yield


@pytest.fixture(autouse=True)
def _money_invariants(request):
    """Whatever a test did, at its end (before its data is rolled back or flushed):
    - the ledger check is clean: every transaction sums to zero and cached balances equal their
      entries (payments.wallet.ledger_check);
    - no member holds a benefit whose funding chain contains a refunded payment it did not replace
      (tests/funding.py, docs/architecture.md §4)."""
    if request.node.get_closest_marker("django_db"):
        request.getfixturevalue("_django_db_helper")  # torn down after this fixture
    elif "db" in request.fixturenames or "transactional_db" in request.fixturenames:
        request.getfixturevalue("transactional_db" if "transactional_db" in request.fixturenames else "db")
    else:
        yield
        return
    yield
    from payments.models import Order, Transaction
    from payments.wallet import ledger_check
    from tests.funding import funding_violations

    if Transaction.objects.exists():
        result = ledger_check.ledger_check()
        assert result.ok, f"the ledger is out of balance after this test: {result.problems[:3]}"
    if Order.objects.exists():
        problems = funding_violations()
        assert not problems, f"a benefit outlived its funding after this test: {problems[:3]}"


@pytest.fixture
def fake_wechat(httpserver, settings, wechatpay_keys) -> FakeWeChat:
    """A local WeChat (API + Pay v3) speaking the real protocols; all base URLs point at it."""
    fake = FakeWeChat(
        httpserver=httpserver,
        keys=wechatpay_keys,
        appid=settings.WECHAT_MINIPROGRAM_APPID,
        secret=settings.WECHAT_MINIPROGRAM_SECRET,
    )
    fake.install()
    settings.WECHAT_API_BASE_URL = fake.url
    settings.WECHATPAY_GATEWAY_URL = fake.url
    return fake


@pytest.fixture
def user_factory(db):
    from tests.factories import UserFactory

    return UserFactory

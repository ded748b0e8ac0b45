"""Faults survived: Redis stops and the site keeps selling on PostgreSQL alone. The test starts its own
Redis on a free port and stops only that one (tests/quality/outage_services.py); the shared services
are never touched. PostgreSQL stopping is in test_outage_postgres.py.

The figures in docs/quality.md ("Faults survived") come from the `timings` these tests print.
"""

from __future__ import annotations

import logging
import time

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.quality.outage_services import PrivateRedis

pytestmark = [pytest.mark.postgres, pytest.mark.slow]  # an outage drill: the full gate only


@pytest.fixture
def private_redis(settings, monkeypatch):
    """The cache and the Celery broker on a Redis of our own, which the test may kill."""
    from config.celery import app
    from core import cache as cache_module

    # shared tasks publish through the current app: make it ours even if an earlier test changed it
    app.set_current()
    app.set_default()
    redis = PrivateRedis()
    redis.start()
    monkeypatch.setattr(cache_module, "RETRY_AFTER_SECONDS", 0.0)
    monkeypatch.setattr(cache_module._Outage, "down_since", None)
    settings.REDIS_URL = redis.url
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.ZhiquanRedisCache",
            "LOCATION": redis.url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        }
    }
    settings.CELERY_TASK_ALWAYS_EAGER = False
    saved = {k: app.conf[k] for k in ("broker_url", "task_always_eager")}
    app.conf.broker_url = redis.url
    app.conf.task_always_eager = False
    app._pool = None
    app.amqp._producer_pool = None  # producers kept from an earlier publish hold the old broker
    try:
        yield redis
    finally:
        redis.stop()
        for key, value in saved.items():
            app.conf[key] = value
        app._pool = None
        app.amqp._producer_pool = None


def _timed(timings: dict, name: str, call):
    started = time.perf_counter()
    response = call()
    timings[name] = round((time.perf_counter() - started) * 1000, 1)
    return response


def test_redis_outage_keeps_reads_logins_orders_and_payments_working(
    world, db, private_redis, fake_wechat, caplog
):
    from members.models import User
    from payments.gateways import sandbox
    from payments.models import Order, Payment

    caplog.set_level(logging.WARNING)
    User.objects.create_user(username="outage_web", password="Zhiquan-2026-pw")
    healthy = Client().get("/healthz").json()
    assert healthy["status"] == "ok" and healthy["cache"] == "ok" and healthy["broker"] == "ok"

    # when Redis stops
    private_redis.stop()
    timings: dict[str, float] = {}

    # then reads answer
    tiers = _timed(timings, "tiers", lambda: APIClient().get("/api/v1/membership/tiers/"))
    assert tiers.status_code == 200 and tiers.json()
    assert Client().get("/").status_code == 200

    # the mini-program logs in
    code = fake_wechat.login_code(openid="oOUTAGEopenid0000000000000001")
    login = _timed(
        timings,
        "miniprogram_login",
        lambda: APIClient().post("/api/v1/auth/wechat/miniprogram/", {"code": code}),
    )
    assert login.status_code == 200, login.content
    me = APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {login.json()['access']}")
    assert me.status_code == 200

    # web login and sign-up (allauth's rate limits live in the cache)
    web = Client()
    response = _timed(
        timings,
        "web_login",
        lambda: web.post("/accounts/login/", {"login": "outage_web", "password": "Zhiquan-2026-pw"}),
    )
    assert response.status_code == 302 and web.session.get("_auth_user_id")
    signup = _timed(
        timings,
        "web_signup",
        lambda: Client().post(
            "/accounts/signup/",
            {"phone": "13800138077", "password1": "Zhiquan-2026-pw", "password2": "Zhiquan-2026-pw"},
        ),
    )
    assert signup.status_code == 302, signup.content.decode()[:500]

    # an order is created and its payment notification is handled
    buyer = APIClient()
    buyer.force_authenticate(world.other)
    created = _timed(
        timings,
        "order_create",
        lambda: buyer.post(
            "/api/v1/orders/",
            {"item_type": "membership", "item_id": "VIP", "channel": "sandbox"},
            format="json",
        ),
    )
    assert created.status_code == 201, created.content
    order_no = created.json()["order_no"]
    payment = Payment.objects.get(order__order_no=order_no)
    started = time.perf_counter()
    assert sandbox.sandbox_pay(payment.out_trade_no) in (200, 204)
    timings["payment_notification"] = round((time.perf_counter() - started) * 1000, 1)
    assert Order.objects.get(order_no=order_no).status == Order.Status.PAID

    # a task that cannot be queued is logged and left to its sweep, not raised
    from core.tasks import record_heartbeat

    assert record_heartbeat.delay("outage") is None
    assert any("left to its sweep" in r.getMessage() for r in caplog.records)
    assert any("failing open" in r.getMessage() for r in caplog.records)

    # /healthz says degraded (200: the site still sells)
    health = _timed(timings, "healthz", lambda: Client().get("/healthz"))
    assert health.status_code == 200 and health.json()["status"] == "degraded"
    print("redis outage timings (ms):", timings)
    assert max(timings.values()) < 5000, timings

    # when Redis returns, so does "ok"
    private_redis.start()
    assert Client().get("/healthz").json()["status"] == "ok"

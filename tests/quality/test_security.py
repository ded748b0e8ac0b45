"""Security gates: headers on every kind of response, CSRF on every state-changing page and session-
authenticated API call, throttles on login / SMS codes, and no personal data in logs.

Production settings passing `check --deploy` with zero warnings is in tests/core/test_settings.py;
upload size/content-type checks are in the apps that accept uploads (tests/courses, tests/circles,
tests/members); the refund and withdrawal throttles in tests/payments.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tests.processes import PROD_ENV
from tests.quality.routes import walk_routes

ROOT = Path(__file__).resolve().parents[2]

# Signed by WeChat Pay (the body's RSA signature is the authentication): WeChat cannot send our token.
CSRF_EXEMPT = {"payments:wechatpay_notify", "payments:transfer_notify"}
IGNORED_PREFIXES = ("admin/", "api/", "static/", "media/")


def _sample_kwargs(route: str) -> dict:
    kwargs = {}
    for part in route.split("<")[1:]:
        spec = part.split(">")[0]
        converter, _sep, name = spec.rpartition(":")
        kwargs[name] = 1 if converter == "int" else "x1"
    return kwargs


def _page_routes():
    from django.urls import NoReverseMatch, reverse

    for route, name in walk_routes():
        if not name or route.startswith(IGNORED_PREFIXES) or name in CSRF_EXEMPT:
            continue
        try:
            yield name, reverse(name, kwargs=_sample_kwargs(route) or None)
        except NoReverseMatch:
            continue


PAGES = ["/", "/courses/", "/courses/camps/", "/circles/", "/referrals/", "/accounts/login/", "/admin/login/"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", [*PAGES, "/api/v1/courses/", "/api/v1/me/", "/healthz", "/api/docs/"])
def test_every_kind_of_response_carries_the_security_headers(client, url):
    response = client.get(url)
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
@pytest.mark.parametrize("url", PAGES)
def test_pages_have_no_inline_scripts_or_styles(client, url):
    """The CSP forbids inline code; a page that had some would silently break in browsers."""
    html = client.get(url).content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", html), url
    assert "<style" not in html and " style=" not in html, url
    assert not re.search(r"\son[a-z]+=", html), url  # onclick=… handlers


def test_production_responses_carry_hsts():
    script = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "r = Client().get('/healthz', secure=True)\n"
        "import json; print(json.dumps(dict(r.headers)))\n"
    )
    env = {**PROD_ENV}
    clean = {k: v for k, v in __import__("os").environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    headers = json.loads(result.stdout.strip().splitlines()[-1])
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]


def test_every_state_changing_page_refuses_a_post_without_csrf_token(db):
    from tests.factories import UserFactory

    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory())
    checked = 0
    for name, url in _page_routes():
        response = client.post(url, {"anything": "1"})
        assert response.status_code == 403, (name, url, response.status_code)
        checked += 1
    assert checked > 50, checked


def _api_post_operations():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, operations in schema["paths"].items():
        for method in ("post", "put", "patch", "delete"):
            if method in operations:
                yield method, re.sub(r"\{[^}]+\}", "1", path)


def test_session_authenticated_api_writes_need_the_csrf_token(db):
    """The mini-program uses JWT (no cookies, no CSRF); a browser session must not be usable cross-site."""
    from tests.factories import UserFactory

    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory())
    checked = 0
    for method, path in _api_post_operations():
        response = getattr(client, method)(path, data="{}", content_type="application/json")
        if response.status_code == 403 and response.json().get("code") == "permission_denied":
            assert "CSRF" in response.json()["message"], (method, path, response.json())
            checked += 1
            continue
        # anonymous-allowed operations (e.g. mini-program login) do not use the session at all
        assert response.status_code in (400, 401, 404, 405, 409), (method, path, response.status_code)
    assert checked > 30, checked


@pytest.mark.django_db
def test_sms_login_codes_are_throttled_per_phone():
    """Each request sends an SMS (it costs money and can be abused to flood a phone): at most three a
    minute per number, whoever asks."""
    from members.sms import ConsoleSmsSender
    from tests.factories import UserFactory

    user = UserFactory()
    user.set_phone("13812345678", verified=True)
    user.save()
    ConsoleSmsSender.outbox.clear()
    responses = [Client().post("/accounts/login/code/", {"phone": "13812345678"}) for _ in range(5)]
    assert [r.status_code for r in responses[:3]] == [302, 302, 302]
    for refused in responses[3:]:  # the form answers with its error instead of sending another code
        assert refused.status_code in (200, 429)
        page = refused.content.decode()
        assert "次数过多" in page or "Too many" in page, page[:2000]
    assert len(ConsoleSmsSender.outbox) == 3


@pytest.mark.django_db
def test_login_and_phone_binding_leave_no_secrets_or_personal_data_in_the_logs(fake_wechat, client, caplog):
    """Every log line goes through the same masking filter as the production handlers; the flow that
    handles the most personal data (login, phone binding, WeChat calls with credentials in their URLs,
    at DEBUG level) must leave none of it behind."""
    from django.conf import settings

    from core.logging import MaskPersonalDataFilter
    from tests.fakes.wechat_members import MembersWeChat

    caplog.set_level(logging.DEBUG)
    caplog.handler.addFilter(MaskPersonalDataFilter())
    wechat = MembersWeChat(fake=fake_wechat).install()
    code = fake_wechat.login_code(
        openid="oSECRETopenid1234567890abcdef", unionid="oUNIONsecret1234567890abcdef"
    )
    response = client.post(
        "/api/v1/auth/wechat/miniprogram/", {"code": code}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {response.json()['access']}"}
    response = client.post(
        "/api/v1/me/phone/",
        {"code": wechat.phone_code("13998765432")},
        content_type="application/json",
        **bearer,
    )
    assert response.status_code == 200, response.content
    assert client.get("/api/v1/me/", **bearer).status_code == 200

    assert caplog.records, "the flow should log something to scan"
    for secret in (
        "oSECRETopenid1234567890abcdef",
        "oUNIONsecret1234567890abcdef",
        "13998765432",
        settings.WECHAT_MINIPROGRAM_SECRET,
        code,
    ):
        assert secret not in caplog.text, secret

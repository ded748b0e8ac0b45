"""Sandbox mini-program login (`WECHAT_SANDBOX_LOGIN`): `sandbox:<name>` codes log in without WeChat in
development and tests, and are refused when the setting is off — which production settings force."""

from __future__ import annotations

import pytest

from core.models import WeChatIdentity
from referrals.models import ReferralBinding
from tests.factories import UserFactory
from tests.members.conftest import api_for
from tests.processes import PROD_ENV, run_python

LOGIN = "/api/v1/auth/wechat/miniprogram/"


def login(code: str, **extra):
    return api_for().post(LOGIN, {"code": code, **extra}, format="json")


def test_sandbox_code_logs_in_as_a_stable_user_without_calling_wechat(settings, db):
    settings.WECHAT_SANDBOX_LOGIN = True  # WeChat URLs point at a closed port (tests/conftest.py)
    first = login("sandbox:alice")
    assert first.status_code == 200, first.content
    again = login("sandbox:alice")
    other = login("sandbox:bob")
    assert again.json()["user"]["id"] == first.json()["user"]["id"]
    assert other.json()["user"]["id"] != first.json()["user"]["id"]
    identity = WeChatIdentity.objects.get(user_id=first.json()["user"]["id"])
    assert identity.openid == "o_sandbox_alice"
    me = api_for().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {first.json()['access']}")
    assert me.status_code == 200


def test_sandbox_login_binds_the_referrer_like_a_real_login(settings, db):
    settings.WECHAT_SANDBOX_LOGIN = True
    referrer = UserFactory()
    response = login("sandbox:newbie", referral_code=referrer.referral_code)
    assert response.status_code == 200
    binding = ReferralBinding.objects.get(user_id=response.json()["user"]["id"])
    assert binding.referrer_id == referrer.pk


@pytest.mark.parametrize("code", ["sandbox:", "sandbox:has space", "sandbox:" + "x" * 33])
def test_malformed_sandbox_codes_are_refused(settings, db, code):
    settings.WECHAT_SANDBOX_LOGIN = True
    response = login(code)
    assert response.status_code == 400
    assert response.json()["code"] == "wechat_login_failed"


def test_sandbox_codes_are_refused_when_the_setting_is_off(settings, db):
    settings.WECHAT_SANDBOX_LOGIN = False
    response = login("sandbox:alice")
    assert response.status_code == 400
    assert response.json()["code"] == "wechat_login_failed"
    assert not WeChatIdentity.objects.filter(openid="o_sandbox_alice").exists()


def test_dev_settings_turn_sandbox_login_on_and_production_forces_it_off():
    probe = [
        "-c",
        "import django; django.setup(); from django.conf import settings; print(settings.WECHAT_SANDBOX_LOGIN)",
    ]
    dev = run_python(probe, {"DJANGO_SETTINGS_MODULE": "config.settings.dev"})
    assert dev.returncode == 0, dev.stderr
    assert dev.stdout.strip() == "True"
    prod = run_python(probe, {**PROD_ENV, "WECHAT_SANDBOX_LOGIN": "true"})
    assert prod.returncode == 0, prod.stderr
    assert prod.stdout.strip() == "False"

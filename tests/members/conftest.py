"""Fixtures of the members tests: tiers, API clients, the mini-program routes of the fake WeChat."""

from __future__ import annotations

import pytest
from django.test import TestCase
from rest_framework.test import APIClient

from tests.factories import TierFactory, UserFactory
from tests.fakes.wechat_members import MembersWeChat


@pytest.fixture(autouse=True)
def _sandbox(settings, tmp_path_factory):
    settings.PAYMENTS_SANDBOX_ENABLED = True
    settings.PAYMENTS_SANDBOX_KEY_DIR = tmp_path_factory.getbasetemp() / "sandbox_keys"
    settings.MEDIA_ROOT = tmp_path_factory.getbasetemp() / "media"


@pytest.fixture
def mp_wechat(fake_wechat) -> MembersWeChat:
    """The fake WeChat with getuserphonenumber and subscribe-message send."""
    return MembersWeChat(fake=fake_wechat).install()


@pytest.fixture
def vip(db):
    return TierFactory(
        code="VIP",
        name="VIP会员",
        price_fen=360_000,
        duration_days=365,
        rank=1,
        member_no_prefix="VIP",
        single_purchase_discount_bp=1000,
        benefits="VIP 课程\n对接群",
    )


@pytest.fixture
def ka(db):
    return TierFactory(
        code="KA",
        name="KA大客户",
        price_fen=12_000_000,
        duration_days=365,
        rank=2,
        member_no_prefix="KA",
        single_purchase_discount_bp=2000,
        benefits="包含 VIP 全部权益\n私董课程",
    )


@pytest.fixture
def member(db):
    return UserFactory()


@pytest.fixture
def other(db):
    return UserFactory()


def api_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def run_on_commit():
    return TestCase.captureOnCommitCallbacks(execute=True)

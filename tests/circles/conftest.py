"""Fixtures of the circles tests: a priced circle with rules, and users in every access state."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import TestCase
from django.utils import timezone
from rest_framework.test import APIClient

from tests.circles.factories import make_circle, make_member
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _sandbox(settings, tmp_path_factory):
    settings.PAYMENTS_SANDBOX_ENABLED = True
    settings.PAYMENTS_SANDBOX_KEY_DIR = tmp_path_factory.getbasetemp() / "sandbox_keys"
    settings.MEDIA_ROOT = tmp_path_factory.getbasetemp() / "media"


@pytest.fixture
def owner(db):
    return UserFactory(nickname="圈主")


@pytest.fixture
def circle(owner):
    return make_circle(owner=owner)


@pytest.fixture
def api():
    return APIClient()


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def run_on_commit():
    return TestCase.captureOnCommitCallbacks(execute=True)


@pytest.fixture
def member(circle):
    return make_member(circle=circle)


@pytest.fixture
def later():
    return timezone.now() + timedelta(days=30)


@pytest.fixture
def msg_check(fake_wechat):
    """The fake WeChat's msgSecCheck v2 (set `.verdicts[word] = "review" | "risky"`)."""
    from tests.fakes.wechat_courses import CoursesWeChat

    return CoursesWeChat(fake=fake_wechat).install()


@pytest.fixture
def subscribe_wechat(fake_wechat):
    """The fake WeChat's subscribe-message send (templates, opt-in counts, sent messages)."""
    from tests.fakes.wechat_members import MembersWeChat

    return MembersWeChat(fake=fake_wechat).install()


def mini_program_user(user, settings):
    """Give `user` a mini-program openid, so the content check asks WeChat and subscribe messages can go."""
    from core.models import WeChatIdentity

    WeChatIdentity.objects.create(
        user=user,
        kind=WeChatIdentity.Kind.MINIPROGRAM,
        appid=settings.WECHAT_MINIPROGRAM_APPID,
        openid=f"o_circles_{user.pk:020d}",
    )
    return user

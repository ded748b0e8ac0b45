"""Fixtures of the courses tests: tiers, a teacher, courses, an event and a running camp term."""

from __future__ import annotations

import pytest
from django.test import TestCase
from rest_framework.test import APIClient

from tests.courses import factories as f
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _sandbox(settings, tmp_path_factory):
    settings.PAYMENTS_SANDBOX_ENABLED = True
    settings.PAYMENTS_SANDBOX_KEY_DIR = tmp_path_factory.getbasetemp() / "sandbox_keys"
    settings.MEDIA_ROOT = tmp_path_factory.getbasetemp() / "media"


@pytest.fixture
def vip(db):
    return f.vip_tier()


@pytest.fixture
def ka(db):
    return f.ka_tier()


@pytest.fixture
def teacher(db):
    return UserFactory(nickname="王老师")


@pytest.fixture
def member(db):
    return UserFactory()


def api_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def run_on_commit():
    return TestCase.captureOnCommitCallbacks(execute=True)


@pytest.fixture
def courses_wechat(fake_wechat):
    from tests.fakes.wechat_courses import CoursesWeChat

    return CoursesWeChat(fake=fake_wechat).install()

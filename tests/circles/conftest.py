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

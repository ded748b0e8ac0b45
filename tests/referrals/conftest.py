"""Fixtures of the referrals tests: sandbox payments, the test item types, commission rules, people."""

from __future__ import annotations

import pytest
from django.test import TestCase
from rest_framework.test import APIClient

from tests.factories import UserFactory
from tests.payments.catalog import register_test_items


@pytest.fixture(autouse=True)
def _sandbox(settings, tmp_path_factory):
    settings.PAYMENTS_SANDBOX_ENABLED = True
    settings.PAYMENTS_SANDBOX_KEY_DIR = tmp_path_factory.getbasetemp() / "sandbox_keys"
    settings.MEDIA_ROOT = tmp_path_factory.getbasetemp() / "media"
    settings.SITE_URL = "https://zq.example.com"


@pytest.fixture(autouse=True)
def test_items():
    """The payments test item types: "A" ¥99, "B" ¥3,600 with a ¥360 line (see tests/payments/catalog.py)."""
    log, unregister = register_test_items()
    yield log
    unregister()


@pytest.fixture
def alice(db):
    return UserFactory(nickname="Alice")


@pytest.fixture
def bob(db):
    return UserFactory(nickname="Bob")


@pytest.fixture
def carol(db):
    return UserFactory(nickname="Carol")


@pytest.fixture
def dave(db):
    return UserFactory(nickname="Dave")


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def run_on_commit():
    return TestCase.captureOnCommitCallbacks(execute=True)

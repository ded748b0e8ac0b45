"""Fixtures of the payments tests: the test item type, users, and the WeChat fake's bill routes."""

from __future__ import annotations

import pytest

from tests.payments.catalog import register_test_items


@pytest.fixture(autouse=True)
def test_items():
    """Register the test item types (and paid/refunded listeners) for each test; returns the call log."""
    log, unregister = register_test_items()
    yield log
    unregister()


@pytest.fixture(autouse=True)
def _sandbox_keys_dir(settings, tmp_path_factory):
    settings.PAYMENTS_SANDBOX_ENABLED = True
    settings.PAYMENTS_SANDBOX_KEY_DIR = tmp_path_factory.getbasetemp() / "sandbox_keys"


@pytest.fixture
def buyer(db):
    from tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def other_user(db):
    from tests.factories import UserFactory

    return UserFactory()

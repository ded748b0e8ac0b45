"""Fixtures of the quality gates: a demo-seeded world shared by a module, rolled back at its end.

The API fuzzer and the access matrix need realistic objects (tiers, courses, circles, orders of two
members) to reach past "404 not found". Seeding them per test would cost minutes, so a module seeds
once inside an outer transaction; each test runs in a savepoint (pytest-django's `db`) and the outer
transaction is rolled back when the module ends, leaving the database as other tests expect it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from django.db import transaction


@dataclass
class World:
    member: object
    other: object
    operator: object

    def bearer(self, user) -> dict[str, str]:
        from rest_framework_simplejwt.tokens import RefreshToken

        return {"Authorization": f"Bearer {RefreshToken.for_user(user).access_token}"}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    from django.conf import settings

    from members.models import User
    from tests.factories import UserFactory

    settings.PAYMENTS_SANDBOX_KEY_DIR = tmp_path_factory.getbasetemp() / "sandbox_keys"
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            call_command("seed_demo", stdout=io.StringIO())
            yield World(
                member=User.objects.get(username="member"),
                other=UserFactory(username="fuzz-other"),
                operator=User.objects.get(username="operator"),
            )
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)

"""Fixtures of the insights tests: staff users in each role (groups set up by `setup_roles`)."""

from __future__ import annotations

import pytest
from django.test import Client

from core import roles
from insights.roles import roles_setup
from tests.factories import UserFactory

ROLE_USERS = {
    "operator": roles.OPERATOR,
    "finance": roles.FINANCE,
    "teacher": roles.TEACHER,
    "circle_owner": roles.CIRCLE_OWNER,
    "sales": roles.SALES,
    "customer_service": roles.CUSTOMER_SERVICE,
}


@pytest.fixture(autouse=True)
def _sandbox(settings, tmp_path_factory):
    settings.PAYMENTS_SANDBOX_ENABLED = True
    settings.PAYMENTS_SANDBOX_KEY_DIR = tmp_path_factory.getbasetemp() / "sandbox_keys"


@pytest.fixture
def staff(db):
    """{"operator": user, "finance": user, …, "superuser", "staff_no_role", "member"}."""
    from django.contrib.auth.models import Group

    roles_setup()
    people = {}
    for name, role in ROLE_USERS.items():
        user = UserFactory(username=f"role_{name}", is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        people[name] = user
    people["superuser"] = UserFactory(username="root", is_staff=True, is_superuser=True)
    people["staff_no_role"] = UserFactory(username="staff_plain", is_staff=True)
    people["member"] = UserFactory(username="plain_member")
    return people


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client

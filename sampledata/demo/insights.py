"""Demo data of insights: the staff roles with their permissions, an operator (运营) and a finance (财务)
login, a stored daily report; with `--history`, months of activity so the dashboard shows real shapes.

Runs last (insights is the top layer), so the catalogue, tiers, camp and circle of the other apps exist.
Idempotent: roles are reset to their defaults, logins and history are created once.
"""

from __future__ import annotations

from django.contrib.auth.models import Group

from core import roles
from insights import services
from insights.models import OperationsReport
from insights.roles import roles_setup
from members.models import User
from sampledata.demo.members import DEMO_PASSWORD
from sampledata.history.generate import generate as generate_history

STAFF = [
    ("ops", "运营小周", roles.OPERATOR),
    ("finance", "财务小钱", roles.FINANCE),
]


def seed(*, stdout, history: bool = False) -> None:
    counts = roles_setup()
    for username, nickname, role in STAFF:
        user, created = User.objects.get_or_create(
            username=username, defaults={"nickname": nickname, "is_staff": True}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        user.groups.add(Group.objects.get(name=role))
    if history:
        generate_history(stdout=stdout, days=150)
    if not OperationsReport.objects.exists():
        services.report_build(kind=OperationsReport.Kind.DAILY)
        services.report_build(kind=OperationsReport.Kind.WEEKLY)
    stdout.write(
        "insights: roles "
        + ", ".join(f"{role} ({n})" for role, n in counts.items())
        + f"; dashboard /ops/ — logins ops (运营) / finance (财务), password {DEMO_PASSWORD}"
    )

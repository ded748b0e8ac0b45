"""Money actions outside admin pages: management commands and the staff-share close task.

- A money command (a `core.management.money.MoneyCommand`) refuses to run without `--operator` naming an
  active money operator, and records that person as the actor.
- `referrals.tasks.close_staff_share_month` on schedule is the schedule's action (its name in the audit
  row); run by hand from beat's admin it is the superuser's; with any other operator id it refuses.

The matrix over the admin (and the classification of every command and task) is test_role_matrix.py.
"""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, TestCase
from django.urls import reverse

from core import roles
from tests.factories import UserFactory


@pytest.fixture
def staff(db):
    from insights.roles import roles_setup

    roles_setup()

    def make(username, role=None, **fields):
        user = UserFactory(username=username, is_staff=True, **fields)
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    return {
        "fin": make("fin", roles.FINANCE),
        "ops": make("ops", roles.OPERATOR),
        "gone": make("gone", roles.FINANCE, is_active=False),
        "root": make("root", is_superuser=True),
    }


@pytest.mark.parametrize(
    ("operator", "message"),
    [
        (None, "--operator USERNAME"),
        ("ops", "not a money operator"),
        ("gone", "no active user"),
        ("nobody", "no active user"),
    ],
)
def test_money_commands_refuse_without_an_active_money_operator(staff, operator, message):
    from referrals.models import StaffShareMonth

    args = [] if operator is None else ["--operator", operator]
    with pytest.raises(CommandError, match=message):
        call_command("staff_share_close", *args, stdout=io.StringIO())
    assert not StaffShareMonth.objects.exists()


def test_a_money_command_records_its_operator(staff):
    from core.models import AuditLog
    from referrals.models import StaffShareMonth

    out = io.StringIO()
    call_command("staff_share_close", "--operator", "fin", stdout=out)
    month = StaffShareMonth.objects.get()
    assert month.closed_by == staff["fin"] and "by fin" in out.getvalue()
    audit = AuditLog.objects.get(action="referrals.staff_share_close")
    assert audit.actor == staff["fin"] and audit.details["trigger"] == "command"


def test_the_scheduled_month_close_records_the_schedule_as_its_actor(staff):
    from core.models import AuditLog
    from referrals import tasks
    from referrals.models import StaffShareMonth

    tasks.close_staff_share_month.apply_async(headers={"periodic_task_name": "分润：月结"})
    month = StaffShareMonth.objects.get()
    assert month.closed_by is None
    audit = AuditLog.objects.get(action="referrals.staff_share_close")
    assert audit.actor is None and audit.details["trigger"] == "schedule:分润：月结"


def test_a_month_close_by_hand_must_be_a_money_operator(staff, caplog):
    from referrals import tasks
    from referrals.models import StaffShareMonth

    for refused in (staff["ops"], staff["gone"]):
        assert tasks.close_staff_share_month.delay(operator_id=refused.pk).get() == []
    assert not StaffShareMonth.objects.exists()
    assert "not a money operator" in caplog.text


def test_a_superuser_running_the_month_close_from_beat_admin_is_recorded_as_the_closer(staff):
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from core.models import AuditLog
    from referrals.models import StaffShareMonth

    interval, _ = IntervalSchedule.objects.get_or_create(every=30, period="days")
    task = PeriodicTask.objects.create(
        name="分润：月结", task="referrals.tasks.close_staff_share_month", interval=interval
    )
    client = Client()
    client.force_login(staff["ops"])
    changelist = reverse("admin:django_celery_beat_periodictask_changelist")
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(changelist, {"action": "run_tasks", "_selected_action": [task.pk]})
    assert not StaffShareMonth.objects.exists()  # not theirs to run
    client.force_login(staff["root"])
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(changelist, {"action": "run_tasks", "_selected_action": [task.pk]})
    assert StaffShareMonth.objects.get().closed_by == staff["root"]
    run = AuditLog.objects.get(action="periodic_task_run")
    assert run.actor == staff["root"] and run.details["kwargs"] == {"operator_id": staff["root"].pk}
    assert json.loads(PeriodicTask.objects.get(pk=task.pk).kwargs) == {}  # the row itself is unchanged

"""The default periodic tasks (docs/architecture.md §6) name real Celery tasks at the documented times.

Beat sends a task by name: a path that no worker registered fails only at run time, on the night it is due.
"""

import pytest
from django.core.management import call_command

from core.discovery import default_schedules

# docs/architecture.md §6: job → (task, every_seconds or crontab fields).
DOCUMENTED = {
    "close expired unpaid orders; query pending ones": ("payments.tasks.orders_sweep", 60, None),
    "settle matured commissions and tips": ("payments.tasks.settle_earnings", None, {"minute": 0, "hour": 2}),
    "check-in reminders": ("courses.tasks.checkin_reminders", 300, None),
    "re-enqueue lost media transcodings": ("courses.tasks.media_transcode_sweep", 600, None),
    "expire group buys and refund their orders": ("referrals.tasks.expire_group_buys", 60, None),
    "membership expiry and renewal reminders": (
        "members.tasks.membership_sweep",
        None,
        {"minute": 0, "hour": 9},
    ),
    "staff profit-share month close": ("referrals.tasks.close_staff_share_month", None, {"day_of_month": 1}),
    "WeChat bill reconciliation": ("payments.tasks.reconcile_bills", None, {"minute": 30, "hour": 10}),
    "operations daily report": ("insights.tasks.daily_report", None, {"minute": 0, "hour": 8}),
    "operations weekly report": (
        "insights.tasks.weekly_report",
        None,
        {"minute": 30, "hour": 8, "day_of_week": 1},
    ),
}


def test_every_default_schedule_names_a_registered_task_once():
    from config.celery import app

    app.loader.import_default_modules()  # what a worker does at start: import every app's tasks
    jobs = default_schedules()
    unknown = sorted(job.task for job in jobs if job.task not in app.tasks)
    assert not unknown, f"no Celery task registered under {unknown}"
    assert len({job.name for job in jobs}) == len(jobs)  # seeding is by name: a repeat would be skipped
    for job in jobs:
        assert (job.every_seconds is None) != (job.crontab is None), job.name


@pytest.mark.parametrize("job", sorted(DOCUMENTED), ids=str)
def test_the_documented_jobs_run_at_their_documented_times(job):
    task, every, crontab = DOCUMENTED[job]
    found = [j for j in default_schedules() if j.task == task]
    assert len(found) == 1, task
    assert found[0].every_seconds == every
    if crontab is not None:
        assert found[0].crontab is not None and crontab.items() <= found[0].crontab.items(), found[0].crontab


@pytest.mark.django_db
def test_seeded_crontabs_run_in_shanghai_time():
    from django_celery_beat.models import PeriodicTask

    call_command("seed_periodic_tasks")
    daily = PeriodicTask.objects.get(task="insights.tasks.daily_report")
    assert (daily.crontab.hour, daily.crontab.minute, str(daily.crontab.timezone)) == (
        "8",
        "0",
        "Asia/Shanghai",
    )
    assert PeriodicTask.objects.count() == len(default_schedules())

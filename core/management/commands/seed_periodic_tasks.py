"""Seed the default periodic tasks (docs/architecture.md §6) into django-celery-beat's tables.

get_or_create by name: an operator's edit in admin is never overwritten.
"""

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from core.discovery import default_schedules


class Command(BaseCommand):
    help = "Create the default periodic tasks if missing (never overwrites operator edits)."

    def handle(self, *args: Any, **options: Any) -> None:
        created = 0
        with transaction.atomic():
            for job in default_schedules():
                if PeriodicTask.objects.filter(name=job.name).exists():
                    continue
                kwargs = {"name": job.name, "task": job.task, "description": job.description}
                if job.every_seconds:
                    interval, _ = IntervalSchedule.objects.get_or_create(
                        every=job.every_seconds, period=IntervalSchedule.SECONDS
                    )
                    kwargs["interval"] = interval
                else:
                    cron, _ = CrontabSchedule.objects.get_or_create(
                        timezone="Asia/Shanghai",
                        **{
                            k: str(v)
                            for k, v in {
                                "minute": "0",
                                "hour": "*",
                                "day_of_week": "*",
                                "day_of_month": "*",
                                "month_of_year": "*",
                                **(job.crontab or {}),
                            }.items()
                        },
                    )
                    kwargs["crontab"] = cron
                PeriodicTask.objects.create(**kwargs)
                created += 1
        self.stdout.write(f"periodic tasks: {created} created, {len(default_schedules()) - created} kept")

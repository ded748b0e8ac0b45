"""Find per-app contributions by convention, so the lower layers never import the upper ones.

- `<app>.schedules.DEFAULT_SCHEDULES`: periodic tasks seeded into django-celery-beat
- `<app>.home`: what each app contributes to the home page
- `<app>.notification_kinds.LABELS`: what the app's notification kinds are called (admin lists)

(Demo data is not found this way: it lives outside the apps, in `sampledata.demo`.)
"""

from collections.abc import Iterator
from dataclasses import dataclass
from importlib import import_module
from types import ModuleType
from typing import Any

from django.apps import apps


@dataclass(frozen=True)
class PeriodicJob:
    """A default schedule. Exactly one of `every_seconds` or `crontab` (dict of crontab fields)."""

    name: str
    task: str
    every_seconds: int | None = None
    crontab: dict[str, Any] | None = None
    description: str = ""


def app_modules(submodule: str) -> Iterator[ModuleType]:
    for config in apps.get_app_configs():
        if config.name.split(".")[0] not in _OUR_APPS:
            continue
        try:
            yield import_module(f"{config.name}.{submodule}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.{submodule}":
                raise


_OUR_APPS = {"core", "payments", "members", "courses", "circles", "referrals", "growth", "insights"}


def default_schedules() -> list[PeriodicJob]:
    jobs: list[PeriodicJob] = []
    for module in app_modules("schedules"):
        jobs.extend(getattr(module, "DEFAULT_SCHEDULES", []))
    return jobs

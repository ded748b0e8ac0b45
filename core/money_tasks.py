"""Which Celery tasks are money tasks, and who may aim them.

The list itself is `settings.MONEY_TASKS` (next to the `money` queue routes it also feeds). A money task
either takes no target (a sweep that finds its own due rows) or acts only on rows a money operator or
the system already authorised (an approved withdrawal, a requested refund, an order the system marked
as owed a refund): an id typed into beat's admin or a shell cannot move money by itself.

Beat's admin (`core.admin_beat`) lets only superusers add, change, delete, toggle or run a periodic task
naming one of these; a money task that records who caused it takes an `operator_id` keyword, which the
admin fills with the superuser who pressed "run" (on schedule it is absent: the schedule is the actor).
"""

from __future__ import annotations

import inspect

from django.conf import settings
from django.contrib.auth import get_user_model

from core.roles import is_money_operator


def money_tasks() -> frozenset[str]:
    return frozenset(settings.MONEY_TASKS)


def is_money_task(name: str) -> bool:
    return (name or "").strip() in money_tasks()


def records_operator(task: object) -> bool:
    """Whether a registered task accepts `operator_id` (the money operator who ran it by hand)."""
    run = getattr(task, "run", None)
    if run is None:
        return False
    try:
        return "operator_id" in inspect.signature(run).parameters
    except (TypeError, ValueError):
        return False


def money_operator_for(operator_id: object) -> object | None:
    """The active money operator with this id, or None (the task then refuses to act by hand)."""
    try:
        user = get_user_model().objects.filter(pk=int(str(operator_id)), is_active=True).first()
    except (TypeError, ValueError):
        return None
    return user if user is not None and is_money_operator(user) else None


def schedule_name(request: object) -> str:
    """The periodic task a Celery request came from (beat and beat's admin both send its name)."""
    name = getattr(request, "periodic_task_name", None)
    if not name:
        headers = getattr(request, "headers", None) or {}
        name = headers.get("periodic_task_name") if isinstance(headers, dict) else None
    return str(name or "")


__all__ = ["is_money_task", "money_operator_for", "money_tasks", "records_operator", "schedule_name"]

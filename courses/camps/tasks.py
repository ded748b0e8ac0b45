"""Celery tasks of the camps: the check-in reminder sweep and its batches (thin: take ids, call one
service, safe to run twice).

Task names are pinned to their old `courses.tasks.*` names: beat schedules, queue routes and stored
PeriodicTask rows refer to them by name."""

from celery import shared_task
from django.core.cache import cache

from courses.camps import reminders

REMINDER_SWEEP_LOCK = "courses:checkin-reminders-lock"


@shared_task(name="courses.tasks.checkin_reminders", acks_late=True)  # name pinned (see module docstring)
def checkin_reminders() -> dict:
    """Every 5 minutes: claim today's due check-in reminders and enqueue their sending."""
    if not cache.add(REMINDER_SWEEP_LOCK, 1, timeout=240):
        return {"skipped": 1}
    try:
        return reminders.checkin_reminders_sweep()
    finally:
        cache.delete(REMINDER_SWEEP_LOCK)


@shared_task(name="courses.tasks.send_checkin_reminders", acks_late=True)  # name pinned
def send_checkin_reminders(seat_ids: list[int], day: str) -> dict:
    """Claim and send one batch of the sweep (safe to run twice: the reminder log is unique)."""
    return reminders.checkin_reminders_send(seat_ids=list(seat_ids), day=day)

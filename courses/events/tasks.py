"""Celery tasks of offline events (thin, safe to run twice).

The task name is pinned to its old `courses.tasks.*` name: beat schedules and stored PeriodicTask rows
refer to it by name."""

from celery import shared_task

from courses.events import waitlist


@shared_task(name="courses.tasks.events_sweep", acks_late=True)  # name pinned (see module docstring)
def events_sweep() -> dict:
    """Release expired payment holds on event seats and promote the waitlist."""
    return waitlist.events_sweep()

"""Celery tasks of members: thin, take ids, call one service, safe to run twice."""

from celery import shared_task

from members.memberships.reminders import memberships_sweep
from members.notifications import services as notifications


@shared_task(acks_late=True)
def notification_push(notification_id: int) -> None:
    notifications.notification_push(notification_id=notification_id)


@shared_task(acks_late=True)
def notifications_push_sweep() -> None:
    notifications.notifications_push_sweep()


@shared_task(acks_late=True)
def membership_sweep() -> None:
    """Daily: renewal reminders at 30/7/1 days and the expiry notice (each exactly once)."""
    memberships_sweep()

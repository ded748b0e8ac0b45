"""Celery tasks of the courses app (thin: take ids, call one service, safe to run twice)."""

from celery import shared_task
from django.core.cache import cache

REMINDER_SWEEP_LOCK = "courses:checkin-reminders-lock"


@shared_task(name="courses.tasks.checkin_reminders", acks_late=True)
def checkin_reminders() -> dict:
    """Every 5 minutes: claim today's due check-in reminders and enqueue their sending."""
    from courses import services

    if not cache.add(REMINDER_SWEEP_LOCK, 1, timeout=240):
        return {"skipped": 1}
    try:
        return services.checkin_reminders_sweep()
    finally:
        cache.delete(REMINDER_SWEEP_LOCK)


@shared_task(name="courses.tasks.send_checkin_reminders", acks_late=True)
def send_checkin_reminders(seat_ids: list[int], day: str) -> dict:
    """Claim and send one batch of the sweep (safe to run twice: the reminder log is unique)."""
    from courses import services

    return services.checkin_reminders_send(seat_ids=list(seat_ids), day=day)


@shared_task(name="courses.tasks.events_sweep", acks_late=True)
def events_sweep() -> dict:
    """Release expired payment holds on event seats and promote the waitlist."""
    from courses import services

    return services.events_sweep()


@shared_task(name="courses.tasks.refund_order", acks_late=True)
def refund_order(order_no: str, reason: str) -> None:
    """Refund an order the system marked as owed an automatic refund (`services._refund_later`).

    Any other order number is refused with a warning and nothing changes, whoever sends it."""
    from courses import services

    services.order_refund_for(order_no=order_no, reason=reason)

"""Celery tasks of the referrals app: thin, take ids (or nothing), call one service, safe to re-run."""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.cache import cache

from core.money_tasks import money_operator_for, schedule_name
from referrals import commissions, group_buys, staff_share

logger = logging.getLogger(__name__)

EXPIRE_LOCK = "referrals:group-buy-expire-lock"


@shared_task(name="referrals.tasks.expire_group_buys", acks_late=True)
def expire_group_buys() -> dict:
    """Expire unfinished groups, refund their paid members, retry failed grants. One run at a time."""
    if not cache.add(EXPIRE_LOCK, 1, timeout=300):
        return {"skipped": 1}
    try:
        return group_buys.group_buys_expire()
    finally:
        cache.delete(EXPIRE_LOCK)


@shared_task(name="referrals.tasks.group_buy_refund_seat", acks_late=True)
def group_buy_refund_seat(seat_id: int) -> bool:
    """Refund one seat the group-buy rules marked `needs_refund` (any other seat id changes nothing)."""
    return group_buys.group_buy_refund_seat(seat_id=seat_id)


@shared_task(name="referrals.tasks.close_staff_share_month", acks_late=True, bind=True)
def close_staff_share_month(self, operator_id: int | None = None) -> list[str]:
    """Close every finished month that is still open (normally: last month).

    On schedule the schedule is the actor (its name is in the close's audit row). Run by hand (beat's
    admin passes the superuser's `operator_id`), only an active money operator may, recorded as the
    closer; any other id is refused with a warning and nothing is closed."""
    if operator_id is None:
        actor, trigger = None, f"schedule:{schedule_name(self.request) or 'system'}"
    else:
        actor = money_operator_for(operator_id)
        if actor is None:
            logger.warning("refused staff-share month close: user %s is not a money operator", operator_id)
            return []
        trigger = "operator"
    return [m.month.isoformat() for m in staff_share.staff_share_close_due(actor=actor, trigger=trigger)]


@shared_task(name="referrals.tasks.release_commission_points", acks_late=True)
def release_commission_points() -> int:
    return commissions.commission_points_release()

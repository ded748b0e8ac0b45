"""Celery tasks of the referrals app: thin, take ids (or nothing), call one service, safe to re-run."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache

EXPIRE_LOCK = "referrals:group-buy-expire-lock"


@shared_task(name="referrals.tasks.expire_group_buys", acks_late=True)
def expire_group_buys() -> dict:
    """Expire unfinished groups, refund their paid members, retry failed grants. One run at a time."""
    from referrals import group_buys

    if not cache.add(EXPIRE_LOCK, 1, timeout=300):
        return {"skipped": 1}
    try:
        return group_buys.group_buys_expire()
    finally:
        cache.delete(EXPIRE_LOCK)


@shared_task(name="referrals.tasks.group_buy_refund_seat", acks_late=True)
def group_buy_refund_seat(seat_id: int) -> bool:
    from referrals import group_buys

    return group_buys.group_buy_refund_seat(seat_id=seat_id)


@shared_task(name="referrals.tasks.close_staff_share_month", acks_late=True)
def close_staff_share_month() -> list[str]:
    """Close every finished month that is still open (normally: last month)."""
    from referrals import staff_share

    return [m.month.isoformat() for m in staff_share.staff_share_close_due()]


@shared_task(name="referrals.tasks.release_commission_points", acks_late=True)
def release_commission_points() -> int:
    from referrals import commissions

    return commissions.commission_points_release()

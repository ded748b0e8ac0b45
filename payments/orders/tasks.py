"""Order tasks: sweeps, reconciliation and refund submissions. Thin: each calls one service.

Registered names stay `payments.tasks.*` (pinned with `name=`): beat schedules and stored
PeriodicTask rows refer to the tasks by name, and these tasks lived in `payments.order_tasks`.
The services are imported inside the tasks because they enqueue these same tasks
(`enqueue_after_commit`): cycle payments.orders.refunds -> payments.orders.tasks.
"""

from __future__ import annotations

import logging
from datetime import date

from celery import shared_task
from django.core.cache import cache

__all__ = ["orders_sweep", "reconcile_bills", "refund_submit", "refund_auto_start"]

logger = logging.getLogger(__name__)

SWEEP_LOCK = "payments:orders-sweep-lock"


def enqueue_after_commit(task_name: str, object_id: int) -> None:
    """Hand a provider call to Celery (called from `on_commit`); if the broker is down the sweep
    retries it."""
    try:
        globals()[task_name].delay(object_id)
    except Exception:  # noqa: BLE001 - broker unavailable: orders_sweep picks the row up later
        logger.exception("could not enqueue %s(%s)", task_name, object_id)


@shared_task(name="payments.tasks.orders_sweep", acks_late=True)
def orders_sweep() -> dict[str, int]:
    """Query pending attempts (≥5 and ≥15 min), close expired orders, retry refunds. One at a time."""
    from payments.orders import sweeps  # cycle: see the module docstring

    if not cache.add(SWEEP_LOCK, 1, timeout=300):
        return {"skipped": 1}
    try:
        return sweeps.orders_sweep()
    finally:
        cache.delete(SWEEP_LOCK)


@shared_task(name="payments.tasks.reconcile_bills", acks_late=True)
def reconcile_bills(bill_date: str | None = None) -> dict[str, str | int]:
    from payments.orders import reconciliation  # cycle: see the module docstring

    run = reconciliation.reconcile_bills(bill_date=date.fromisoformat(bill_date) if bill_date else None)
    return {"bill_date": run.bill_date.isoformat(), "status": run.status, "mismatches": run.mismatch_count}


@shared_task(name="payments.tasks.refund_submit", acks_late=True)
def refund_submit(refund_id: int) -> None:
    from payments.orders import refunds  # cycle: see the module docstring

    refunds.refund_submit(refund_id=refund_id)


@shared_task(name="payments.tasks.refund_auto_start", acks_late=True)
def refund_auto_start(payment_id: int) -> None:
    from payments.orders import refunds  # cycle: see the module docstring

    refunds.refund_auto_start(payment_id=payment_id)

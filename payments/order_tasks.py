"""Order tasks: sweeps and reconciliation (names: payments.tasks.*). Thin: each calls one service."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.core.cache import cache

__all__ = ["orders_sweep", "reconcile_bills", "refund_submit", "refund_auto_start"]

SWEEP_LOCK = "payments:orders-sweep-lock"


@shared_task(name="payments.tasks.orders_sweep", acks_late=True)
def orders_sweep() -> dict:
    """Query pending attempts (≥5 and ≥15 min), close expired orders, retry refunds. One at a time."""
    from payments import services

    if not cache.add(SWEEP_LOCK, 1, timeout=300):
        return {"skipped": 1}
    try:
        return services.orders_sweep()
    finally:
        cache.delete(SWEEP_LOCK)


@shared_task(name="payments.tasks.reconcile_bills", acks_late=True)
def reconcile_bills(bill_date: str | None = None) -> dict:
    from payments import services

    run = services.reconcile_bills(bill_date=date.fromisoformat(bill_date) if bill_date else None)
    return {"bill_date": run.bill_date.isoformat(), "status": run.status, "mismatches": run.mismatch_count}


@shared_task(name="payments.tasks.refund_submit", acks_late=True)
def refund_submit(refund_id: int) -> None:
    from payments import services

    services.refund_submit(refund_id=refund_id)


@shared_task(name="payments.tasks.refund_auto_start", acks_late=True)
def refund_auto_start(payment_id: int) -> None:
    from payments import services

    services.refund_auto_start(payment_id=payment_id)

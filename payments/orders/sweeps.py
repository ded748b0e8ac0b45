"""The order sweep: what callbacks did not confirm, asked for (docs/architecture.md §4).

Runs every minute (`payments.tasks.orders_sweep`): queries payment attempts pending 5 and 15
minutes, closes expired orders, starts automatic refunds whose task was lost and retries refunds.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from payments.models import Order, Payment, Refund
from payments.orders.payment_attempts import order_close, payment_sync
from payments.orders.refunds import refund_auto_start, refund_sync

S = Order.Status


def orders_sweep(*, now: datetime | None = None, limit: int = 200) -> dict[str, int]:
    """Query attempts pending ≥5 and ≥15 minutes, close expired orders, retry refunds and auto refunds."""
    now = now or timezone.now()
    counts = {"queried": 0, "paid": 0, "closed": 0, "refunds": 0, "auto_refunds": 0}
    due = (
        Payment.objects.filter(status=Payment.Status.PREPAID, order__status=S.PENDING)
        .filter(
            Q(query_count=0, created_at__lte=now - timedelta(minutes=5))
            | Q(query_count=1, created_at__lte=now - timedelta(minutes=15))
        )
        .order_by("created_at")[:limit]
    )
    for payment in due:
        counts["queried"] += 1
        if payment_sync(payment=payment) == "paid":
            counts["paid"] += 1
    expired = Order.objects.filter(status=S.PENDING, expires_at__lte=now).order_by("expires_at")[:limit]
    for order in expired:
        result = order_close(order=order)
        if result.status == S.CLOSED:
            counts["closed"] += 1
        elif result.status == S.PAID:
            counts["paid"] += 1
    # Auto refunds that were never started (enqueue lost); started ones are retried below.
    never_refunded = Payment.objects.filter(needs_auto_refund=True).exclude(
        Exists(Refund.objects.filter(payment=OuterRef("pk"), kind=Refund.Kind.AUTO))
    )
    for payment in never_refunded[:limit]:
        counts["auto_refunds"] += 1
        refund_auto_start(payment_id=payment.pk)
    stale = Refund.objects.select_related("payment").filter(
        status__in=Refund.ACTIVE, created_at__lte=now - timedelta(minutes=2)
    )[:limit]
    for refund in stale:
        counts["refunds"] += 1
        refund_sync(refund=refund)
    return counts

"""The state machines of orders and refunds: the legal moves, the functions that make them, the paid move.

Every change of `Order.status` goes through `order_transition` (one table of legal moves, one
`OrderEvent` per move, docs/architecture.md §4); every change of `Refund.status` through
`refund_transition` (its table is `Refund.TRANSITIONS`). `order_mark_paid` is the paid move with its
exactly-once effects (the item type's `fulfill`, then the paid listeners), shared by a confirmed
payment and a free order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from payments import items
from payments.models import Order, OrderEvent, Payment, Refund
from payments.orders.errors import IllegalRefundTransition, IllegalTransition

S = Order.Status

# The only legal moves of an order; everything else is refused (django-oscar `set_status`).
TRANSITIONS: dict[str, set[str]] = {
    S.PENDING: {S.PAID, S.CLOSED},
    S.PAID: {S.REFUNDING},
    S.REFUNDING: {S.PAID, S.PARTIALLY_REFUNDED, S.REFUNDED},
    S.PARTIALLY_REFUNDED: {S.REFUNDING},
    S.CLOSED: set(),
    S.REFUNDED: set(),
}


def order_transition(
    *,
    order: Order,
    to: str,
    reason: str,
    actor: Any = None,
    updates: dict[str, Any] | None = None,
    **details: Any,
) -> OrderEvent:
    """Move a LOCKED order to `to`, refusing illegal moves, and write the audit row.

    `updates` are other fields saved in the same UPDATE (e.g. paid_at).
    """
    if to not in TRANSITIONS.get(order.status, set()):
        raise IllegalTransition(order, to)
    event: OrderEvent = OrderEvent.record(
        order=order, from_status=order.status, to_status=to, reason=reason, actor=actor, details=details
    )
    order.status = to
    fields = ["status", "updated_at"]
    for name, value in (updates or {}).items():
        setattr(order, name, value)
        fields.append(name)
    if to == S.CLOSED:
        order.closed_at = timezone.now()
        fields.append("closed_at")
    order.save(update_fields=fields)
    if to == S.CLOSED:
        for listener in items.closed_listeners():  # give back what the pending order held
            listener(order)
    return event


def refund_transition(*, refund: Refund, to: str, updates: dict[str, Any] | None = None) -> None:
    """Move a LOCKED refund to `to`, refusing illegal moves; an ended refund gets its completed_at.

    `updates` are other fields saved in the same UPDATE (attempts, refund_id, last_error).
    """
    if to not in Refund.TRANSITIONS.get(refund.status, frozenset()):
        raise IllegalRefundTransition(refund, to)
    refund.status = to
    fields = ["status"]
    for name, value in (updates or {}).items():
        setattr(refund, name, value)
        fields.append(name)
    if to not in Refund.ACTIVE:
        refund.completed_at = timezone.now()
        fields.append("completed_at")
    refund.save(update_fields=fields)


def order_lock(pk: int) -> Order:
    """The order, locked for the rest of the transaction (parent before child: lock it first)."""
    return Order.objects.select_for_update(of=("self",)).get(pk=pk)


def order_mark_paid(*, order: Order, payment: Payment | None, paid_at: datetime, reason: str) -> None:
    """Inside the lock: the one paid transition, then fulfil and listeners (same transaction)."""
    updates: dict[str, Any] = {"paid_at": paid_at}
    if payment is not None and order.channel != payment.channel:
        updates["channel"] = payment.channel
    order_transition(
        order=order,
        to=S.PAID,
        reason=reason,
        updates=updates,
        out_trade_no=payment.out_trade_no if payment else "",
        transaction_id=(payment.transaction_id or "") if payment else "",
    )
    items.get(order.item_type).fulfill(order=order)
    for listener in items.paid_listeners():
        listener(order)

"""What the course, event and camp item types share when payments hands them an order: the benefit's
source, the free-grant pricing switch, the tier discount line, and the automatic refund of an order
this app cannot honour (event or term full, paid twice), marked in the paying transaction and
refunded after commit by the `courses.tasks.refund_order` task."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils.translation import gettext as _

from core.money import apply_bp
from courses import member_facts
from courses.models import Source
from members.memberships.selectors import active_membership
from payments import items
from payments.orders.refunds import order_auto_refund_mark, order_auto_refund_start

logger = logging.getLogger(__name__)


def source_for_order(order) -> str:
    if order.channel == "points":
        return Source.POINTS
    if order.amount_fen == 0:  # operator grants, other free channels (payments.orders.checkout)
        return Source.GRANT
    return Source.PURCHASE


def fully_refunded(order) -> bool:
    return order.refunded_fen >= order.amount_fen


def tier_discount_line(
    *, user, quote: items.Quote, facts: member_facts.Entitlements | None = None
) -> items.Quote:
    """The single-purchase discount of the member's active tier, as a visible quote line (from the
    member's `facts` when the caller has them, else from the membership)."""
    if facts is not None:
        rate, name = facts.discount_bp, facts.tier_name
    else:
        # tier_discount_bp(user), from the one membership read (it would read the membership again)
        membership = active_membership(user) if getattr(user, "is_authenticated", False) else None
        rate = int(membership.tier.single_purchase_discount_bp) if membership else 0
        name = membership.tier.name if membership else ""
    if rate <= 0 or quote.list_price_fen <= 0:
        return quote
    discount = apply_bp(quote.list_price_fen, rate)
    if discount <= 0:
        return quote
    return quote.with_line(_("%(tier)s专享折扣") % {"tier": name}, -discount, tier_discount_bp=rate)


def refund_later(order, *, reason: str) -> None:
    """The system owes this paid order a full refund: mark it so (payments records the mark in the
    paying transaction) and refund it after commit. The task refunds marked orders only."""
    from courses import tasks  # cycle: courses.tasks imports courses.orders

    order_no = order.order_no
    if not order_auto_refund_mark(order_no=order_no, reason=str(reason), order=order):
        logger.error("order %s could not be marked for an automatic refund (not paid?)", order_no)
        return
    transaction.on_commit(lambda: tasks.refund_order.delay(order_no, str(reason)))


def order_refund_for(*, order_no: str, reason: str = "") -> None:
    """Full refund of an order this app cannot honour (event full, paid twice), as the system.

    Only an order `refund_later` marked is refunded, with the reason recorded at marking time
    (`reason` is kept for the task's signature and ignored): an order number from anywhere else
    (a periodic task an operator typed in, a shell) changes nothing."""
    order_auto_refund_start(order_no=order_no)

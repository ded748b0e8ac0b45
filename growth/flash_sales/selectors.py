"""Reads of flash sales: the sale running for an item, the sales to list, what a member has taken,
and the orders a sale made (for reports)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from growth.models import FlashSale, FlashSaleHold
from payments.models import Order

# Units a member has of a sale: what their pending orders hold and what they bought (a refund does not
# give the unit back, so it does not give the member another one either).
TAKEN_STATES = (FlashSaleHold.State.HELD, FlashSaleHold.State.SOLD)


def sale_running_for(*, item_type: str, item_id: str, now: datetime | None = None) -> FlashSale | None:
    """The active sale whose window contains `now` for the item (the lowest price if operators set two)."""
    now = now or timezone.now()
    return (
        FlashSale.objects.filter(
            item_type=item_type,
            item_id=str(item_id),
            is_active=True,
            starts_at__lte=now,
            ends_at__gt=now,
        )
        .order_by("sale_price_fen", "pk")
        .first()
    )


def sale_shown_for(*, item_type: str, item_id: str, now: datetime | None = None) -> FlashSale | None:
    """What an item page shows: the running sale, else the next one to start (a preview with its date)."""
    now = now or timezone.now()
    return (
        FlashSale.objects.filter(item_type=item_type, item_id=str(item_id), is_active=True, ends_at__gt=now)
        .order_by("starts_at", "sale_price_fen", "pk")
        .first()
    )


def sales_listed(*, now: datetime | None = None) -> QuerySet[FlashSale]:
    """Running and upcoming active sales, those ending soonest first."""
    now = now or timezone.now()
    return FlashSale.objects.filter(is_active=True, ends_at__gt=now).order_by("ends_at", "pk")


def member_units(*, sale: FlashSale, user) -> int:
    """How many units of the sale the member holds or bought (0 for a visitor)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return FlashSaleHold.objects.filter(sale=sale, user=user, state__in=TAKEN_STATES).count()


def flash_sale_orders(sale: FlashSale) -> QuerySet[Order]:
    """Every order that took a unit of the sale, whatever became of it (paid, closed, refunded)."""
    return Order.objects.filter(flash_sale_hold__sale=sale)

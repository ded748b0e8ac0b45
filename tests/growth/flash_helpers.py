"""Builders for the flash-sale tests: a sale on an item, a pending order, its payment."""

from __future__ import annotations

from datetime import timedelta

from django.test import TestCase
from django.utils import timezone

from growth.flash_sales import services
from growth.models import FlashSale
from payments.models import Order
from payments.orders.checkout import order_create
from tests.factories import UserFactory
from tests.payments.helpers import create_paid_order


def make_sale(
    *,
    item_type: str = "course",
    item_id,
    sale_price_fen: int = 9_900,
    stock: int = 10,
    per_member_limit: int = 1,
    starts_in: timedelta = timedelta(minutes=-1),
    lasts: timedelta = timedelta(hours=2),
    name: str = "双十一特价",
) -> FlashSale:
    starts_at = timezone.now() + starts_in
    return services.sale_create(
        name=name,
        item_type=item_type,
        item_id=str(item_id),
        sale_price_fen=sale_price_fen,
        starts_at=starts_at,
        ends_at=starts_at + lasts,
        stock=stock,
        per_member_limit=per_member_limit,
        created_by=UserFactory(is_staff=True, is_superuser=True),
    )


def open_order(*, user, item_type: str = "course", item_id, channel: str = "sandbox") -> Order:
    """A pending order (not paid), as the checkout makes it."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return order_create(user=user, item_type=item_type, item_id=str(item_id), channel=channel)


def buy(*, user, item_type: str = "course", item_id) -> Order:
    return create_paid_order(user=user, item_type=item_type, item_id=str(item_id))


def figures(sale: FlashSale) -> tuple[int, int, int]:
    """(held, sold, left) as stored now."""
    sale.refresh_from_db()
    return sale.held, sale.sold, sale.left

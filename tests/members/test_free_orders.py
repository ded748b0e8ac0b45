"""payments.orders.checkout.order_create_free: a zero-amount order paid at once through the normal paid path."""

from __future__ import annotations

import pytest

from core.errors import ApplicationError
from payments import items
from payments.models import Order, OrderEvent
from payments.orders.checkout import order_create_free
from payments.orders.refunds import refund_request
from tests.payments.catalog import TEST_ITEM, register_test_items


@pytest.fixture
def log():
    log, unregister = register_test_items()
    yield log
    unregister()


def test_free_order_is_paid_at_once_and_fulfilled_once(member, log):
    order = order_create_free(user=member, item_type=TEST_ITEM, item_id="B", reason="积分兑换")
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order.paid_at is not None
    assert order.amount_fen == 0 and order.list_price_fen == 360000 and order.discount_fen == 360000
    assert order.channel == "points"
    assert order.lines[-1] == {"label": "积分兑换", "amount_fen": -324000}
    assert log.fulfilled == [order.order_no] and log.paid_listener == [order.order_no]
    assert list(OrderEvent.objects.filter(order=order).values_list("to_status", flat=True)) == [
        "pending",
        "paid",
    ]


def test_channel_records_the_source(member, log):
    order = order_create_free(
        user=member, item_type=TEST_ITEM, item_id="A", reason="运营赠送", channel="grant"
    )
    assert order.channel == "grant" and order.context["free_reason"] == "运营赠送"


@pytest.mark.parametrize("channel", ["sandbox", "wechat_miniprogram", "", "x" * 33])
def test_payment_channels_and_junk_are_refused(member, log, channel):
    with pytest.raises(ApplicationError) as excinfo:
        order_create_free(user=member, item_type=TEST_ITEM, item_id="A", reason="r", channel=channel)
    assert excinfo.value.code == "invalid_channel"
    assert not Order.objects.exists()


@pytest.mark.parametrize(("item_type", "item_id"), [(TEST_ITEM, "OFF"), (TEST_ITEM, " "), ("nope", "1")])
def test_unavailable_items_are_refused_like_a_purchase(member, log, item_type, item_id):
    with pytest.raises(items.ItemUnavailable):
        order_create_free(user=member, item_type=item_type, item_id=item_id, reason="r")
    assert not Order.objects.exists()


def test_free_orders_cannot_be_refunded_for_money(member, log):
    order = order_create_free(user=member, item_type=TEST_ITEM, item_id="A", reason="r")
    with pytest.raises(ApplicationError) as excinfo:
        refund_request(order=order, amount_fen=None, reason="x", requested_by=None, self_service=False)
    assert excinfo.value.code in ("order_not_refundable", "invalid_refund_amount")


def test_only_the_free_order_path_quotes_with_free_grant(member, log):
    """`free_grant` is an explicit argument of the item type's quote: order_create_free passes it,
    a purchase (through the registry's quote) does not."""
    seen = []

    class Spy(items.ItemType):
        code = "spy_item"
        integer_ids = False

        def quote(self, *, user, item_id, free_grant=False):
            seen.append(free_grant)
            return items.Quote(title="spy", list_price_fen=100)

        def fulfill(self, *, order):
            pass

        def revoke(self, *, order, refund):
            pass

    items.register(Spy())
    try:
        order_create_free(user=member, item_type="spy_item", item_id="1", reason="r")
        items.quote(user=member, item_type="spy_item", item_id="1")
    finally:
        items._registry.pop("spy_item", None)
    assert seen == [True, False]

"""POST /api/v1/orders/{order_no}/close/ (取消订单): the buyer closes their own unpaid order — at WeChat
first, so nothing is charged afterwards; a payment WeChat already took wins."""

from __future__ import annotations

import pytest

from payments.models import Order, Payment
from payments.orders.checkout import order_create
from payments.orders.payment_attempts import payment_start
from tests.payments.catalog import TEST_ITEM
from tests.payments.helpers import create_paid_order
from tests.payments.wechat_support import api_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(buyer, fake_wechat):
    order = order_create(user=buyer, item_type=TEST_ITEM, item_id="A", channel="wechat_native")
    return order, payment_start(order=order)


def _cancel(user, order_no: str):
    return api_client(user).post(f"/api/v1/orders/{order_no}/close/")


def test_the_buyer_cancels_a_pending_order_closed_at_wechat_first(buyer, pending, fake_wechat):
    order, payment = pending

    response = _cancel(buyer, order.order_no)

    assert response.status_code == 200 and response.json()["status"] == "closed"
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == Order.Status.CLOSED and payment.status == Payment.Status.CLOSED
    assert fake_wechat.transactions[payment.out_trade_no]["trade_state"] == "CLOSED"
    assert order.events.filter(to_status="closed", reason="member").exists()


def test_a_payment_wechat_already_took_wins(buyer, pending, fake_wechat, test_items):
    order, payment = pending
    fake_wechat.pay(payment.out_trade_no)  # paid; the notification has not arrived

    response = _cancel(buyer, order.order_no)

    assert response.status_code == 200 and response.json()["status"] == "paid"
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and test_items.fulfilled == [order.order_no]


def test_wechat_unreachable_keeps_the_order_pending(buyer, pending, fake_wechat):
    order, _payment = pending
    fake_wechat.pay_failures.append((500, {"code": "SYSTEM_ERROR", "message": "系统繁忙"}))

    response = _cancel(buyer, order.order_no)

    assert response.status_code == 503 and response.json()["code"] == "order_close_failed"
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def test_a_paid_order_is_not_cancelled(buyer, test_items):
    order = create_paid_order(user=buyer, item_type=TEST_ITEM, item_id="A")

    response = _cancel(buyer, order.order_no)

    assert response.status_code == 409 and response.json()["code"] == "order_not_pending"
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_another_users_order_is_404_and_anonymous_401(buyer, other_user, pending):
    from rest_framework.test import APIClient

    order, _payment = pending
    assert _cancel(other_user, order.order_no).status_code == 404
    assert APIClient().post(f"/api/v1/orders/{order.order_no}/close/").status_code == 401
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING

"""Concurrency on real PostgreSQL with threads: exactly-once under duplicate and racing deliveries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from core.errors import ApplicationError
from payments.models import Order, OrderEvent, Payment, PaymentNotification, Refund
from payments.orders.checkout import order_create
from payments.orders.payment_attempts import order_close, payment_start, payment_sync
from payments.orders.refunds import refund_request
from tests.concurrency import run_together
from tests.payments.catalog import TEST_ITEM
from tests.payments.helpers import create_paid_order
from tests.payments.wechat_support import deliver

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_same_notification_50_times_concurrently_pays_fulfils_and_notifies_once(
    buyer, fake_wechat, test_items
):
    order = order_create(user=buyer, item_type=TEST_ITEM, item_id="A", channel="wechat_native")
    payment = payment_start(order=order)
    headers, body = fake_wechat.pay(payment.out_trade_no)

    statuses = run_together([lambda: deliver(headers, body, Client()).status_code for _ in range(50)])

    assert all(status in (200, 204) for status in statuses), statuses
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert OrderEvent.objects.filter(order=order, to_status="paid").count() == 1
    assert test_items.fulfilled == [order.order_no]
    assert test_items.paid_listener == [order.order_no]
    assert PaymentNotification.objects.filter(outcome="processed").count() == 1
    assert PaymentNotification.objects.filter(outcome="duplicate").count() == 49


@pytest.mark.parametrize("wechat_close_wins", [False, True])
def test_notification_racing_close_sweep_ends_paid_or_closed_and_refunded(
    buyer, fake_wechat, test_items, wechat_close_wins
):
    if wechat_close_wins:
        # WeChat accepted our close while the payer's payment was already on its way.
        fake_wechat.route(
            "POST",
            r"/v3/pay/transactions/out-trade-no/(?P<no>[^/?]+)/close",
            lambda r, m: fake_wechat.v3_json(204, None),
        )
    outcomes = []
    for _round in range(4):
        order = order_create(user=buyer, item_type=TEST_ITEM, item_id="A", channel="wechat_native")
        payment = payment_start(order=order)
        Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        headers, body = fake_wechat.pay(payment.out_trade_no)

        results = run_together(
            [
                lambda h=headers, b=body: deliver(h, b, Client()).status_code,
                lambda o=order: order_close(order=o),
            ]
        )

        assert results[0] in (200, 204), results
        assert not isinstance(results[1], Exception), results
        order.refresh_from_db()
        payment.refresh_from_db()
        fulfilled = test_items.fulfilled.count(order.order_no)
        auto_refunds = Refund.objects.filter(payment=payment, kind="auto").count()
        if order.status == Order.Status.PAID:
            assert fulfilled == 1 and auto_refunds == 0 and not payment.needs_auto_refund
        else:
            assert order.status == Order.Status.CLOSED
            assert fulfilled == 0 and auto_refunds == 1 and payment.needs_auto_refund
        outcomes.append(order.status)
    if not wechat_close_wins:
        assert set(outcomes) == {Order.Status.PAID}  # WeChat answers ORDERPAID: the sweep marks it paid


def test_two_concurrent_self_refunds_make_one_refund(buyer, test_items):
    order = create_paid_order(user=buyer, item_type=TEST_ITEM, item_id="A")

    def self_refund():
        fresh = Order.objects.get(pk=order.pk)
        return refund_request(
            order=fresh, amount_fen=None, reason="并发退款", requested_by=buyer, self_service=True
        )

    results = run_together([self_refund, self_refund])

    refunds = [r for r in results if isinstance(r, Refund)]
    errors = [r for r in results if isinstance(r, ApplicationError)]
    assert len(refunds) == 1 and len(errors) == 1, results
    assert errors[0].code in ("refund_in_progress", "already_refunded")
    assert Refund.objects.count() == 1
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED and order.refunded_fen == 9900
    assert len(test_items.revoked) == 1 and len(test_items.refunded_listener) == 1


def test_query_sweep_and_notification_together_pay_once(buyer, fake_wechat, test_items):
    order = order_create(user=buyer, item_type=TEST_ITEM, item_id="A", channel="wechat_native")
    payment = payment_start(order=order)
    headers, body = fake_wechat.pay(payment.out_trade_no)
    fresh = Payment.objects.get(pk=payment.pk)

    run_together([lambda: deliver(headers, body, Client()).status_code, lambda: payment_sync(payment=fresh)])

    assert test_items.fulfilled == [order.order_no]
    assert OrderEvent.objects.filter(order=order, to_status="paid").count() == 1

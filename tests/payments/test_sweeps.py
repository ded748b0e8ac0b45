"""orders_sweep: query pending attempts at 5 and 15 minutes, close expired orders, retry refunds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from payments.models import Order, Payment, Refund
from payments.orders import tasks as order_tasks
from payments.orders.checkout import order_create
from payments.orders.notifications import notification_handle
from payments.orders.payment_attempts import order_close, payment_start
from payments.orders.refunds import refund_request
from tests.payments.catalog import TEST_ITEM

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(buyer, fake_wechat):
    order = order_create(user=buyer, item_type=TEST_ITEM, item_id="A", channel="wechat_native")
    payment = payment_start(order=order)
    return order, payment


def age(payment: Payment, minutes: int) -> None:
    Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - timedelta(minutes=minutes))


def queries(fake, payment) -> int:
    return sum(1 for m, p in fake.calls if m == "GET" and p.endswith(payment.out_trade_no))


def test_pending_payment_is_queried_at_5_and_15_minutes_only(pending, fake_wechat):
    _order, payment = pending
    age(payment, 4)
    order_tasks.orders_sweep()
    assert queries(fake_wechat, payment) == 0

    age(payment, 6)
    order_tasks.orders_sweep()
    order_tasks.orders_sweep()
    assert queries(fake_wechat, payment) == 1

    age(payment, 16)
    order_tasks.orders_sweep()
    order_tasks.orders_sweep()
    assert queries(fake_wechat, payment) == 2


def test_query_finds_payment_whose_notification_was_lost(pending, fake_wechat, test_items):
    order, payment = pending
    fake_wechat.pay(payment.out_trade_no)  # notification lost
    age(payment, 5)

    result = order_tasks.orders_sweep()

    order.refresh_from_db()
    assert order.status == Order.Status.PAID and result["paid"] == 1
    assert test_items.fulfilled == [order.order_no]


def test_expired_unpaid_order_is_closed_at_wechat_and_locally(pending, fake_wechat, test_items):
    order, payment = pending
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    order_tasks.orders_sweep()

    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == Order.Status.CLOSED and order.closed_at
    assert payment.status == Payment.Status.CLOSED
    assert fake_wechat.transactions[payment.out_trade_no]["trade_state"] == "CLOSED"
    assert list(order.events.values_list("to_status", "reason")) == [
        ("pending", "created"),
        ("closed", "expired"),
    ]


def test_close_answered_already_paid_marks_order_paid(pending, fake_wechat, test_items):
    order, payment = pending
    fake_wechat.pay(payment.out_trade_no)
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    order_tasks.orders_sweep()

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert test_items.fulfilled == [order.order_no]


def test_close_failure_keeps_order_pending_for_next_sweep(pending, fake_wechat):
    order, payment = pending
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    fake_wechat.pay_failures.append((500, {"code": "SYSTEM_ERROR", "message": "系统繁忙"}))

    order_tasks.orders_sweep()
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING

    order_tasks.orders_sweep()
    order.refresh_from_db()
    assert order.status == Order.Status.CLOSED


def test_refund_that_failed_to_reach_wechat_is_retried_with_same_out_refund_no(
    buyer, fake_wechat, test_items, django_capture_on_commit_callbacks
):
    from tests.payments.helpers import create_paid_order

    order = create_paid_order(
        user=buyer, item_type=TEST_ITEM, item_id="A", channel="wechat_native", fake=fake_wechat
    )
    fake_wechat.pay_failures.append((503, {"code": "SYSTEM_ERROR", "message": "系统繁忙"}))
    with django_capture_on_commit_callbacks(execute=True):
        refund = refund_request(
            order=order, amount_fen=None, reason="运营退款", requested_by=None, self_service=False
        )
    refund.refresh_from_db()
    assert refund.status == Refund.Status.PENDING and refund.attempts == 1 and refund.last_error
    Refund.objects.filter(pk=refund.pk).update(created_at=timezone.now() - timedelta(minutes=3))

    order_tasks.orders_sweep()

    refund.refresh_from_db()
    assert refund.status == Refund.Status.PROCESSING and refund.attempts == 2
    assert list(fake_wechat.refunds) == [refund.out_refund_no]

    fake_wechat.complete_refund(refund.out_refund_no)  # notification lost: the sweep queries
    order_tasks.orders_sweep()
    refund.refresh_from_db()
    order.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED and order.status == Order.Status.REFUNDED
    assert test_items.revoked == [(order.order_no, refund.out_refund_no)]


def test_refund_refused_by_wechat_returns_order_to_paid(
    buyer, fake_wechat, test_items, django_capture_on_commit_callbacks
):
    from tests.payments.helpers import create_paid_order

    order = create_paid_order(
        user=buyer, item_type=TEST_ITEM, item_id="A", channel="wechat_native", fake=fake_wechat
    )
    fake_wechat.pay_failures.append((403, {"code": "NOT_ENOUGH", "message": "基本账户余额不足"}))
    with django_capture_on_commit_callbacks(execute=True):
        refund = refund_request(
            order=order, amount_fen=500, reason="部分退款", requested_by=None, self_service=False
        )

    refund.refresh_from_db()
    order.refresh_from_db()
    assert refund.status == Refund.Status.CLOSED and "NOT_ENOUGH" in refund.last_error
    assert order.status == Order.Status.PAID and order.refunded_fen == 0
    assert test_items.revoked == []


def test_sweep_runs_one_at_a_time(settings):
    from django.core.cache import cache

    cache.add(order_tasks.SWEEP_LOCK, 1, timeout=60)
    assert order_tasks.orders_sweep() == {"skipped": 1}


def test_lost_auto_refund_is_started_by_the_sweep(pending, fake_wechat, test_items):
    order, payment = pending
    order_close(order=order)
    headers, body = fake_wechat.pay(payment.out_trade_no)
    # The notification is handled but the auto-refund hand-off after commit is lost (test transaction).
    notification_handle(
        body=body, meta={"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    )
    payment.refresh_from_db()
    assert payment.needs_auto_refund and not payment.refunds.exists()

    order_tasks.orders_sweep()
    order_tasks.orders_sweep()

    refund = payment.refunds.get()
    assert refund.kind == Refund.Kind.AUTO and refund.status == Refund.Status.PROCESSING
    assert list(fake_wechat.refunds) == [refund.out_refund_no]

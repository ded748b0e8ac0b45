"""The money path end to end with the sandbox: create → pay → fulfil once → refund → revoke once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import ApplicationError
from payments.items import ItemUnavailable
from payments.models import Order, OrderEvent, PaymentNotification, Refund
from payments.orders.checkout import order_create
from payments.orders.errors import IllegalTransition
from payments.orders.payment_attempts import payment_start
from payments.orders.refunds import refund_request
from payments.orders.transitions import order_transition
from tests.payments.catalog import TEST_ITEM
from tests.payments.helpers import create_paid_order, refund_order

pytestmark = pytest.mark.django_db


def test_order_snapshots_quote_price_title_and_lines(buyer):
    order = order_create(user=buyer, item_type=TEST_ITEM, item_id="B", channel="sandbox")

    assert order.status == Order.Status.PENDING
    assert (order.list_price_fen, order.discount_fen, order.amount_fen) == (360000, 36000, 324000)
    assert order.title == "测试商品 B"
    assert order.lines == [{"label": "会员折扣", "amount_fen": -36000}]
    assert order.context == {"sku": "B"}
    assert order.expires_at > timezone.now()
    assert list(order.events.values_list("to_status", flat=True)) == ["pending"]


def test_sandbox_purchase_is_paid_fulfilled_and_listened_once(buyer, test_items):
    order = create_paid_order(user=buyer, item_type=TEST_ITEM, item_id="A")

    assert order.status == Order.Status.PAID
    assert order.paid_at is not None
    assert test_items.fulfilled == [order.order_no]
    assert test_items.paid_listener == [order.order_no]
    note = PaymentNotification.objects.get()
    assert note.verified and note.outcome == PaymentNotification.Outcome.PROCESSED
    assert note.raw_body.startswith("{") and "HTTP_WECHATPAY_SIGNATURE" in note.headers
    assert [(e.from_status, e.to_status) for e in OrderEvent.objects.filter(order=order)] == [
        ("", "pending"),
        ("pending", "paid"),
    ]


def test_sandbox_refund_completes_through_notification_and_revokes_once(buyer, test_items):
    order = create_paid_order(user=buyer, item_type=TEST_ITEM, item_id="A")

    refund = refund_order(order=order)

    assert refund.status == Refund.Status.SUCCEEDED
    assert order.status == Order.Status.REFUNDED
    assert order.refunded_fen == 9900
    assert test_items.revoked == [(order.order_no, refund.out_refund_no)]
    assert test_items.refunded_listener == [(order.order_no, refund.out_refund_no)]
    assert PaymentNotification.objects.filter(event_type="REFUND.SUCCESS", outcome="processed").count() == 1


def test_partial_refunds_then_full(buyer, test_items):
    order = create_paid_order(user=buyer, item_type=TEST_ITEM, item_id="A")

    refund_order(order=order, amount_fen=900)
    assert order.status == Order.Status.PARTIALLY_REFUNDED and order.refunded_fen == 900
    refund_order(order=order)
    assert order.status == Order.Status.REFUNDED and order.refunded_fen == 9900
    assert len(test_items.revoked) == 2


def test_free_order_is_paid_at_once(buyer, test_items):
    order = order_create(user=buyer, item_type=TEST_ITEM, item_id="FREE", channel="sandbox")

    assert order.status == Order.Status.PAID and order.amount_fen == 0
    assert test_items.fulfilled == [order.order_no]


@pytest.mark.parametrize(
    "item_type,item_id", [("test_item", "NOPE"), ("test_item", "OFF"), ("no_such_type", "1")]
)
def test_order_for_missing_or_unsellable_item_is_refused(buyer, item_type, item_id):
    with pytest.raises(ItemUnavailable):
        order_create(user=buyer, item_type=item_type, item_id=item_id, channel="sandbox")
    assert not Order.objects.exists()


def test_sandbox_channel_refused_when_disabled(buyer, settings):
    settings.PAYMENTS_SANDBOX_ENABLED = False

    with pytest.raises(ApplicationError) as exc:
        order_create(user=buyer, item_type=TEST_ITEM, item_id="A", channel="sandbox")
    assert exc.value.code == "channel_unavailable"


def test_illegal_transition_is_refused_and_leaves_no_audit_row(buyer):
    order = order_create(user=buyer, item_type=TEST_ITEM, item_id="A", channel="sandbox")

    with pytest.raises(IllegalTransition):
        order_transition(order=order, to=Order.Status.REFUNDED, reason="test")
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert order.events.count() == 1


def test_self_refund_inside_window_then_twice_is_refused(
    buyer, test_items, django_capture_on_commit_callbacks
):
    order = create_paid_order(user=buyer, item_type=TEST_ITEM, item_id="A")

    with django_capture_on_commit_callbacks(execute=True):
        refund_request(order=order, amount_fen=None, reason="不想要了", requested_by=buyer, self_service=True)
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED

    with pytest.raises(ApplicationError) as exc:
        refund_request(order=order, amount_fen=None, reason="再退", requested_by=buyer, self_service=True)
    assert exc.value.code == "already_refunded"
    assert Refund.objects.count() == 1
    assert len(test_items.revoked) == 1


def test_self_refund_after_window_is_refused(buyer):
    order = create_paid_order(user=buyer, item_type=TEST_ITEM, item_id="A")
    Order.objects.filter(pk=order.pk).update(paid_at=timezone.now() - timedelta(days=3, minutes=1))
    order.refresh_from_db()

    with pytest.raises(ApplicationError) as exc:
        refund_request(order=order, amount_fen=None, reason="晚了", requested_by=buyer, self_service=True)
    assert exc.value.code == "refund_window_closed"
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and not Refund.objects.exists()


def test_referral_code_and_referrer_from_quote_adjuster_are_stored(buyer, other_user):
    from payments import items

    def adjuster(*, user, item_type, item_id, quote, referral_code, coupon_code=""):
        if referral_code == "FRIEND":
            return quote.with_line("推荐价", -900, referrer_id=other_user.pk)
        return quote

    items.add_quote_adjuster(adjuster)
    try:
        order = order_create(
            user=buyer, item_type=TEST_ITEM, item_id="A", channel="sandbox", referral_code="FRIEND"
        )
        plain = order_create(user=buyer, item_type=TEST_ITEM, item_id="A", channel="sandbox")
    finally:
        items._quote_adjusters.remove(adjuster)

    assert order.referral_code == "FRIEND" and order.referrer == other_user
    assert order.amount_fen == 9000 and order.discount_fen == 900
    assert plain.referrer is None and plain.amount_fen == 9900


def test_expired_order_cannot_be_paid_again(buyer):
    order = order_create(user=buyer, item_type=TEST_ITEM, item_id="A", channel="sandbox")
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    order.refresh_from_db()

    with pytest.raises(ApplicationError) as exc:
        payment_start(order=order)
    assert exc.value.code == "order_expired"

"""Helpers other apps' tests use to buy and refund through the real payments services.

- `create_paid_order(*, user, item_type, item_id, channel="sandbox", referral_code="", coupon_code="") -> Order`
- `refund_order(*, order, amount_fen=None) -> Refund` (runs the refund to completion)

With the sandbox channel both go the whole way: order_create → payment_start → the sandbox cashier
signs a v3 notification → the real notify view verifies it → payment_confirm (fulfil + listeners);
refunds finish through a signed REFUND.SUCCESS notification (revoke + listeners). on_commit
callbacks are executed, so this works inside ordinary `django_db` tests.
"""

from __future__ import annotations

import secrets

from django.test import TestCase
from django.utils import timezone

from payments.models import Channel, Order, Payment, PaymentNotification, Refund
from payments.orders.checkout import order_create
from payments.orders.notifications import notification_handle
from payments.orders.payment_attempts import payment_confirm, payment_start
from payments.orders.refunds import refund_complete, refund_request


def create_paid_order(
    *,
    user,
    item_type: str,
    item_id: str,
    channel: str = "sandbox",
    referral_code: str = "",
    coupon_code: str = "",
    fake=None,
) -> Order:
    """Buy an item and pay for it. With `fake` (the fake_wechat fixture) WeChat channels pay for real."""
    from payments.gateways import sandbox

    with TestCase.captureOnCommitCallbacks(execute=True):
        order = order_create(
            user=user,
            item_type=item_type,
            item_id=str(item_id),
            channel=channel,
            referral_code=referral_code,
            coupon_code=coupon_code,
        )
        if order.status != Order.Status.PENDING:
            return order
        if channel == Channel.SANDBOX:
            payment = payment_start(order=order, channel=channel)
            status = sandbox.sandbox_pay(payment.out_trade_no)
            if status >= 300:  # show why (e.g. the item type's fulfil raised) instead of a bare status
                note = PaymentNotification.objects.filter(out_trade_no=payment.out_trade_no).first()
                raise AssertionError(f"sandbox notification answered {status}: {note.error if note else '?'}")
        elif fake is not None:
            payment = payment_start(order=order, channel=channel, payer_openid="o_test_payer")
            headers, body = fake.pay(payment.out_trade_no)
            result = notification_handle(
                body=body, meta={"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
            )
            assert result.status < 300, result
        else:  # a WeChat channel without a fake: record the payment WeChat would have confirmed
            payment = Payment.objects.create(
                order=order,
                channel=channel,
                out_trade_no=f"{order.order_no}{secrets.token_hex(3).upper()}",
                amount_fen=order.amount_fen,
                status=Payment.Status.PREPAID,
            )
            payment_confirm(
                out_trade_no=payment.out_trade_no,
                transaction_id="4200" + secrets.token_hex(12),
                amount_fen=payment.amount_fen,
                paid_at=timezone.now(),
            )
    order.refresh_from_db()
    assert order.status == Order.Status.PAID, order.status
    return order


def refund_order(*, order: Order, amount_fen: int | None = None, reason: str = "测试退款") -> Refund:
    """Refund (operator-style, no window) and run it to completion (revoke + listeners once)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        refund = refund_request(
            order=order, amount_fen=amount_fen, reason=reason, requested_by=None, self_service=False
        )
    refund.refresh_from_db()
    if refund.status in Refund.ACTIVE and refund.payment.channel != Channel.SANDBOX:
        with TestCase.captureOnCommitCallbacks(execute=True):
            refund_complete(out_refund_no=refund.out_refund_no, status="SUCCESS")
        refund.refresh_from_db()
    order.refresh_from_db()
    return refund

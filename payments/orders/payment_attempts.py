"""Payment attempts: asking WeChat (or the sandbox) to collect an order, and recording the answer.

`payment_start` writes a `Payment` attempt and asks for prepay parameters; `payment_confirm` records a
successful payment exactly once (from a notification or a query) and marks the order paid;
`payment_sync` queries an attempt; `order_close` closes an unpaid order at the provider and here.
Every provider call follows the three steps of docs/architecture.md §4: write and commit, call
WeChat with no lock held, lock again and re-check before recording.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from core.models import WeChatIdentity
from payments.gateways import gateway_for
from payments.gateways.base import GatewayError, PrepayRequest
from payments.gateways.wechatpay import appid_for
from payments.models import Channel, Order, Payment
from payments.orders.checkout import channel_check
from payments.orders.errors import AmountMismatch, unknown_record
from payments.orders.tasks import enqueue_after_commit
from payments.orders.transitions import order_lock, order_mark_paid, order_transition

logger = logging.getLogger(__name__)

S = Order.Status


def payer_openid_for(*, user: Any, channel: str) -> str:
    identity_kinds: dict[str, str] = {
        Channel.WECHAT_MINIPROGRAM: WeChatIdentity.Kind.MINIPROGRAM,
        Channel.WECHAT_JSAPI: WeChatIdentity.Kind.OFFICIAL_ACCOUNT,
    }
    kind = identity_kinds.get(channel)
    if kind is None:
        return ""
    identity = (
        WeChatIdentity.objects.filter(user=user, kind=kind, appid=appid_for(channel)).order_by("-id").first()
        or WeChatIdentity.objects.filter(user=user, kind=kind).order_by("-id").first()
    )
    return identity.openid if identity else ""


def payment_start(
    *, order: Order, channel: str | None = None, client_ip: str = "", payer_openid: str = ""
) -> Payment:
    """Create a payment attempt (committed), then ask the gateway for client parameters.

    Reuses the latest prepaid attempt of the same channel while it is fresh (prepay_id lives 2 h).
    Must not be called inside a transaction that holds locks (it calls WeChat).
    """
    channel = channel or order.channel
    channel_check(channel)
    if order.status != S.PENDING:
        raise ApplicationError("order_not_pending", _("订单已支付或已关闭"), status_code=409)
    if order.expires_at <= timezone.now():
        raise ApplicationError("order_expired", _("订单已过期，请重新下单"), status_code=409)
    # Native/H5 reuse a fresh prepaid attempt; JSAPI and the mini-program always start a new one, so
    # they do not look (one query less on every mini-program order).
    if channel not in (Channel.WECHAT_MINIPROGRAM, Channel.WECHAT_JSAPI):
        reusable = (
            order.payments.filter(
                channel=channel,
                status=Payment.Status.PREPAID,
                amount_fen=order.amount_fen,
                created_at__gte=timezone.now() - timedelta(minutes=90),
            )
            .order_by("-created_at")
            .first()
        )
        if reusable is not None:
            return reusable
    openid = payer_openid or payer_openid_for(user=order.user, channel=channel)
    if channel in (Channel.WECHAT_MINIPROGRAM, Channel.WECHAT_JSAPI) and not openid:
        raise ApplicationError("openid_required", _("请先用微信登录后再支付"))
    payment = Payment.objects.create(
        order=order,
        channel=channel,
        out_trade_no=f"{order.order_no}{secrets.token_hex(3).upper()}",
        amount_fen=order.amount_fen,
        payer_openid=openid,
    )
    request = PrepayRequest(
        out_trade_no=payment.out_trade_no,
        amount_fen=payment.amount_fen,
        description=order.title,
        expires_at=order.expires_at,
        payer_openid=openid,
        client_ip=client_ip,
    )
    try:
        params = gateway_for(channel).prepay(request)
    except GatewayError as exc:
        Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.FAILED, error=str(exc)[:255])
        raise ApplicationError("payment_unavailable", _("发起支付失败，请稍后重试"), status_code=502) from exc
    Payment.objects.filter(pk=payment.pk, status=Payment.Status.CREATED).update(
        status=Payment.Status.PREPAID, client_params=params
    )
    payment.status, payment.client_params = Payment.Status.PREPAID, params
    return payment


def payment_confirm(
    *,
    out_trade_no: str,
    transaction_id: str,
    amount_fen: int,
    paid_at: datetime | None,
    payer_openid: str = "",
) -> Order:
    """Record a successful payment exactly once (idempotent; safe under concurrent deliveries).

    A payment for an order that is no longer pending (closed, or paid by another attempt) is kept
    and refunded automatically after commit.
    """
    # No savepoint when nested (the notify handler's transaction): any error aborts both anyway.
    with transaction.atomic(savepoint=False):
        # Parent before child: lock the order (found through its payment), then the payment, whose
        # status is re-checked under its lock: succeeded means another delivery or a query already
        # recorded it. Plain ORM: docs/benchmarks.md measures no user-facing gain (>= 10%) from folding
        # these reads into the UPDATE, so the clearer code wins.
        order = (
            Order.objects.select_for_update(of=("self",)).filter(payments__out_trade_no=out_trade_no).first()
        )
        if order is None:
            raise unknown_record("out_trade_no")
        payment = Payment.objects.select_for_update(of=("self",)).get(order=order, out_trade_no=out_trade_no)
        if int(amount_fen) != payment.amount_fen or payment.amount_fen != order.amount_fen:
            raise AmountMismatch(payment.amount_fen, int(amount_fen))
        if payment.status == Payment.Status.SUCCEEDED:
            return order
        paid = paid_at or timezone.now()
        payment.status = Payment.Status.SUCCEEDED
        payment.transaction_id = transaction_id or None
        payment.paid_at = paid
        payment.needs_auto_refund = order.status != S.PENDING
        fields = ["status", "transaction_id", "paid_at", "needs_auto_refund", "updated_at"]
        if payer_openid:
            payment.payer_openid = payer_openid
            fields.append("payer_openid")
        payment.save(update_fields=fields)
        if order.status == S.PENDING:
            order_mark_paid(order=order, payment=payment, paid_at=paid, reason="payment")
        else:
            logger.warning(
                "payment %s arrived for order %s in %s: auto refund", out_trade_no, order, order.status
            )
            payment_id = payment.pk
            transaction.on_commit(lambda: enqueue_after_commit("refund_auto_start", payment_id))
    return order


def payment_sync(*, payment: Payment) -> str:
    """Ask the provider about one attempt and record what it says (no lock held while asking)."""
    try:
        state = gateway_for(payment.channel).query(payment.out_trade_no)
    except GatewayError as exc:
        logger.info("query %s failed: %s", payment.out_trade_no, exc)
        return "error"
    Payment.objects.filter(pk=payment.pk).update(
        queried_at=timezone.now(), query_count=payment.query_count + 1
    )
    if state.paid:
        try:
            payment_confirm(
                out_trade_no=payment.out_trade_no,
                transaction_id=state.transaction_id,
                amount_fen=state.amount_fen,
                paid_at=state.paid_at,
                payer_openid=state.payer_openid,
            )
        except AmountMismatch:
            logger.error("amount mismatch on query of %s", payment.out_trade_no)
            return "mismatch"
        return "paid"
    return state.state.lower()


def order_close(*, order: Order, reason: str = "expired") -> Order:
    """Close an unpaid order: close every open attempt at the provider first (outside locks).

    A close answered 'already paid' queries and marks the order paid instead.
    """
    open_payments = list(order.payments.filter(status__in=[Payment.Status.CREATED, Payment.Status.PREPAID]))
    for payment in open_payments:
        try:
            result = gateway_for(payment.channel).close(payment.out_trade_no)
        except GatewayError as exc:
            logger.info("close %s failed: %s", payment.out_trade_no, exc)
            return order  # try again on the next sweep; never close locally what WeChat may still take
        if result == "paid":
            payment_sync(payment=payment)
            order.refresh_from_db()
            return order
    with transaction.atomic():
        locked = order_lock(order.pk)
        if locked.status != S.PENDING:
            return locked
        # A payment recorded meanwhile (notification) wins: re-check under the lock.
        if locked.payments.filter(status=Payment.Status.SUCCEEDED).exists():  # pragma: no cover
            return locked
        Payment.objects.filter(
            order=locked, status__in=[Payment.Status.CREATED, Payment.Status.PREPAID]
        ).update(status=Payment.Status.CLOSED, updated_at=timezone.now())
        order_transition(order=locked, to=S.CLOSED, reason=reason)
    return locked


def order_cancel_by_member(*, order: Order) -> Order:
    """取消订单: the member gives up an unpaid order (what a refusal such as `membership_order_pending`
    asks of them). WeChat closes the payment first (`order_close`); an order WeChat says was paid
    meanwhile comes back paid, never closed. Raises `order_not_pending` (409) for an order that is not
    waiting for payment and `order_close_failed` (503) when WeChat did not answer."""
    if order.status != S.PENDING:
        raise ApplicationError("order_not_pending", _("只有待支付的订单可以取消"), status_code=409)
    order = order_close(order=order, reason="member")
    if order.status == S.PENDING:  # WeChat did not answer: never close what it may still take
        raise ApplicationError("order_close_failed", _("暂时无法取消订单，请稍后重试"), status_code=503)
    return order

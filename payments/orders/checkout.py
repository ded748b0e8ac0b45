"""Checkout: pricing an item for a member and creating its order, paid or given away.

`order_create` prices through the item registry (`payments.items.quote`) and writes a pending order
(a zero amount is paid at once); `order_create_free` gives an item away (points mall, operator
grants, group-buy gifts) through the same paid path. Paying an order is `payment_attempts`.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from payments import items
from payments.models import Channel, Order, OrderEvent
from payments.orders.transitions import order_mark_paid

S = Order.Status


def order_ttl() -> timedelta:
    """How long a pending order can be paid before the sweep closes it."""
    return timedelta(minutes=getattr(settings, "PAYMENTS_ORDER_TTL_MINUTES", 30))


def order_no_at(moment: datetime, *, serial: int | None = None) -> str:
    """The number of an order created at `moment`: its local time to the second, then six digits
    (random; `serial` when the caller chooses them, as the demo history's generator does)."""
    digits = secrets.randbelow(10**6) if serial is None else serial % 10**6
    return timezone.localtime(moment).strftime("%Y%m%d%H%M%S") + f"{digits:06d}"


def _new_order_no() -> str:
    return order_no_at(timezone.now())


def web_checkout_url(*, item_type: str, item_id: str) -> str:
    try:
        path = reverse("payments:checkout")
    except NoReverseMatch:  # pragma: no cover - urls always installed in the project
        path = "/payments/checkout/"
    return f"{settings.SITE_URL}{path}?{urlencode({'item_type': item_type, 'item_id': item_id})}"


def channel_check(channel: str) -> None:
    if channel not in Channel.values:
        raise ApplicationError(
            "invalid_channel", _("不支持的支付方式"), fields={"channel": [_("不支持的支付方式")]}
        )
    if channel == Channel.SANDBOX and not settings.PAYMENTS_SANDBOX_ENABLED:
        raise ApplicationError("channel_unavailable", _("沙箱支付仅用于开发和演示环境"))


def _order_open(*, user: Any, **fields: Any) -> Order:
    """The order row and its "created" audit event: how every order, bought or given, begins (pending)."""
    order = Order.objects.create(order_no=_new_order_no(), user=user, **fields)
    OrderEvent.objects.create(order=order, from_status="", to_status=S.PENDING, reason="created", actor=user)
    return order


# A buyer may start a second attempt (another device, another way to pay) before the first
# expires; a third unpaid order for the same item is refused, so nobody stacks payable orders for
# one thing (each extra payment would have to be refunded).
MAX_PENDING_ORDERS_PER_ITEM = 2


def order_create(
    *,
    user: Any,
    item_type: str,
    item_id: str,
    channel: str,
    referral_code: str = "",
    coupon_code: str = "",
    platform: str = "",
) -> Order:
    """Price the item for the user (payments.items.quote) and create a pending order.

    `coupon_code` is priced by the coupon adjuster and reserved by the opened listeners (in this
    transaction) until the order is paid or closes.

    Refuses unknown/unsellable items (ItemUnavailable), the sandbox outside development, and WeChat
    Pay for virtual goods in an iOS mini-program (`ios_virtual_payment_unsupported` + web link).
    """
    channel_check(channel)
    kind = items.get(item_type)
    item_id = str(item_id).strip()
    if not item_id:
        raise items.ItemUnavailable()
    if platform.lower() == "ios" and kind.virtual and channel == Channel.WECHAT_MINIPROGRAM:
        raise ApplicationError(
            "ios_virtual_payment_unsupported",
            _("根据微信规定，iOS 小程序内不能购买虚拟商品，请在网页中完成购买"),
            extra={"web_checkout_url": web_checkout_url(item_type=item_type, item_id=item_id)},
        )
    pending = Order.objects.filter(
        user=user, item_type=item_type, item_id=item_id, status=S.PENDING, expires_at__gt=timezone.now()
    ).values_list("order_no", flat=True)[: MAX_PENDING_ORDERS_PER_ITEM + 1]
    if len(pending) >= MAX_PENDING_ORDERS_PER_ITEM:
        raise ApplicationError(
            "too_many_pending_orders",
            _("该商品已有未支付的订单，请先完成支付或等待其关闭"),
            status_code=409,
            extra={"pending_order_nos": list(pending)},
        )
    coupon_code = (coupon_code or "").strip()
    quote = items.quote(
        user=user, item_type=item_type, item_id=item_id, referral_code=referral_code, coupon_code=coupon_code
    )
    referrer_id = quote.context.get("referrer_id")
    if referrer_id == getattr(user, "pk", None):
        referrer_id = None
    sales_rep_id = quote.context.get("sales_rep_id")
    if sales_rep_id == getattr(user, "pk", None):
        sales_rep_id = None
    now = timezone.now()
    with transaction.atomic():
        order = _order_open(
            user=user,
            item_type=item_type,
            item_id=item_id,
            title=quote.title[:200],
            list_price_fen=quote.list_price_fen,
            discount_fen=quote.discount_fen,
            amount_fen=quote.amount_fen,
            channel=channel,
            platform=platform[:16],
            referral_code=(referral_code or "")[:64],
            referrer_id=referrer_id,
            sales_rep_id=sales_rep_id,
            context=quote.context,
            lines=[{"label": line.label, "amount_fen": line.amount_fen} for line in quote.lines],
            expires_at=now + order_ttl(),
        )
        for listener in items.opened_listeners():  # reserve what the quote promised, or refuse
            listener(order)
        if order.amount_fen == 0:
            # Nothing to collect (e.g. an upgrade fully covered by credit): paid at once, same effects.
            order_mark_paid(order=order, payment=None, paid_at=now, reason="free")
    return order


# Free grants (points mall, operator grants, group-buy gifts …) -------------------------------------------


def order_create_free(
    *,
    user: Any,
    item_type: str,
    item_id: str,
    reason: str,
    channel: str = "points",
    funded_by: Order | None = None,
) -> Order:
    """Give an item away through the registry: a zero-amount order, marked paid at once.

    The normal paid path runs (the item type's `fulfill`, then the paid listeners, once, in this
    transaction), so a points redemption or an operator grant is indistinguishable from a purchase to
    the app that fulfils it. `channel` records where it came from ("points", "grant", "group_buy"…);
    payment channels are refused. Such orders have no payment and cannot be refunded for money.

    `funded_by`: the paid order this gift stands for (a group-buy seat): the grant is worth what that
    order paid (`context["funded_fen"]`, e.g. as upgrade credit) and ends when that order is refunded.
    """
    channel = (channel or "").strip()
    if not channel or len(channel) > 32 or channel in Channel.values:
        raise ApplicationError(
            "invalid_channel", _("赠送订单的来源无效"), fields={"channel": [_("须为非支付渠道的来源标识")]}
        )
    kind = items.get(item_type)
    item_id = str(item_id).strip()
    if not item_id:
        raise items.ItemUnavailable()
    # free_grant: item types only ever given away (the members app's `membership_days`) quote only so.
    quote = kind.quote(user=user, item_id=item_id, free_grant=True)
    reason = (reason or "").strip()[:64] or channel
    now = timezone.now()
    lines = [{"label": line.label, "amount_fen": line.amount_fen} for line in quote.lines]
    if quote.amount_fen:
        lines.append({"label": reason, "amount_fen": -quote.amount_fen})
    with transaction.atomic():
        order = _order_open(
            user=user,
            item_type=item_type,
            item_id=item_id,
            title=quote.title[:200],
            list_price_fen=quote.list_price_fen,
            discount_fen=quote.list_price_fen,
            amount_fen=0,
            channel=channel,
            context={
                **quote.context,
                "free_reason": reason,
                "free_channel": channel,
                **({"funded_fen": funded_by.amount_fen - funded_by.refunded_fen} if funded_by else {}),
            },
            lines=lines,
            expires_at=now,
            funded_by=funded_by,
        )
        order_mark_paid(order=order, payment=None, paid_at=now, reason=f"free:{channel}"[:64])
    return order


def order_change_channel(*, order: Order, channel: str) -> Order:
    """The buyer switches payment method on the cashier page (pending orders only)."""
    channel_check(channel)
    if order.channel != channel and order.status == S.PENDING:
        Order.objects.filter(pk=order.pk, status=S.PENDING).update(channel=channel)
        order.channel = channel
    return order

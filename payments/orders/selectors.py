"""Order reads shared by pages, the API and the services: visibility, payments, the refund window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from core.discovery import app_modules
from payments import items
from payments.models import Order, Payment, Refund


def orders_for_user(user: Any) -> QuerySet[Order]:
    return Order.objects.filter(user=user).order_by("-created_at")


def order_get_for_user(*, user: Any, order_no: str) -> Order:
    """The order if this user may see it; 404 otherwise (never leak existence)."""
    if not getattr(user, "is_authenticated", False):
        raise Http404
    order = Order.objects.filter(user=user, order_no=order_no).first()
    if order is None:
        raise Http404
    return order


def payment_for_out_trade_no(out_trade_no: str) -> Payment | None:
    return Payment.objects.select_related("order").filter(out_trade_no=out_trade_no).first()


def order_latest_payment(order: Order, *, channel: str | None = None) -> Payment | None:
    qs = order.payments.exclude(status=Payment.Status.FAILED)
    if channel:
        qs = qs.filter(channel=channel)
    return qs.order_by("-created_at").first()


def order_active_refund(order: Order) -> Refund | None:
    return order.refunds.filter(status__in=Refund.ACTIVE).order_by("-created_at").first()


def refund_window_open(order: Order, *, now: datetime | None = None) -> bool:
    """Whether the buyer may still refund the order themselves (the item type's refund window)."""
    if order.paid_at is None:
        return False
    window = items.get(order.item_type).refund_window_for(order=order)
    return (now or timezone.now()) <= order.paid_at + window


def order_can_self_refund(order: Order) -> bool:
    return order.status == Order.Status.PAID and refund_window_open(order)


@dataclass(frozen=True)
class RefundPreview:
    """What a self-service refund of the order would do, as the buyer reads it before confirming."""

    amount_fen: int
    terms: tuple[items.RefundTerm, ...]

    @property
    def refusal(self) -> items.RefundTerm | None:
        return next((term for term in self.terms if term.refusal_code), None)

    @property
    def allowed(self) -> bool:
        return self.amount_fen > 0 and self.refusal is None

    @property
    def losses(self) -> list[str]:
        return [term.text for term in self.terms if not term.refusal_code]


def refund_preview(order: Order) -> RefundPreview | None:
    """The refund preview of a self-service (full) refund; None when the order cannot be refunded
    by its buyer at all (not paid, or outside the refund window)."""
    if not order_can_self_refund(order) or order.amount_fen == 0:  # a gift has no money to return
        return None
    amount = order.refundable_fen
    return RefundPreview(amount_fen=amount, terms=tuple(items.refund_terms(order=order, amount_fen=amount)))


def no_self_refund_reason(order: Order) -> str:
    """Why a paid order offers its buyer no refund button, in their words; "" when it does (or when the
    order is not a paid one). The order page says this instead of leaving the buyer to guess."""
    if order.status != Order.Status.PAID:
        return ""
    if order.amount_fen == 0:
        return _("这笔订单未付款（兑换码、积分兑换或赠送），没有可退的金额；如需调整请联系客服。")
    if not refund_window_open(order):
        window = items.get(order.item_type).refund_window_for(order=order)
        return _("已超过自助退款期限（支付后 %(days)s 天内可申请）；如需帮助请联系客服。") % {
            "days": max(1, window.days)
        }
    return ""


def paid_orders_for_item(*, user: Any, item_type: str, item_id: str) -> QuerySet[Order]:
    return Order.objects.filter(
        user=user,
        item_type=item_type,
        item_id=str(item_id),
        status__in=[Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED, Order.Status.REFUNDING],
    )


def purchase_destination(order: Order) -> tuple[str, str] | None:
    """Where a paid order sends the member (the course, circle, ticket, term …) and the button's words:
    each app answers for its own item types through `<app>.home.order_destination` (payments never
    imports them). None while the order is not paid, or for items with no page of their own."""
    if order.status != Order.Status.PAID:
        return None
    for module in app_modules("home"):
        answer = getattr(module, "order_destination", None)
        found: tuple[str, str] | None = answer(order) if answer is not None else None
        if found:
            return found
    return None

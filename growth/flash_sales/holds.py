"""The units of a flash sale held by orders (`payments.items.on_opened` / `on_closed` / `on_paid`).

A pending order priced at the sale price (`flash_sale_id` in its context) takes a unit when it is
created, in the same transaction, with the sale's row locked: the last unit raced by many buyers goes
to exactly one, and the others are refused (`flash_sale_sold_out`) with nothing written. The unit is
returned when the order closes unpaid (sweep, member cancel, WeChat closed) and counted sold when it
is paid. A refund does not return it: the stock is how many sales the creator offered at that price,
and a unit that came back on refund would let one buyer pay, refund and buy again.

Lock order: the order (the caller's), then the hold, then the sale — the same in every path here.
"""

from __future__ import annotations

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from growth.flash_sales.selectors import TAKEN_STATES
from growth.models import FlashSale, FlashSaleHold

H = FlashSaleHold.State


def sold_out() -> ApplicationError:
    return ApplicationError(
        "flash_sale_sold_out", _("限时特价已被抢完，刷新后可按当前价格购买"), status_code=409
    )


def hold_open(order) -> FlashSaleHold | None:
    """Take a unit for a new order priced by a sale, or refuse the order (409; nothing is written)."""
    sale_id = order.context.get("flash_sale_id")
    if not sale_id:
        return None
    sale = FlashSale.objects.select_for_update().filter(pk=sale_id).first()
    if sale is None or not sale.running_at(timezone.now()):
        raise ApplicationError(
            "flash_sale_ended", _("限时特价已结束，刷新后可按当前价格购买"), status_code=409
        )
    if sale.held + sale.sold >= sale.stock:
        raise sold_out()
    taken = FlashSaleHold.objects.filter(sale=sale, user=order.user, state__in=TAKEN_STATES).count()
    if taken >= sale.per_member_limit:
        raise ApplicationError(
            "flash_sale_limit_reached",
            _("限时特价每人限购 %(n)s 件，你已购买或有待支付的订单") % {"n": sale.per_member_limit},
            status_code=409,
        )
    hold = FlashSaleHold.objects.create(sale=sale, order=order, user=order.user)
    FlashSale.objects.filter(pk=sale.pk).update(held=F("held") + 1)
    return hold


def _hold_end(order, to: str) -> bool:
    if not order.context.get("flash_sale_id"):
        return False  # not priced by a sale: no hold to look for (most orders; no query)
    hold = FlashSaleHold.objects.filter(order=order, state=H.HELD).only("pk", "sale_id").first()
    if hold is None:
        return False
    # The order is locked by the caller, so its hold moves once; the state check makes it idempotent.
    if not FlashSaleHold.objects.filter(pk=hold.pk, state=H.HELD).update(state=to, ended_at=timezone.now()):
        return False
    counts = {"held": F("held") - 1}
    if to == H.SOLD:
        counts["sold"] = F("sold") + 1
    FlashSale.objects.filter(pk=hold.sale_id).update(**counts)
    return True


def hold_release(order) -> bool:
    """The order closed unpaid: its unit is back in stock for the next buyer."""
    return _hold_end(order, H.RELEASED)


def hold_sell(order) -> bool:
    """The order was paid: its unit is sold (and stays sold if the order is later refunded)."""
    return _hold_end(order, H.SOLD)

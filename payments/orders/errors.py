"""The errors the order services raise when a request does not fit the order's state or amount."""

from __future__ import annotations

from django.utils.translation import gettext as _

from core.errors import ApplicationError
from payments.models import Order, Refund


class IllegalTransition(ApplicationError):
    def __init__(self, order: Order, to: str):
        super().__init__(
            "illegal_transition",
            _("订单状态不允许此操作"),
            status_code=409,
            extra={"from": order.status, "to": to},
        )


class IllegalRefundTransition(ApplicationError):
    def __init__(self, refund: Refund, to: str):
        super().__init__(
            "illegal_refund_transition",
            _("退款状态不允许此操作"),
            status_code=409,
            extra={"from": refund.status, "to": to},
        )


class AmountMismatch(ApplicationError):
    def __init__(self, expected: int, got: int):
        super().__init__(
            "amount_mismatch",
            _("金额与订单不一致"),
            status_code=400,
            extra={"expected_fen": expected, "got_fen": got},
        )


def unknown_record(what: str) -> ApplicationError:
    """A provider's reference (out_trade_no, out_refund_no) that matches nothing of ours: 404."""
    return ApplicationError(f"unknown_{what}", _("找不到对应的记录"), status_code=404)

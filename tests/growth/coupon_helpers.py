"""Builders for the coupon tests: coupons made as an operator would, copies issued through the service."""

from __future__ import annotations

from growth.coupons.issuing import coupon_issue
from growth.models import Coupon, MemberCoupon
from payments.models import Order
from payments.orders.checkout import order_create


def make_coupon(**fields) -> Coupon:
    defaults = {"name": "新人50元券", "kind": Coupon.Kind.AMOUNT, "amount_off_fen": 5_000}
    return Coupon.objects.create(**{**defaults, **fields})


def give(coupon: Coupon, user, *, key: str = "test") -> MemberCoupon:
    result = coupon_issue(
        coupon=coupon, users=[user], source=MemberCoupon.Source.OPERATOR, actor=None, source_key=key
    )
    assert len(result.issued) == 1, result
    return MemberCoupon.objects.get(coupon=coupon, user=user, source_key=key)


def open_order(user, item_type: str, item_id, coupon_code: str = "") -> Order:
    """A pending order through the real checkout service (sandbox channel)."""
    return order_create(
        user=user, item_type=item_type, item_id=str(item_id), channel="sandbox", coupon_code=coupon_code
    )

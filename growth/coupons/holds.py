"""A coupon through an order's life, wired to the item registry in growth/apps.py:

- `coupon_hold` (opened): in the transaction that creates the order, lock the coupon, check the limits
  again and hold the member's copy (issuing one for a public code). Holds of one coupon queue on its
  row, so a total limit or a per-member limit of 1 raced by concurrent orders gives exactly the limit;
  a refusal raises and no order is written.
- `coupon_release` (closed): the order closed unpaid (sweep, member cancel, WeChat closed): the copy is
  available again.
- `coupon_redeem` (paid): the copy is used; a `CouponRedemption` per order (unique) is what reports read.
- `coupon_return_for_refund` (refunded): a FULL refund gives the copy back only while the copy is still
  inside its validity window (and neither it nor its coupon was ended); otherwise it stays used.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from growth.coupons import issuing, rules
from growth.models import Coupon, CouponRedemption, MemberCoupon
from payments.items import RefundTerm
from payments.models import Order

S = MemberCoupon.State


def coupon_hold(order: Order) -> None:
    context = order.context or {}
    coupon_id = context.get("coupon_id")
    if not coupon_id:
        return
    now = timezone.now()
    # Lock order: the order (new, ours), then the coupon, then the copy (growth/coupons/issuing.py too).
    coupon = Coupon.objects.select_for_update().get(pk=coupon_id)
    copy_id = context.get("member_coupon_id")
    if copy_id:
        copy = MemberCoupon.objects.select_for_update().filter(pk=copy_id, user_id=order.user_id).first()
        if copy is None:
            raise rules.invalid()
        copy.coupon = coupon
    else:
        copy = None
    usage = rules.usage_of(coupon, order.user)
    # The price was checked by the quote just before this transaction; what other orders can change
    # meanwhile (the copy's state, the counts) is checked again now that the coupon is locked.
    rules.state_check(coupon, copy, now)
    rules.limits_check(coupon, copy, usage, now)
    if copy is None:  # a public code the member holds no copy of: issued now, with the order
        entered = MemberCoupon.objects.filter(
            coupon=coupon, user_id=order.user_id, source=MemberCoupon.Source.PUBLIC_CODE
        ).count()
        copy = issuing.copy_create(
            coupon=coupon,
            user=order.user,
            source=MemberCoupon.Source.PUBLIC_CODE,
            source_key=f"code-{entered + 1}",
            actor=order.user,
            now=now,
        )
        order.context = {**context, "member_coupon_id": copy.pk}
        order.save(update_fields=["context"])
    copy.state, copy.held_by = S.HELD, order
    copy.save(update_fields=["state", "held_by"])


def coupon_release(order: Order) -> None:
    MemberCoupon.objects.filter(held_by=order, state=S.HELD).update(state=S.AVAILABLE, held_by=None)


def coupon_redeem(order: Order) -> None:
    copy_id = (order.context or {}).get("member_coupon_id")
    if not copy_id or CouponRedemption.objects.filter(order=order).exists():
        return
    copy = MemberCoupon.objects.select_for_update().get(pk=copy_id)
    copy.state, copy.held_by = S.USED, None
    copy.save(update_fields=["state", "held_by"])
    CouponRedemption.objects.create(
        order=order,
        member_coupon=copy,
        coupon_id=copy.coupon_id,
        discount_fen=int(order.context.get("coupon_discount_fen") or 0),
    )


def returnable(copy: MemberCoupon, now) -> bool:
    """THE refund rule: a used copy comes back only while it could still be used."""
    return (
        copy.state == S.USED
        and copy.revoked_at is None
        and copy.coupon.is_active
        and (copy.valid_until is None or now < copy.valid_until)
    )


def coupon_return_for_refund(order: Order, refund) -> None:
    del refund  # the order's status says whether it is now fully refunded
    if order.status != Order.Status.REFUNDED:
        return  # a partial refund is a price adjustment: the coupon stays used
    redemption = (
        CouponRedemption.objects.select_for_update()
        .filter(order=order, returned_at__isnull=True)
        .select_related("member_coupon__coupon")
        .first()
    )
    if redemption is None:
        return
    now = timezone.now()
    copy = redemption.member_coupon
    if not returnable(copy, now):
        return
    copy.state = S.AVAILABLE
    copy.save(update_fields=["state"])
    redemption.returned_at = now
    redemption.save(update_fields=["returned_at"])


def coupon_refund_terms(*, order: Order, amount_fen: int) -> list[RefundTerm]:
    """What a refund does to the order's coupon, said before the member confirms."""
    redemption = (
        CouponRedemption.objects.filter(order=order, returned_at__isnull=True)
        .select_related("member_coupon__coupon")
        .first()
    )
    if redemption is None:
        return []
    name = redemption.member_coupon.coupon.name
    full = amount_fen >= order.amount_fen - order.refunded_fen
    if full and returnable(redemption.member_coupon, timezone.now()):
        return [RefundTerm(_("优惠券「%(name)s」将退回，可在有效期内再用") % {"name": name})]
    if full:
        return [RefundTerm(_("优惠券「%(name)s」已过有效期，不退回") % {"name": name})]
    return [RefundTerm(_("部分退款不退回优惠券「%(name)s」") % {"name": name})]

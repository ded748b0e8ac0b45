"""Reads of coupons: a member's copies (usable first), the copies usable for one item with the price
each gives, what a copy applies to in words, and the orders a coupon discounted (for reports)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from core.money import fen_to_yuan_text
from growth.coupons import rules
from growth.models import Coupon, MemberCoupon
from members.memberships.selectors import active_membership
from payments import items
from payments.models import Order

S = MemberCoupon.State


def coupon_orders(coupon: Coupon) -> QuerySet[Order]:
    """Every order the coupon discounted that was paid (refunded ones included: their refunds are
    the reports' to count). The one definition reports read."""
    return Order.objects.filter(coupon_redemption__coupon=coupon)


def coupons_mine(user, *, now: datetime | None = None) -> QuerySet[MemberCoupon]:
    """The member's copies, usable first (soonest to expire first), then held, used, expired, revoked."""
    now = now or timezone.now()
    expired = Q(state=S.AVAILABLE) & (Q(valid_until__lte=now) | Q(coupon__is_active=False))
    return (
        MemberCoupon.objects.filter(user_id=user.pk)
        .select_related("coupon")
        .annotate(
            rank=Case(
                When(expired, then=Value(3)),
                When(state=S.AVAILABLE, then=Value(0)),
                When(state=S.HELD, then=Value(1)),
                When(state=S.USED, then=Value(2)),
                default=Value(4),
                output_field=IntegerField(),
            )
        )
        .order_by("rank", "valid_until", "-issued_at", "-pk")
    )


def applies_to_text(coupon: Coupon) -> str:
    """What the coupon is for, in words, from the coupon row alone (lists stay one query)."""
    parts = []
    if coupon.items:
        parts.append(_("指定 %(n)s 件商品") % {"n": len(coupon.items)})
    elif coupon.item_types:
        parts.append("、".join(items.label_of(code) for code in coupon.item_types))
    else:
        parts.append(_("全部商品"))
    if coupon.tiers:
        parts.append(_("限 %(tiers)s 会员") % {"tiers": "、".join(coupon.tiers)})
    if coupon.min_spend_fen:
        parts.append(_("满 %(min)s 可用") % {"min": fen_to_yuan_text(coupon.min_spend_fen)})
    else:
        parts.append(_("无门槛"))
    return " · ".join(str(part) for part in parts)


def value_text(coupon: Coupon) -> str:
    """¥50 / 8折（减20%） 最多减 ¥100: the coupon's face, as printed on it."""
    if coupon.kind == Coupon.Kind.PERCENT:
        rate, off = (10_000 - coupon.percent_off_bp) / 1_000, coupon.percent_off_bp / 100
        text = _("%(rate)s折（减%(off)s%%）") % {"rate": f"{rate:g}", "off": f"{off:g}"}
        if coupon.cap_fen:
            text += " " + _("最多减 %(cap)s") % {"cap": fen_to_yuan_text(coupon.cap_fen)}
        return text
    return fen_to_yuan_text(coupon.amount_off_fen)


@dataclass(frozen=True)
class UsableCoupon:
    copy: MemberCoupon
    discount_fen: int
    amount_fen: int  # what the order would cost with it


def coupons_usable(*, user, item_type: str, item_id: str, referral_code: str = "") -> list[UsableCoupon]:
    """The member's copies that apply to this item now, best price first, each with the price it gives.
    The item is priced once; each copy runs the same checks as the quote adjuster, on counts read in
    one statement. Raises the item's own ApplicationError if it cannot be bought."""
    if not getattr(user, "is_authenticated", False):
        return []
    base = items.quote(user=user, item_type=item_type, item_id=item_id, referral_code=referral_code)
    now = timezone.now()
    copies = list(
        MemberCoupon.objects.filter(user_id=user.pk, state=S.AVAILABLE, coupon__is_active=True)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
        .select_related("coupon")
    )
    if not copies:
        return []
    usage = _usage_by_coupon(user, {copy.coupon_id for copy in copies})
    membership = active_membership(user) if any(copy.coupon.tiers for copy in copies) else None
    tier_code = membership.tier.code if membership else ""
    usable = []
    for copy in copies:
        try:
            off = rules.coupon_check(
                coupon=copy.coupon,
                copy=copy,
                user=user,
                item_type=item_type,
                item_id=str(item_id),
                quote=base,
                usage=usage.get(copy.coupon_id, rules.Usage()),
                now=now,
                tier_code=tier_code,
            )
        except ApplicationError:
            continue
        usable.append(UsableCoupon(copy=copy, discount_fen=off, amount_fen=base.amount_fen - off))
    usable.sort(key=lambda u: (u.amount_fen, u.copy.valid_until or datetime.max.replace(tzinfo=now.tzinfo)))
    return usable


def _usage_by_coupon(user, coupon_ids: set[int]) -> dict[int, rules.Usage]:
    """`rules.usage_of` for several coupons in one statement."""
    live = ~Q(state=S.REVOKED)
    rows = (
        MemberCoupon.objects.filter(coupon_id__in=coupon_ids)
        .values("coupon_id")
        .annotate(
            member_taken=Count("pk", filter=Q(user_id=user.pk, state__in=rules.TAKEN)),
            total_taken=Count("pk", filter=Q(state__in=rules.TAKEN)),
            member_issued=Count("pk", filter=Q(user_id=user.pk) & live),
            total_issued=Count("pk", filter=live),
        )
        .order_by()
    )
    return {row.pop("coupon_id"): rules.Usage(**row) for row in rows}

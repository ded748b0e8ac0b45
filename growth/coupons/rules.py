"""The rules of a coupon at checkout: which code means which coupon, whether it applies to this order,
and what it takes off. Reads only; the quote adjuster (`coupon_quote_adjust`) and the usable-coupons
list call the same checks, and `growth.coupons.holds` repeats the limit checks under the coupon's lock.

Stacking: a coupon applies last, on the price after tier discounts, upgrade credit, flash-sale and
promoter prices (the growth app registers its adjuster after the referral app's). A coupon marked
non-stackable is refused (`coupon_not_stackable`) when the quote already has a discount line.
Minimum spend is measured on that price (before the coupon). A discount never exceeds that price, so
a total never goes negative; a total of 0 is an order paid at once (the free path).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from core.money import apply_bp, fen_to_yuan_text
from growth.models import Coupon, MemberCoupon
from members.memberships.selectors import active_membership
from payments.items import Quote

# Sold at a price decided elsewhere (a tip, a paid question, a group price) or never sold: no coupon.
NOT_COUPONABLE = ("tip", "circle_question", "group_buy", "membership_days")
TAKEN = (MemberCoupon.State.HELD, MemberCoupon.State.USED)  # what counts toward the use limits


def refusal(code: str, message: str) -> ApplicationError:
    return ApplicationError(code, message, status_code=400, fields={"coupon_code": [message]})


def invalid() -> ApplicationError:
    return refusal("coupon_invalid", _("优惠券不存在或不属于你"))


def normalize(raw: str) -> str:
    return "".join(str(raw or "").split()).upper()


@dataclass(frozen=True)
class Usage:
    """How many copies of a coupon are taken (held or used) and issued, overall and by one member."""

    member_taken: int = 0
    total_taken: int = 0
    member_issued: int = 0
    total_issued: int = 0


def usage_of(coupon: Coupon, user) -> Usage:
    """One statement: the counts the limits compare against."""
    live = ~Q(state=MemberCoupon.State.REVOKED)
    counts = MemberCoupon.objects.filter(coupon=coupon).aggregate(
        member_taken=Count("pk", filter=Q(user_id=user.pk, state__in=TAKEN)),
        total_taken=Count("pk", filter=Q(state__in=TAKEN)),
        member_issued=Count("pk", filter=Q(user_id=user.pk) & live),
        total_issued=Count("pk", filter=live),
    )
    return Usage(**counts)


def window_for_new_copy(coupon: Coupon, now: datetime) -> tuple[datetime | None, datetime | None]:
    """(valid_from, valid_until) of a copy issued now: N days from now (never past the coupon's end)
    when the coupon says so, else the coupon's own window."""
    if coupon.valid_days:
        until = now + timedelta(days=coupon.valid_days)
        if coupon.ends_at is not None:
            until = min(until, coupon.ends_at)
        return (max(now, coupon.starts_at) if coupon.starts_at else now), until
    return coupon.starts_at, coupon.ends_at


def issue_refusal(coupon: Coupon, usage: Usage, now: datetime) -> ApplicationError | None:
    """Whether one more copy may be given to this member now (claims, public codes, issuing)."""
    if not coupon.is_active or (coupon.ends_at is not None and now >= coupon.ends_at):
        return refusal("coupon_expired", _("该优惠券已结束发放"))
    if usage.member_issued >= coupon.per_member_limit:
        return refusal("coupon_exhausted", _("每人限领 %(n)s 张，你已领过") % {"n": coupon.per_member_limit})
    if coupon.issue_limit is not None and usage.total_issued >= coupon.issue_limit:
        return refusal("coupon_exhausted", _("优惠券已被领完"))
    return None


def coupon_resolve(*, user, raw_code: str) -> tuple[Coupon, MemberCoupon | None]:
    """What the buyer typed or picked: one of their copies (its code, or its id), or a public code —
    then their own unused copy of it if they have one, else None (a copy is issued when the order opens)."""
    code = normalize(raw_code)
    if not code or not getattr(user, "is_authenticated", False):
        raise invalid()
    mine = MemberCoupon.objects.select_related("coupon").filter(user_id=user.pk)
    by_id = code.isdigit() and len(code) <= 15  # an id from GET /api/v1/coupons/mine/ (and within bigint)
    copy = mine.filter(code=code).first() or (mine.filter(pk=int(code)).first() if by_id else None)
    if copy is not None:
        return copy.coupon, copy
    coupon = Coupon.objects.filter(code=code).first()
    if coupon is None:
        raise invalid()
    now = timezone.now()
    unused = (
        mine.filter(coupon=coupon, state=MemberCoupon.State.AVAILABLE)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
        .order_by("valid_until", "pk")
        .first()
    )
    return coupon, unused


def applies_to_item(coupon: Coupon, *, item_type: str, item_id: str) -> bool:
    if item_type in NOT_COUPONABLE:
        return False
    if coupon.item_types and item_type not in coupon.item_types:
        return False
    return not coupon.items or f"{item_type}:{item_id}" in coupon.items


def discount_for(coupon: Coupon, base_fen: int) -> int:
    """What the coupon takes off a price of `base_fen`: never more than the price (floors, capped)."""
    if coupon.kind == Coupon.Kind.PERCENT:
        off = apply_bp(base_fen, coupon.percent_off_bp)
        if coupon.cap_fen:
            off = min(off, coupon.cap_fen)
    else:
        off = coupon.amount_off_fen
    return max(0, min(off, base_fen))


def state_check(coupon: Coupon, copy: MemberCoupon | None, now: datetime) -> None:
    """The copy can be used now (not used, held, revoked; inside its window; the coupon not stopped)."""
    if copy is not None:
        if copy.state == MemberCoupon.State.REVOKED:
            raise invalid()
        if copy.state == MemberCoupon.State.USED:
            raise refusal("coupon_used", _("这张优惠券已使用"))
        if copy.state == MemberCoupon.State.HELD:
            raise refusal("coupon_used", _("这张优惠券正被一笔待支付订单占用，可先取消那笔订单"))
        valid_from, valid_until = copy.valid_from, copy.valid_until
    else:
        valid_from, valid_until = window_for_new_copy(coupon, now)
    if not coupon.is_active:
        raise refusal("coupon_expired", _("该优惠券已停用"))
    if valid_until is not None and now >= valid_until:
        raise refusal("coupon_expired", _("优惠券已过期"))
    if valid_from is not None and now < valid_from:
        start = timezone.localtime(valid_from).strftime("%Y-%m-%d %H:%M")
        raise refusal("coupon_not_started", _("优惠券 %(start)s 起可用") % {"start": start})


def limits_check(coupon: Coupon, copy: MemberCoupon | None, usage: Usage, now: datetime) -> None:
    """The use limits (held and used copies count), and for a public code the issue limits."""
    if usage.member_taken >= coupon.per_member_limit:
        raise refusal("coupon_exhausted", _("每人限用 %(n)s 张，你已用过") % {"n": coupon.per_member_limit})
    if coupon.total_limit is not None and usage.total_taken >= coupon.total_limit:
        raise refusal("coupon_exhausted", _("优惠券已被抢光"))
    if copy is None:
        problem = issue_refusal(coupon, usage, now)
        if problem is not None:
            raise problem


def coupon_check(
    *,
    coupon: Coupon,
    copy: MemberCoupon | None,
    user,
    item_type: str,
    item_id: str,
    quote: Quote,
    usage: Usage,
    now: datetime,
    tier_code: str | None = None,
) -> int:
    """The discount this coupon gives on `quote` (the price before it), or the refusal, in the order a
    buyer would want to hear them. `tier_code` saves a read when the caller knows the buyer's tier."""
    state_check(coupon, copy, now)
    if not applies_to_item(coupon, item_type=item_type, item_id=item_id):
        raise refusal("coupon_not_applicable", _("这张优惠券不适用于该商品"))
    if coupon.tiers:
        if tier_code is None:
            membership = active_membership(user)
            tier_code = membership.tier.code if membership else ""
        if tier_code not in coupon.tiers:
            tiers = "、".join(coupon.tiers)
            raise refusal("coupon_not_applicable", _("这张优惠券仅限 %(tiers)s 会员使用") % {"tiers": tiers})
    base = quote.amount_fen
    if base < coupon.min_spend_fen:
        raise refusal(
            "coupon_below_minimum", _("满 %(min)s 可用") % {"min": fen_to_yuan_text(coupon.min_spend_fen)}
        )
    if not coupon.stackable and any(line.amount_fen < 0 for line in quote.lines):
        raise refusal("coupon_not_stackable", _("这张优惠券不能与其他优惠同时使用"))
    limits_check(coupon, copy, usage, now)
    off = discount_for(coupon, base)
    if off <= 0:
        raise refusal("coupon_not_applicable", _("该订单没有可以用券抵扣的金额"))
    return off


def quote_with_coupon(quote: Quote, *, coupon: Coupon, copy: MemberCoupon | None, discount_fen: int) -> Quote:
    return quote.with_line(
        _("优惠券：%(name)s") % {"name": coupon.name},
        -discount_fen,
        coupon_id=coupon.pk,
        member_coupon_id=copy.pk if copy is not None else None,
        coupon_discount_fen=discount_fen,
    )


def coupon_quote_adjust(
    *, user, item_type, item_id: str, quote: Quote, referral_code: str = "", coupon_code: str = ""
) -> Quote:
    """The quote adjuster (growth/apps.py, after the referral app's): the buyer's coupon, or a refusal."""
    del referral_code  # the referral app's
    if not (coupon_code or "").strip():
        return quote
    code = getattr(item_type, "code", str(item_type))
    coupon, copy = coupon_resolve(user=user, raw_code=coupon_code)
    off = coupon_check(
        coupon=coupon,
        copy=copy,
        user=user,
        item_type=code,
        item_id=str(item_id),
        quote=quote,
        usage=usage_of(coupon, user),
        now=timezone.now(),
    )
    return quote_with_coupon(quote, coupon=coupon, copy=copy, discount_fen=off)

"""What joining or renewing a circle costs a member now: period or window pricing, late-join
proration and the renewal bands (early, in the window, late).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from circles.models import Circle, CircleMembership
from core.errors import ApplicationError
from core.money import apply_bp, prorate

Role = CircleMembership.Role
MStatus = CircleMembership.Status


@dataclass(frozen=True)
class CirclePrice:
    """What joining or renewing costs this user now, and until when it runs."""

    kind: str  # "join" | "renew"
    band: str  # "" | "early" | "window" | "late" | "prorated"
    list_price_fen: int
    amount_fen: int
    expires_at: datetime
    lines: list[tuple[str, int]] = field(default_factory=list)

    @property
    def band_label(self) -> str:
        return {
            "early": _("提前续费"),
            "window": _("到期前续费"),
            "late": _("过期后续费"),
            "prorated": _("按剩余天数折算"),
        }.get(self.band, "")


def has_paid_before(membership: CircleMembership | None) -> bool:
    return membership is not None and membership.grants.filter(revoked_at__isnull=True).exists()


# The renewal offer is shown from this many days before the end at the earliest, even when a circle's
# renewal window (renew_window_days) is shorter; never right after joining a year-long circle.
RENEWAL_NOTICE_MIN_DAYS = 7


def renewal_due(*, circle: Circle, membership: CircleMembership | None, now: datetime | None = None) -> bool:
    """Whether the member's own page should offer a renewal now: a trial (its join offer), a lapsed
    membership, or paid time ending within the circle's renewal window (at least
    RENEWAL_NOTICE_MIN_DAYS). Members through a tier, staff and non-members are never nagged."""
    if (
        membership is None
        or membership.via_tier
        or membership.role not in (Role.MEMBER, Role.TRIAL, Role.EXPIRED)
    ):
        return False
    if membership.role != Role.MEMBER or membership.status != MStatus.ACTIVE:
        return True
    if membership.expires_at is None:
        return False
    now = now or timezone.now()
    notice = timedelta(days=max(circle.renew_window_days, RENEWAL_NOTICE_MIN_DAYS))
    return membership.expires_at <= now + notice


_UNSET = object()


def circle_price(*, circle: Circle, user, now: datetime | None = None, membership=_UNSET) -> CirclePrice:
    """Price of joining or renewing for `user`; refuses when there is nothing to buy.

    `membership` may be passed when the caller already loaded the user's row (or knows there is none).
    """
    now = now or timezone.now()
    if not circle.is_published:
        raise ApplicationError("item_unavailable", _("该圈子暂不可加入"))
    if circle.price_fen <= 0:
        raise ApplicationError("item_unavailable", _("该圈子暂未开放付费加入"))
    if not getattr(user, "is_authenticated", False):
        membership = None
    elif membership is _UNSET:
        membership = CircleMembership.objects.filter(circle_id=circle.pk, user_id=user.pk).first()
    if circle.owner_id == getattr(user, "pk", None) or (
        membership
        and membership.status == MStatus.ACTIVE
        and membership.role in (Role.OWNER, Role.ADMIN, Role.GUEST)
    ):
        raise ApplicationError("already_member", _("你已是该圈子的圈主、管理员或嘉宾，无需购买"))
    if membership and membership.status == MStatus.REMOVED and not membership.rejoin_allowed:
        raise ApplicationError(
            "circle_rejoin_blocked", _("你已被移出该圈子并已退款，需圈主同意后才能重新加入"), status_code=403
        )
    base = circle.price_fen
    lines: list[tuple[str, int]] = []
    paid_before = has_paid_before(membership)
    current_end = (
        membership.expires_at
        if membership
        and membership.status == MStatus.ACTIVE
        and membership.expires_at
        and membership.role != Role.TRIAL
        else None
    )
    if circle.pricing_mode == Circle.PricingMode.WINDOW:
        start, end = circle.window_starts_at, circle.window_ends_at
        # The circle_window_complete check constraint: a window circle has both dates.
        assert start is not None and end is not None
        if end <= now:
            raise ApplicationError("circle_window_closed", _("本期已结束，请等待圈主开放下一期"))
        if current_end and current_end >= end:
            raise ApplicationError("already_member", _("你已加入本期，无需重复购买"))
        expires_at = end
        amount = base
        band = ""
        if circle.late_join == Circle.LateJoin.PRORATED and now > start:
            total = (end - start).total_seconds()
            left = (end - now).total_seconds()
            amount = prorate(base, int(left // 86400) + 1, max(1, int(total // 86400)))
            band = "prorated"
            lines.append((_("晚加入按剩余天数折算"), amount - base))
    else:
        start_from = max(current_end, now) if current_end else now
        expires_at = start_from + timedelta(days=circle.duration_days)
        amount, band = base, ""
    kind = "join"
    if paid_before and membership is not None and membership.expires_at is not None:
        kind = "renew"
        if membership.status == MStatus.ACTIVE and membership.expires_at > now + timedelta(
            days=circle.renew_window_days
        ):
            band, rate = "early", circle.renew_early_bp
        elif membership.status == MStatus.ACTIVE and membership.expires_at > now:
            band, rate = "window", circle.renew_window_bp
        else:
            band, rate = "late", circle.renew_late_bp
        banded = apply_bp(amount, rate)
        if banded != amount:
            label = {
                "early": _("提前续费优惠"),
                "window": _("到期前续费优惠"),
                "late": _("过期后续费优惠"),
            }[band]
            lines.append((label, banded - amount))
        amount = banded
    return CirclePrice(kind, band, base, amount, expires_at, lines)

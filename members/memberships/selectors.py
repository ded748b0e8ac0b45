"""Membership reads: the active membership and tier checks every app uses (`active_membership`,
`member_has_tier`, `active_tier_ids`), tiers on sale with what each includes, days left, a member's
membership and its grant history, and the `membership_days` item id format.

Upgrade pricing (credit for the unused part, offers) is in `members.memberships.upgrades`."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from core.discovery import app_modules
from members.models import Membership, MembershipTier, User
from payments import items
from payments.models import Order

# The item types whose orders fund membership days (members/items.py).
MEMBERSHIP_ITEM_TYPES = ("membership", "membership_days")


def active_membership(user: User) -> Membership | None:
    if not getattr(user, "is_authenticated", False):
        return None
    membership = Membership.objects.select_related("tier").filter(user=user).first()
    if membership and membership.starts_at <= timezone.now() < membership.ends_at:
        return membership
    return None


def membership_for_checkout(user: User, *, now=None) -> tuple[Membership | None, bool]:
    """The active membership (as `active_membership`) and whether a refund of one of the user's
    membership orders is in flight, read in one statement for the membership item types' quotes.

    While such a refund is in flight no membership order may be priced: a renewal, upgrade or points
    redemption bought on top of it would survive the refund's revoke with days or credit nobody paid
    for (the refund terms refuse the same stacking before a refund starts; members/funding.py)."""
    if not getattr(user, "is_authenticated", False):
        return None, False
    refunding = Order.objects.filter(
        user_id=OuterRef("user_id"), item_type__in=MEMBERSHIP_ITEM_TYPES, status=Order.Status.REFUNDING
    )
    row = (
        Membership.objects.select_related("tier")
        .filter(user=user)
        .annotate(refund_in_flight=Exists(refunding))
        .first()
    )
    if row is None:  # no membership was ever granted, so no membership order can be refunding
        return None, False
    now = now or timezone.now()
    return (row if row.starts_at <= now < row.ends_at else None), row.refund_in_flight


def member_has_tier(user: User, tier: MembershipTier | str) -> bool:
    """True when the user's active membership ranks at or above `tier` (rank-inclusive)."""
    membership = active_membership(user)
    if membership is None:
        return False
    if isinstance(tier, str):
        found = MembershipTier.objects.filter(code=tier).first()
        if found is None:
            return False
        tier = found
    return membership.tier.rank >= tier.rank


def active_tier_ids(user: User) -> set[int]:
    """Ids of every tier the user's membership includes (its own and all lower ranks).

    One statement (the active membership's rank as a subquery): catalogs and course pages ask this on
    every request.
    """
    if not getattr(user, "is_authenticated", False):
        return set()
    now = timezone.now()
    rank = Membership.objects.filter(user=user, starts_at__lte=now, ends_at__gt=now).values("tier__rank")[:1]
    return set(MembershipTier.objects.filter(rank__lte=Subquery(rank)).values_list("id", flat=True))


def tiers_for_sale():
    return MembershipTier.objects.filter(is_active=True).order_by("rank")


def tier_discount_bp(user: User) -> int:
    """The single-purchase discount (basis points) of the user's active tier; 0 without one."""
    membership = active_membership(user)
    return int(membership.tier.single_purchase_discount_bp) if membership else 0


# A membership's renewal is offered (home, 我的) from this many days before its end, not right after
# joining a year; the reminders (reminders.py) go out at 30, 7 and 1 days.
RENEWAL_NUDGE_DAYS = 30


def renewal_due(membership: Membership | None, *, now=None) -> bool:
    """True when the membership ends within RENEWAL_NUDGE_DAYS or has ended (a lapsed member renews)."""
    if membership is None:
        return False
    now = now or timezone.now()
    return membership.ends_at <= now + timedelta(days=RENEWAL_NUDGE_DAYS)


def days_left(membership: Membership | None, *, now=None) -> int:
    """Whole calendar days (Asia/Shanghai) until the end; 0 on the last day or once ended."""
    if membership is None:
        return 0
    now = now or timezone.now()
    if membership.ends_at <= now:
        return 0
    return max(0, (timezone.localdate(membership.ends_at) - timezone.localdate(now)).days)


def membership_for_user(user: User) -> Membership | None:
    """The user's membership row, active or not (pages show an expired one with a renew button)."""
    if not getattr(user, "pk", None):
        return None
    return Membership.objects.select_related("tier").filter(user=user).first()


def membership_get_for_user(*, user: User, membership_id: int) -> Membership | None:
    """A membership by id, only if it is the caller's (others' ids look like missing ones)."""
    return Membership.objects.select_related("tier", "user").filter(pk=membership_id, user=user).first()


def membership_grants(membership: Membership):
    return membership.grants.select_related("tier", "tier_before", "order").order_by("-created_at", "-id")


def tier_benefit_lines(tiers) -> dict[int, list[str]]:
    """What each tier really includes, generated by the content apps (`<app>.home.tier_benefits`)
    from their `included_in_tiers`, followed by the tier's own service lines (free text)."""
    lines: dict[int, list[str]] = {tier.pk: [] for tier in tiers}
    for module in app_modules("home"):
        contribute = getattr(module, "tier_benefits", None)
        if contribute is None:
            continue
        for tier_id, extra in contribute(tiers).items():
            lines.setdefault(tier_id, []).extend(extra)
    for tier in tiers:
        lines[tier.pk].extend(tier.benefit_list)
    return lines


def parse_days_item(item_id: str) -> tuple[MembershipTier, int]:
    """A `membership_days` item id (`VIP:30`: tier code and days) as (tier, days)."""
    code, _sep, days = item_id.strip().partition(":")
    tier = MembershipTier.objects.filter(code=code).first()
    if tier is None or not days.isdigit() or not 0 < int(days) <= 3660:
        raise items.ItemUnavailable(_("会员天数奖品的格式为 等级代码:天数，如 VIP:30"))
    return tier, int(days)

"""Reads about members. `active_membership` and `member_has_tier` are what every app uses."""

from django.utils import timezone

from members.models import (
    Membership,
    MembershipTier,
    Notification,
    PointsAccount,
    PointsEntry,
    SubscribeOptIn,
    SubscribeTemplate,
    User,
)


def active_membership(user: User) -> Membership | None:
    if not getattr(user, "is_authenticated", False):
        return None
    membership = Membership.objects.select_related("tier").filter(user=user).first()
    if membership and membership.starts_at <= timezone.now() < membership.ends_at:
        return membership
    return None


def member_has_tier(user: User, tier: MembershipTier | str) -> bool:
    """True when the user's active membership ranks at or above `tier` (rank-inclusive)."""
    membership = active_membership(user)
    if membership is None:
        return False
    if isinstance(tier, str):
        tier = MembershipTier.objects.get(code=tier)
    return membership.tier.rank >= tier.rank


def active_tier_ids(user: User) -> set[int]:
    """Ids of every tier the user's membership includes (its own and all lower ranks)."""
    membership = active_membership(user)
    if membership is None:
        return set()
    return set(MembershipTier.objects.filter(rank__lte=membership.tier.rank).values_list("id", flat=True))


def tiers_for_sale():
    return MembershipTier.objects.filter(is_active=True).order_by("rank")


def tier_discount_bp(user: User) -> int:
    """The single-purchase discount (basis points) of the user's active tier; 0 without one."""
    membership = active_membership(user)
    return int(membership.tier.single_purchase_discount_bp) if membership else 0


# ---- notifications ---------------------------------------------------------------------------------------


def subscribe_optins_left(user: User, template_key: str) -> int:
    if not getattr(user, "pk", None):
        return 0
    return (
        SubscribeOptIn.objects.filter(user=user, template_key=template_key)
        .values_list("remaining", flat=True)
        .first()
        or 0
    )


def subscribe_optins_for_user(user: User) -> list[dict]:
    """Each active template with the member's opt-ins left (what the mini-program asks to top up)."""
    left = dict(SubscribeOptIn.objects.filter(user=user).values_list("template_key", "remaining"))
    return [
        {
            "template_key": template.key,
            "template_id": template.template_id,
            "name": template.name,
            "remaining": left.get(template.key, 0),
        }
        for template in SubscribeTemplate.objects.filter(is_active=True).exclude(template_id="")
    ]


def notifications_for_user(user: User):
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


def unread_notifications_count(user: User) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


# ---- points ------------------------------------------------------------------------------------------------


def points_balance(user: User) -> int:
    if not getattr(user, "pk", None):
        return 0
    return PointsAccount.objects.filter(user=user).values_list("balance", flat=True).first() or 0


def points_history(user: User):
    return PointsEntry.objects.filter(user=user).order_by("-created_at", "-id")

"""Reads about members. `active_membership` and `member_has_tier` are what every app uses."""

from django.utils import timezone

from members.models import Membership, MembershipTier, User


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

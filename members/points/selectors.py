"""Points reads: a member's balance and history, the points mall's shelf, a member's redemptions and
the sign-up bonus."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Count, Q

from members.models import PointsAccount, PointsEntry, Redemption, Reward, User


def points_balance(user: User) -> int:
    if not getattr(user, "pk", None):
        return 0
    return PointsAccount.objects.filter(user=user).values_list("balance", flat=True).first() or 0


def points_history(user: User):
    return PointsEntry.objects.filter(user=user).order_by("-created_at", "-id")


def rewards_for_user(user: User):
    """Rewards on the shelf, with how often this user redeemed each (one query)."""
    return (
        Reward.objects.filter(is_active=True)
        .annotate(redeemed_by_me=Count("redemptions", filter=Q(redemptions__user=user)))
        .order_by("sort_order", "points_price", "id")
    )


def redemptions_for_user(user: User):
    return (
        Redemption.objects.filter(user=user).select_related("reward", "order").order_by("-created_at", "-id")
    )


def points_signup_bonus() -> int:
    """The 新人礼包: points every new member gets at sign-up (POINTS_SIGNUP_BONUS; 0 turns it off)."""
    return max(int(getattr(settings, "POINTS_SIGNUP_BONUS", 0) or 0), 0)

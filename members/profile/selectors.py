"""Profile reads: a member's profile, the house nickname (编号-姓名-城市-行业) it suggests, and the
"me" answer (active membership and points balance in one statement)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from members.models import MemberProfile, User


def profile_for_user(user: User):
    return MemberProfile.objects.filter(user=user).first() or MemberProfile(user=user)


def house_nickname(*, user: User, real_name: str, city: str, industry: str) -> str:
    """The house nickname format 编号-姓名-城市-行业 (parts that are missing are left out)."""
    parts = [user.member_no or "", real_name.strip(), city.strip(), industry.strip()]
    return "-".join(part for part in parts if part)[:64]


@dataclass(frozen=True)
class MembershipBrief:
    tier_code: str
    starts_at: datetime
    ends_at: datetime


def membership_and_points(user: User) -> tuple[MembershipBrief | None, int]:
    """The active membership (tier code and window) and `points_balance(user)` in one statement, with
    or without a membership or points (the "me" answer, asked on every app start). Four plain columns,
    no model instances: building and compiling the full rows cost more than the statement itself."""
    if not getattr(user, "is_authenticated", False):
        return None, 0
    rows = list(
        User.objects.filter(pk=user.pk).values_list(
            "membership__tier__code",
            "membership__starts_at",
            "membership__ends_at",
            "points_account__balance",
        )[:1]
    )
    if not rows:
        return None, 0
    code, starts_at, ends_at, balance = rows[0]
    if code is not None and starts_at <= timezone.now() < ends_at:
        return MembershipBrief(code, starts_at, ends_at), balance or 0
    return None, balance or 0

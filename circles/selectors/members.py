"""A circle's members as its owner and admins see them: by role and expiry, expiring soon, the guests."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Case, F, IntegerField, Value, When
from django.utils import timezone

from circles.models import Circle, CircleMembership, CircleSettings
from circles.selectors.posts import FEED_AUTHOR_FIELDS

Role = CircleMembership.Role
MStatus = CircleMembership.Status

ROLE_ORDER = (Role.OWNER, Role.ADMIN, Role.GUEST, Role.MEMBER, Role.TRIAL, Role.EXPIRED)


def members_for_managers(
    *, circle: Circle, role: str = "", status: str = "", expiring_within_days: int | None = None
):
    """Members for owners and admins: by role (owner, admins, guests, members, trials, expired), then
    soonest expiry first. `expiring_within_days` keeps active paying members and trials whose time runs
    out within that many days (renewal care)."""
    rank = Case(
        *(When(role=value, then=Value(i)) for i, value in enumerate(ROLE_ORDER)),
        default=Value(len(ROLE_ORDER)),
        output_field=IntegerField(),
    )
    members = (
        CircleMembership.objects.filter(circle=circle)
        .select_related("user")
        .only(
            "id",
            "circle",
            "user",
            "role",
            "status",
            "joined_at",
            "expires_at",
            "via_tier",
            "removed_with_refund",
            "rejoin_allowed",
            *(f"user__{f}" for f in FEED_AUTHOR_FIELDS),
        )
        .annotate(role_rank=rank)
        .order_by("role_rank", F("expires_at").asc(nulls_last=True), "id")
    )
    if role in Role.values:
        members = members.filter(role=role)
    if status in MStatus.values:
        members = members.filter(status=status)
    if expiring_within_days is not None:
        now = timezone.now()
        members = members.filter(
            status=MStatus.ACTIVE,
            role__in=(Role.MEMBER, Role.TRIAL),
            via_tier=False,
            expires_at__gt=now,
            expires_at__lte=now + timedelta(days=expiring_within_days),
        ).order_by("expires_at", "id")
    return members


def expiring_soon(*, circle: Circle):
    return members_for_managers(
        circle=circle, expiring_within_days=CircleSettings.current().expiring_soon_days
    )


def guests_of(*, circle: Circle) -> list:
    return [
        m.user
        for m in CircleMembership.objects.filter(circle=circle, role=Role.GUEST, status=MStatus.ACTIVE)
        .select_related("user")
        .only("id", *(f"user__{f}" for f in FEED_AUTHOR_FIELDS))
        .order_by("joined_at", "id")
    ]

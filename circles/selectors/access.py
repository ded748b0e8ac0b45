"""Which circles exist and what a user may do in one. `circle_access` is the ONE answer to "what may
this user do here?", used by pages, the API and services alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from circles.models import Circle, CircleMembership, CircleRules
from members.memberships.selectors import active_tier_ids

Role = CircleMembership.Role
MStatus = CircleMembership.Status


@dataclass(frozen=True)
class CircleAccess:
    """What one user may do in one circle.

    reason (when can_read is False): "login", "join", "expired", "removed".
    can_post is False while the current rules version is not accepted (rules_pending).
    """

    can_read: bool
    can_post: bool
    role: str  # owner/admin/guest/member/trial/expired/"" (none)
    reason: str = ""
    rules_pending: bool = False
    via_tier: bool = False
    membership: CircleMembership | None = None
    expires_at: datetime | None = None

    @property
    def can_manage(self) -> bool:
        """Owners and admins moderate, pin, feature and see the member list."""
        return self.can_read and self.role in (Role.OWNER, Role.ADMIN)

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER

    @property
    def role_label(self) -> str:
        if self.via_tier:
            return str(_("会员等级包含"))
        return str(Role(self.role).label) if self.role in Role.values else ""

    @property
    def reason_text(self) -> str:
        return str(
            {
                "login": _("请先登录"),
                "join": _("加入圈子后才能查看内容"),
                "expired": _("你的圈子成员资格已过期，续费后继续查看"),
                "removed": _("你已被移出该圈子"),
            }.get(self.reason, "")
        )


NO_ACCESS_LOGIN = CircleAccess(False, False, "", reason="login")


def _tier_includes(user, circle: Circle, tier_ids: set[int] | None = None) -> bool:
    """True when the user's active membership tier — or any lower rank it includes
    (`members.memberships.selectors.active_tier_ids`) — is one the circle is included in. 1 query without a
    membership, 3 with one; none when a list passes the user's `tier_ids` and has prefetched the circle's
    `included_in_tiers`."""
    if tier_ids is None:
        tier_ids = active_tier_ids(user)
        if not tier_ids:
            return False
        return circle.included_in_tiers.filter(pk__in=tier_ids).exists()
    return bool(tier_ids & {tier.pk for tier in circle.included_in_tiers.all()})


_UNSET = object()


def circle_access(
    user,
    circle: Circle,
    *,
    now: datetime | None = None,
    membership=_UNSET,
    tier_ids: set[int] | None = None,
) -> CircleAccess:
    """Read/post capabilities of `user` in `circle`: 1 query for members, at most 4 for tier members.

    `membership` may be passed when the caller already loaded the user's row (or knows there is none);
    a list of circles passes `tier_ids` (`active_tier_ids(user)`, read once) with the circles'
    `included_in_tiers` prefetched, and then asks nothing of the database.
    """
    if not getattr(user, "is_authenticated", False):
        return NO_ACCESS_LOGIN
    now = now or timezone.now()
    if membership is _UNSET:
        membership = CircleMembership.objects.filter(circle_id=circle.pk, user_id=user.pk).first()
    accepted = membership.accepted_rules_version if membership else 0
    rules_ok = circle.rules_version == 0 or accepted >= circle.rules_version

    if circle.owner_id == user.pk:
        return CircleAccess(True, True, Role.OWNER, membership=membership)
    if membership is not None and membership.status == MStatus.REMOVED:
        return CircleAccess(False, False, "", reason="removed", membership=membership)

    active = membership is not None and membership.status == MStatus.ACTIVE
    if active and membership.role in CircleMembership.STAFF_ROLES:
        return CircleAccess(
            True, rules_ok, membership.role, rules_pending=not rules_ok, membership=membership
        )
    if active and membership.expires_at is not None and membership.expires_at > now:
        return CircleAccess(
            True,
            rules_ok,
            membership.role if membership.role != Role.EXPIRED else Role.MEMBER,
            rules_pending=not rules_ok,
            membership=membership,
            expires_at=membership.expires_at,
        )
    if _tier_includes(user, circle, tier_ids):
        return CircleAccess(
            True, rules_ok, Role.MEMBER, rules_pending=not rules_ok, via_tier=True, membership=membership
        )
    if membership is not None and membership.expires_at is not None and not membership.via_tier:
        return CircleAccess(
            False,
            False,
            Role.EXPIRED,
            reason="expired",
            membership=membership,
            expires_at=membership.expires_at,
        )
    return CircleAccess(False, False, "", reason="join", membership=membership)


def circles_listed() -> QuerySet[Circle]:
    return (
        Circle.objects.filter(is_published=True)
        .select_related("owner")
        .annotate(
            member_count=Count(
                "memberships",
                filter=Q(memberships__status=MStatus.ACTIVE) & ~Q(memberships__role=Role.EXPIRED),
            )
        )
        .order_by("-created_at")
    )


def circle_get(*, circle_id) -> Circle:
    """A published circle or Http404 (unpublished circles are visible to nobody but admin)."""
    return get_object_or_404(Circle.objects.select_related("owner"), pk=circle_id, is_published=True)


def circle_for_owner_tools(*, circle_id, user) -> tuple[Circle, CircleAccess]:
    """Owner/admin tools: 404 for anyone else (never leak existence)."""
    circle = circle_get(circle_id=circle_id)
    access = circle_access(user, circle)
    if not access.can_manage:
        raise Http404
    return circle, access


def current_rules(circle: Circle) -> CircleRules | None:
    if circle.rules_version == 0:
        return None
    return CircleRules.objects.filter(circle=circle, version=circle.rules_version).first()

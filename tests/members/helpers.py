"""Helpers for members tests: buy a tier through the real order path, move a membership in time."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import F

from members.cache_versions import member_bump
from members.models import Membership, MembershipGrant, MembershipReminder
from tests.payments.helpers import create_paid_order


def buy(user, tier_code: str, **kwargs):
    """Buy (or renew/upgrade to) a tier with the sandbox channel; returns the paid order."""
    return create_paid_order(user=user, item_type="membership", item_id=tier_code, **kwargs)


def age(user, days: float) -> Membership:
    """Pretend `days` have passed for this user's membership (shift its window and history back)."""
    delta = timedelta(days=days)
    Membership.objects.filter(user=user).update(
        starts_at=F("starts_at") - delta, ends_at=F("ends_at") - delta
    )
    grants = MembershipGrant.objects.filter(user=user)
    grants.update(starts_after=F("starts_after") - delta, ends_after=F("ends_after") - delta)
    grants.filter(starts_before__isnull=False).update(
        starts_before=F("starts_before") - delta, ends_before=F("ends_before") - delta
    )
    MembershipReminder.objects.filter(membership__user=user).update(ends_at=F("ends_at") - delta)
    member_bump(user.pk)  # queryset updates send no signal: the cached course entitlements must hear of it
    return Membership.objects.select_related("tier").get(user=user)

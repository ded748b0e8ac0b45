"""Selectors every app uses: active_membership, member_has_tier, active_tier_ids, tier_discount_bp."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from members.memberships.selectors import (
    active_membership,
    active_tier_ids,
    member_has_tier,
    tier_discount_bp,
)
from members.models import Membership


def give(user, tier, *, days_left=100, started_days_ago=10):
    now = timezone.now()
    return Membership.objects.create(
        user=user,
        tier=tier,
        starts_at=now - timedelta(days=started_days_ago),
        ends_at=now + timedelta(days=days_left),
    )


def test_no_membership_means_no_discount_and_no_tier(member, vip, ka):
    assert active_membership(member) is None
    assert tier_discount_bp(member) == 0
    assert not member_has_tier(member, "VIP")
    assert active_tier_ids(member) == set()


def test_vip_gets_vip_discount_and_vip_only(member, vip, ka):
    give(member, vip)
    assert tier_discount_bp(member) == 1000
    assert member_has_tier(member, vip) and member_has_tier(member, "VIP")
    assert not member_has_tier(member, ka)
    assert active_tier_ids(member) == {vip.pk}


def test_ka_includes_everything_vip_includes(member, vip, ka):
    give(member, ka)
    assert tier_discount_bp(member) == 2000
    assert member_has_tier(member, vip) and member_has_tier(member, ka)
    assert active_tier_ids(member) == {vip.pk, ka.pk}


def test_expired_membership_gives_nothing(member, vip):
    give(member, vip, days_left=-1, started_days_ago=400)
    assert active_membership(member) is None
    assert tier_discount_bp(member) == 0


def test_anonymous_user_has_no_discount(vip):
    from django.contrib.auth.models import AnonymousUser

    assert tier_discount_bp(AnonymousUser()) == 0


def test_unknown_tier_code_is_simply_not_held(member, vip):
    give(member, vip)
    assert member_has_tier(member, "NO_SUCH_TIER") is False

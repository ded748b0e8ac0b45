"""Builders for circles tests: everything goes through the real services and the real payments path."""

from __future__ import annotations

from datetime import timedelta

from django.test import TestCase
from django.utils import timezone

from circles.models import CircleMembership
from circles.services import circles as circle_services
from circles.services import memberships as membership_services
from circles.services import owner_tools
from members.cache_versions import member_bump
from members.models import Membership
from tests.factories import TierFactory, UserFactory
from tests.payments.helpers import create_paid_order

RULES_V1 = "1. 友善交流\n2. 不发广告"


def make_circle(*, owner=None, price_fen=19_900, rules=RULES_V1, **options):
    owner = owner or UserFactory()
    options.setdefault("trial_days", 3)
    return circle_services.circle_create(
        owner=owner, name="增长圈", intro="一起成长", price_fen=price_fen, rules_body=rules, **options
    )


def buy_circle(*, circle, user):
    return create_paid_order(user=user, item_type="circle", item_id=str(circle.pk))


def make_member(*, circle, user=None, accept_rules=True):
    user = user or UserFactory()
    buy_circle(circle=circle, user=user)
    if accept_rules:
        circle_services.circle_rules_accept(circle=circle, user=user)
    return user


def make_admin(*, circle, user=None):
    """A paying member the owner made a circle admin."""
    user = make_member(circle=circle, user=user)
    owner_tools.circle_member_set_role(
        circle=circle,
        membership=CircleMembership.objects.get(circle=circle, user=user),
        role="admin",
        actor=circle.owner,
    )
    return user


def make_trial(*, circle, user=None):
    user = user or UserFactory()
    membership_services.circle_trial_start(circle=circle, user=user)
    circle_services.circle_rules_accept(circle=circle, user=user)
    return user


def make_expired(*, circle, user=None):
    user = make_member(circle=circle, user=user)
    CircleMembership.objects.filter(circle=circle, user=user).update(
        expires_at=timezone.now() - timedelta(days=1)
    )
    return user


def make_removed(*, circle, user=None, refund=True):
    """Removed by the owner; with a refund the owner must be a money operator (财务) as well."""
    user = make_member(circle=circle, user=user)
    if refund:
        make_money_operator(circle.owner)
    membership = CircleMembership.objects.get(circle=circle, user=user)
    with TestCase.captureOnCommitCallbacks(execute=True):
        owner_tools.circle_member_remove(
            circle=circle, membership=membership, actor=circle.owner, refund=refund
        )
    return user


def give_tier(*, user, code="KA", rank=2):
    tier = TierFactory(code=code, name=code, rank=rank, member_no_prefix=code)
    now = timezone.now()
    Membership.objects.update_or_create(
        user=user,
        defaults={"tier": tier, "starts_at": now - timedelta(days=1), "ends_at": now + timedelta(days=300)},
    )
    member_bump(user.pk)  # written directly, not by a members service: announce it as they do
    return tier


def make_tier_member(*, circle, user=None, accept_rules=True):
    user = user or UserFactory()
    tier = give_tier(user=user)
    circle.included_in_tiers.add(tier)
    if accept_rules:
        circle_services.circle_rules_accept(circle=circle, user=user)
    return user


def make_guest(*, circle, user=None):
    user = make_member(circle=circle, user=user)
    membership = CircleMembership.objects.get(circle=circle, user=user)
    owner_tools.circle_member_set_role(circle=circle, membership=membership, role="guest", actor=circle.owner)
    return user


def make_money_operator(user):
    from django.contrib.auth.models import Group

    from core.roles import FINANCE

    user.groups.add(Group.objects.get_or_create(name=FINANCE)[0])
    return user

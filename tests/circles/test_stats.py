"""Owner numbers: churn (退群率) by its definition, members, joins and renewals, posts per day, tips."""

from datetime import timedelta

import pytest
from django.test import TestCase
from django.utils import timezone

from circles.models import CircleGrant, CircleMembership
from circles.selectors.stats import circle_stats
from circles.services import memberships as membership_services
from circles.services import owner_tools, sweep
from circles.services import posts as post_services
from circles.services import tips as tip_services
from tests.circles import factories as f
from tests.circles.conftest import api_for
from tests.payments.helpers import create_paid_order


def paying_since(circle, user, *, days_ago: int, expires_in_days: int = 300):
    """Make `user`'s purchase look `days_ago` days old, running out `expires_in_days` from now."""
    now = timezone.now()
    membership = CircleMembership.objects.get(circle=circle, user=user)
    CircleGrant.objects.filter(membership=membership).update(
        created_at=now - timedelta(days=days_ago), expires_at=now + timedelta(days=expires_in_days)
    )
    CircleMembership.objects.filter(pk=membership.pk).update(
        joined_at=now - timedelta(days=days_ago), expires_at=now + timedelta(days=expires_in_days)
    )


@pytest.mark.django_db
def test_churn_counts_paying_members_at_the_start_who_left_were_removed_or_did_not_renew(circle):
    # given five members paying since 60 days ago
    leaver, removed, lapsed, renewed, stayer = (f.make_member(circle=circle) for _ in range(5))
    for user in (leaver, removed, stayer):
        paying_since(circle, user, days_ago=60)
    for user in (lapsed, renewed):
        paying_since(circle, user, days_ago=60, expires_in_days=-10)  # ran out 10 days ago
    # and people who are not in the base: a new joiner who leaves, a trial, someone who left before
    # the period, a tier-included member
    newcomer = f.make_member(circle=circle)
    f.make_trial(circle=circle)
    gone_before = f.make_member(circle=circle)
    paying_since(circle, gone_before, days_ago=90)
    membership_services.circle_leave(circle=circle, user=gone_before)
    CircleMembership.objects.filter(circle=circle, user=gone_before).update(
        left_at=timezone.now() - timedelta(days=40)
    )
    f.make_tier_member(circle=circle)

    # when, within the period, one leaves, one is removed, one lets the time run out, one renews late
    membership_services.circle_leave(circle=circle, user=leaver)
    membership_services.circle_leave(circle=circle, user=newcomer)
    with TestCase.captureOnCommitCallbacks(execute=True):
        owner_tools.circle_member_remove(
            circle=circle,
            membership=CircleMembership.objects.get(circle=circle, user=removed),
            actor=circle.owner,
            refund=False,
        )
    sweep.circles_sweep()
    create_paid_order(user=renewed, item_type="circle", item_id=str(circle.pk))

    # then churn = 3 of the 5 paying at the start
    stats = circle_stats(circle=circle, days=30)
    assert (stats.base, stats.churned) == (5, 3)
    assert (stats.left, stats.removed, stats.lapsed) == (1, 1, 1)
    assert stats.churn_bp == 6000
    assert stats.renewed == 1
    # members now: stayer, renewed, the trial and the owner; the tier member is counted apart
    assert stats.members == 4 and stats.trials == 1 and stats.tier_members == 1

    # and a member who left and came back within the period is not churned
    create_paid_order(user=leaver, item_type="circle", item_id=str(circle.pk))
    assert circle_stats(circle=circle, days=30).churned == 2


@pytest.mark.django_db
def test_stats_api_shows_posts_per_day_and_tips_to_managers_only(circle):
    author, fan = f.make_member(circle=circle), f.make_member(circle=circle)
    for i in range(6):
        post_services.post_create(circle=circle, author=author, body=f"第 {i} 帖")
    post = post_services.post_create(circle=circle, author=author, body="值得打赏")
    tip = tip_services.tip_intent_create(user=fan, amount_fen=1_000, post=post)
    create_paid_order(user=fan, item_type="tip", item_id=str(tip.pk))

    body = api_for(circle.owner).get(f"/api/v1/circles/{circle.pk}/stats/?days=7").json()
    assert body["posts"] == 7 and body["posts_per_day"] == 1.0
    assert body["tips_count"] == 1 and body["tips_fen"] == 1_000
    assert body["joined"] == 2 and body["members"] == 3
    assert api_for(author).get(f"/api/v1/circles/{circle.pk}/stats/").status_code == 404


@pytest.mark.django_db
def test_stats_take_a_fixed_number_of_queries(circle, django_assert_max_num_queries):
    for _ in range(3):
        f.make_member(circle=circle)
    with django_assert_max_num_queries(7):
        circle_stats(circle=circle)
    for _ in range(5):
        f.make_member(circle=circle)
    with django_assert_max_num_queries(7):
        circle_stats(circle=circle)

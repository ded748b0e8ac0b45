"""Pricing: fixed duration vs fixed window (late joiners pay the same or pro-rated), renewal bands,
free trials, and inclusion in membership tiers (rank-inclusive)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from circles.models import Circle, CircleMembership, CircleMembershipEvent
from circles.selectors.access import circle_access
from circles.services import circles as circle_services
from circles.services import memberships as membership_services
from circles.services import sweep
from circles.services.pricing import renewal_due
from core.errors import ApplicationError
from payments import items
from tests.circles import factories as f
from tests.circles.conftest import api_for
from tests.factories import TierFactory, UserFactory
from tests.payments.helpers import create_paid_order


def window_circle(owner, *, started_days_ago, ends_in_days, late_join, price_fen=36_500):
    now = timezone.now()
    return f.make_circle(
        owner=owner,
        pricing_mode="window",
        window_starts_at=now - timedelta(days=started_days_ago),
        window_ends_at=now + timedelta(days=ends_in_days),
        late_join=late_join,
        price_fen=price_fen,
    )


def quote(user, circle):
    return items.quote(user=user, item_type="circle", item_id=str(circle.pk))


@pytest.mark.django_db
def test_a_fixed_window_charges_late_joiners_the_full_price_when_the_owner_says_so(owner):
    circle = window_circle(owner, started_days_ago=300, ends_in_days=65, late_join="full")
    user = UserFactory()
    assert quote(user, circle).amount_fen == 36_500 and quote(user, circle).lines == ()
    create_paid_order(user=user, item_type="circle", item_id=str(circle.pk))
    membership = CircleMembership.objects.get(circle=circle, user=user)
    assert membership.expires_at == circle.window_ends_at  # the window's end, not 365 days from today
    with pytest.raises(ApplicationError) as exc:
        quote(user, circle)
    assert exc.value.code == "already_member"


@pytest.mark.django_db
def test_a_prorated_window_charges_for_the_days_left_and_nothing_before_it_opens(owner):
    running = window_circle(owner, started_days_ago=265, ends_in_days=100, late_join="prorated")
    upcoming = window_circle(owner, started_days_ago=-10, ends_in_days=355, late_join="prorated")
    user = UserFactory()
    late = quote(user, running)
    assert late.amount_fen == 36_500 * 100 // 365 == 10_000
    assert [line.label for line in late.lines] == ["晚加入按剩余天数折算"]
    assert quote(user, upcoming).amount_fen == 36_500  # joining before the window opens: full price
    order = create_paid_order(user=user, item_type="circle", item_id=str(running.pk))
    assert order.amount_fen == 10_000


@pytest.mark.django_db
def test_a_closed_window_cannot_be_bought(owner):
    circle = window_circle(owner, started_days_ago=400, ends_in_days=-35, late_join="full")
    with pytest.raises(ApplicationError) as exc:
        quote(UserFactory(), circle)
    assert exc.value.code == "circle_window_closed"


@pytest.mark.django_db
def test_renewing_into_the_next_window_applies_the_band_and_runs_to_its_end(owner):
    # given a member of this year's window, 20 days before it ends
    circle = window_circle(owner, started_days_ago=345, ends_in_days=20, late_join="full")
    user = UserFactory()
    create_paid_order(user=user, item_type="circle", item_id=str(circle.pk))
    # when the owner opens the next window (starting when this one ends)
    old_end = circle.window_ends_at
    circle.window_starts_at, circle.window_ends_at = old_end, old_end + timedelta(days=365)
    circle.save(update_fields=["window_starts_at", "window_ends_at"])
    # then renewing costs the "within 30 days" band (90%) and runs to the new window's end
    renewal = quote(user, circle)
    assert renewal.context["circle_kind"] == "renew" and renewal.context["band"] == "window"
    assert renewal.amount_fen == 36_500 * 9_000 // 10_000
    create_paid_order(user=user, item_type="circle", item_id=str(circle.pk))
    membership = CircleMembership.objects.get(circle=circle, user=user)
    assert membership.expires_at == circle.window_ends_at
    assert CircleMembershipEvent.objects.filter(membership=membership, kind="renewed").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("days_left", "band", "rate_bp"),
    [
        (31, "early", 8_000),
        (30, "window", 9_000),
        (1, "window", 9_000),
        (0, "late", 10_000),
        (-200, "late", 10_000),
    ],
)
def test_renewal_band_edges(circle, days_left, band, rate_bp):
    user = f.make_member(circle=circle)
    CircleMembership.objects.filter(circle=circle, user=user).update(
        expires_at=timezone.now() + timedelta(days=days_left, minutes=-1)  # just inside the edge
    )
    renewal = quote(user, circle)
    assert renewal.context["band"] == band
    assert renewal.amount_fen == circle.price_fen * rate_bp // 10_000


@pytest.mark.django_db
def test_the_circle_page_shows_the_renewal_price_with_its_band(circle, client):
    user = f.make_member(circle=circle)
    CircleMembership.objects.filter(circle=circle, user=user).update(
        expires_at=timezone.now() + timedelta(days=10)
    )
    client.force_login(user)
    html = client.get(reverse("circles:detail", args=[circle.pk])).content.decode()
    assert "¥179.10" in html and "到期前续费" in html


@pytest.mark.django_db
def test_a_free_trial_reads_and_posts_for_its_days_then_ends_and_paying_starts_a_full_term(circle):
    user = UserFactory()
    api = api_for(user)
    started = api.post(f"/api/v1/circles/{circle.pk}/trial/")
    assert started.status_code == 201 and started.json()["role"] == "trial"
    membership = CircleMembership.objects.get(circle=circle, user=user)
    assert abs((membership.expires_at - timezone.now() - timedelta(days=3)).total_seconds()) < 60
    circle_services.circle_rules_accept(circle=circle, user=user)
    assert (
        api.post(f"/api/v1/circles/{circle.pk}/posts/", {"body": "试用中发帖"}, format="json").status_code
        == 201
    )
    assert api.post(f"/api/v1/circles/{circle.pk}/trial/").json()["code"] == "trial_used"
    # the trial runs out: the sweep records it and the content closes
    CircleMembership.objects.filter(pk=membership.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    sweep.circles_sweep()
    assert api.get(f"/api/v1/circles/{circle.pk}/posts/").status_code == 403
    # paying after the trial is a join at the full price, 365 days from today
    assert quote(user, circle).amount_fen == circle.price_fen
    create_paid_order(user=user, item_type="circle", item_id=str(circle.pk))
    membership.refresh_from_db()
    assert membership.role == "member"
    assert abs((membership.expires_at - timezone.now() - timedelta(days=365)).total_seconds()) < 60
    kinds = list(CircleMembershipEvent.objects.filter(membership=membership).values_list("kind", flat=True))
    assert sorted(kinds) == ["expired", "joined", "trial"]


@pytest.mark.django_db
def test_no_trial_without_trial_days_or_for_paying_members(owner):
    circle = f.make_circle(owner=owner, trial_days=0)
    with pytest.raises(ApplicationError) as exc:
        membership_services.circle_trial_start(circle=circle, user=UserFactory())
    assert exc.value.code == "trial_unavailable"
    with_trial = f.make_circle(owner=owner)
    paid = f.make_member(circle=with_trial)
    with pytest.raises(ApplicationError) as exc:
        membership_services.circle_trial_start(circle=with_trial, user=paid)
    assert exc.value.code == "trial_used"


@pytest.mark.django_db
def test_tier_inclusion_is_rank_inclusive(owner):
    # given a circle included in VIP (rank 1); KA (rank 2) includes everything VIP includes
    vip = TierFactory(code="VIP", name="VIP", rank=1, member_no_prefix="V")
    circle = f.make_circle(owner=owner, tiers=[vip])
    ka_member = UserFactory()
    f.give_tier(user=ka_member, code="KA", rank=2)
    vip_member = UserFactory()
    from members.models import Membership

    now = timezone.now()
    Membership.objects.create(
        user=vip_member, tier=vip, starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=30)
    )
    outsider = UserFactory()
    # then KA and VIP members read it without buying, an outsider does not
    for user in (ka_member, vip_member):
        access = circle_access(user, circle)
        assert access.can_read and access.via_tier
        assert api_for(user).get(f"/api/v1/circles/{circle.pk}/posts/").status_code == 200
    assert api_for(outsider).get(f"/api/v1/circles/{circle.pk}/posts/").status_code == 403
    detail = api_for(outsider).get(f"/api/v1/circles/{circle.pk}/").json()
    assert detail["included_in_tiers"] == ["VIP"] and detail["access"]["reason"] == "join"


@pytest.mark.django_db
def test_the_renewal_is_offered_near_the_end_not_right_after_joining(client, circle):
    """A year-long circle: no 立即续费 the day after joining; inside the renewal window it is there,
    priced in the window band; a trial always sees its join offer; members through a tier never."""
    circle.duration_days, circle.renew_window_days = 365, 30
    circle.save()
    user = f.make_member(circle=circle)
    client.force_login(user)
    page = client.get(f"/circles/{circle.pk}/").content.decode()
    assert "立即续费" not in page and "续费价" not in page
    assert api_for(user).get(f"/api/v1/circles/{circle.pk}/").json()["renewal_due"] is False

    CircleMembership.objects.filter(circle=circle, user=user).update(
        expires_at=timezone.now() + timedelta(days=20)
    )
    page = client.get(f"/circles/{circle.pk}/").content.decode()
    assert "立即续费" in page and "到期前续费" in page
    assert api_for(user).get(f"/api/v1/circles/{circle.pk}/").json()["renewal_due"] is True

    trial = f.make_trial(circle=circle)
    client.force_login(trial)
    assert "立即续费" in client.get(f"/circles/{circle.pk}/").content.decode()
    client.force_login(f.make_tier_member(circle=circle))
    assert "立即续费" not in client.get(f"/circles/{circle.pk}/").content.decode()


def test_a_short_renewal_window_still_gives_a_week_of_notice():
    now = timezone.now()
    circle = Circle(renew_window_days=0)
    membership = CircleMembership(role="member", status="active", expires_at=now + timedelta(days=6))
    assert renewal_due(circle=circle, membership=membership, now=now)
    membership.expires_at = now + timedelta(days=8)
    assert not renewal_due(circle=circle, membership=membership, now=now)

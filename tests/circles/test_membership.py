"""Joining, renewing (price bands), fixed windows, trials, leaving, removal and rejoining, expiry, churn."""

from datetime import timedelta

import pytest
from django.utils import timezone

from circles.models import CircleMembership, CircleMembershipEvent
from circles.selectors.access import circle_access
from circles.services import circles as circle_services
from circles.services import memberships as membership_services
from circles.services import owner_tools, sweep
from core.models import AuditLog
from payments import items
from payments.models import Order
from tests.circles import factories as f
from tests.circles.conftest import api_for
from tests.factories import UserFactory
from tests.payments.helpers import create_paid_order, refund_order


@pytest.mark.django_db
def test_joining_grants_the_duration_from_the_day_of_payment(circle):
    user = UserFactory()
    order = f.buy_circle(circle=circle, user=user)
    membership = CircleMembership.objects.get(circle=circle, user=user)
    assert order.amount_fen == 19_900
    assert membership.role == "member" and membership.status == "active"
    assert abs((membership.expires_at - (timezone.now() + timedelta(days=365))).total_seconds()) < 60
    assert CircleMembershipEvent.objects.filter(membership=membership, kind="joined").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("days_left", "band", "amount"),
    [(200, "early", 15_920), (20, "window", 17_910), (-5, "late", 19_900)],
)
def test_renewal_price_depends_on_the_band(circle, days_left, band, amount):
    # given a member whose expiry is `days_left` away (bands: early 80%, within 30 days 90%, later 100%)
    user = f.make_member(circle=circle)
    CircleMembership.objects.filter(circle=circle, user=user).update(
        expires_at=timezone.now() + timedelta(days=days_left)
    )
    # when they look at the price
    quote = items.quote(user=user, item_type="circle", item_id=str(circle.pk))
    detail = api_for(user).get(f"/api/v1/circles/{circle.pk}/").json()
    # then the band is applied and shown
    assert quote.amount_fen == amount
    assert quote.context["circle_kind"] == "renew" and quote.context["band"] == band
    assert detail["price"]["amount_fen"] == amount and detail["price"]["band"] == band
    # and paying extends from the current expiry (or from today once lapsed)
    old_end = CircleMembership.objects.get(circle=circle, user=user).expires_at
    order = create_paid_order(user=user, item_type="circle", item_id=str(circle.pk))
    assert order.amount_fen == amount
    new_end = CircleMembership.objects.get(circle=circle, user=user).expires_at
    start = max(old_end, timezone.now())
    assert abs((new_end - (start + timedelta(days=365))).total_seconds()) < 60


@pytest.mark.django_db
def test_fixed_window_pricing_prorates_late_joiners_when_the_owner_chooses(owner):
    now = timezone.now()
    prorated = f.make_circle(
        owner=owner,
        pricing_mode="window",
        window_starts_at=now - timedelta(days=50),
        window_ends_at=now + timedelta(days=50),
        late_join="prorated",
        price_fen=10_000,
    )
    full = f.make_circle(
        owner=owner,
        pricing_mode="window",
        window_starts_at=now - timedelta(days=50),
        window_ends_at=now + timedelta(days=50),
        late_join="full",
        price_fen=10_000,
    )
    user = UserFactory()
    late = items.quote(user=user, item_type="circle", item_id=str(prorated.pk))
    assert late.amount_fen == 10_000 * 50 // 100  # 50 of 100 days left
    assert items.quote(user=user, item_type="circle", item_id=str(full.pk)).amount_fen == 10_000
    create_paid_order(user=user, item_type="circle", item_id=str(prorated.pk))
    assert CircleMembership.objects.get(circle=prorated, user=user).expires_at == prorated.window_ends_at


@pytest.mark.django_db
def test_a_trial_is_free_once_and_expires(circle):
    user = UserFactory()
    membership_services.circle_trial_start(circle=circle, user=user)
    assert circle_access(user, circle).role == "trial"
    with pytest.raises(Exception) as exc:
        membership_services.circle_trial_start(circle=circle, user=user)
    assert exc.value.code == "trial_used"
    later = timezone.now() + timedelta(days=4)
    assert circle_access(user, circle, now=later).can_read is False
    # converting a trial is a join at the full price, not a renewal
    assert items.quote(user=user, item_type="circle", item_id=str(circle.pk)).amount_fen == 19_900


@pytest.mark.django_db
def test_removed_with_refund_cannot_rejoin_until_the_owner_allows_it(circle):
    # given a member removed with a refund
    user = f.make_removed(circle=circle, refund=True)
    order = Order.objects.get(user=user, item_type="circle")
    membership = CircleMembership.objects.get(circle=circle, user=user)
    assert order.status == "refunded"
    assert membership.status == "removed" and membership.removed_with_refund and not membership.rejoin_allowed
    assert AuditLog.objects.filter(action="circle_member_remove", target_id=str(membership.pk)).exists()
    # when they try to buy again, they are refused
    with pytest.raises(Exception) as exc:
        items.quote(user=user, item_type="circle", item_id=str(circle.pk))
    assert exc.value.code == "circle_rejoin_blocked"
    response = api_for(user).post(
        "/api/v1/orders/",
        {"item_type": "circle", "item_id": str(circle.pk), "channel": "sandbox"},
        format="json",
    )
    assert response.status_code == 403 and response.json()["code"] == "circle_rejoin_blocked"
    # when the owner allows it, they can pay and are back in
    owner_tools.circle_member_allow_rejoin(circle=circle, membership=membership, actor=circle.owner)
    create_paid_order(user=user, item_type="circle", item_id=str(circle.pk))
    assert circle_access(user, circle).can_read is True


@pytest.mark.django_db
def test_removed_without_refund_may_pay_to_rejoin(circle):
    user = f.make_removed(circle=circle, refund=False)
    assert Order.objects.get(user=user, item_type="circle").status == "paid"
    assert circle_access(user, circle).reason == "removed"
    assert items.quote(user=user, item_type="circle", item_id=str(circle.pk)).amount_fen > 0


@pytest.mark.django_db
def test_only_managers_can_remove_members_and_admins_cannot_remove_admins(circle):
    member = f.make_member(circle=circle)
    other = f.make_member(circle=circle)
    target = CircleMembership.objects.get(circle=circle, user=other)
    refused = api_for(member).post(
        f"/api/v1/circles/{circle.pk}/members/{target.pk}/remove/", {}, format="json"
    )
    assert refused.status_code == 404
    admin = f.make_admin(circle=circle)
    owner_tools.circle_member_set_role(circle=circle, membership=target, role="admin", actor=circle.owner)
    denied = api_for(admin).post(
        f"/api/v1/circles/{circle.pk}/members/{target.pk}/remove/", {}, format="json"
    )
    assert denied.status_code == 403


@pytest.mark.django_db
def test_a_full_refund_takes_back_the_days_it_granted(circle):
    user = UserFactory()
    order = f.buy_circle(circle=circle, user=user)
    assert circle_access(user, circle).can_read
    refund_order(order=order)
    membership = CircleMembership.objects.get(circle=circle, user=user)
    assert membership.role == "expired"
    assert circle_access(user, circle).can_read is False
    assert CircleMembershipEvent.objects.filter(membership=membership, kind="refunded").exists()


@pytest.mark.django_db
def test_leaving_ends_access_and_is_recorded(circle):
    user = f.make_member(circle=circle)
    response = api_for(user).post(f"/api/v1/circles/{circle.pk}/leave/")
    assert response.status_code == 204
    assert circle_access(user, circle).can_read is False
    membership = CircleMembership.objects.get(circle=circle, user=user)
    assert membership.status == "left" and membership.left_at is not None
    assert CircleMembershipEvent.objects.filter(membership=membership, kind="left", actor=user).count() == 1
    # leaving twice is refused; the owner cannot leave
    assert api_for(user).post(f"/api/v1/circles/{circle.pk}/leave/").json()["code"] == "not_member"
    assert api_for(circle.owner).post(f"/api/v1/circles/{circle.pk}/leave/").status_code == 400


@pytest.mark.django_db
def test_the_sweep_expires_lapsed_members_and_records_it(circle):
    user = f.make_expired(circle=circle)
    result = sweep.circles_sweep()
    membership = CircleMembership.objects.get(circle=circle, user=user)
    assert result["expired"] == 1 and membership.role == "expired"
    assert CircleMembershipEvent.objects.filter(membership=membership, kind="expired").count() == 1
    assert sweep.circles_sweep()["expired"] == 0  # idempotent


@pytest.mark.django_db
def test_owners_see_members_by_role_and_the_expiring_soon_list(circle):
    soon = f.make_member(circle=circle)
    CircleMembership.objects.filter(circle=circle, user=soon).update(
        expires_at=timezone.now() + timedelta(days=5)
    )
    f.make_member(circle=circle)
    owner = api_for(circle.owner)
    expiring = owner.get(f"/api/v1/circles/{circle.pk}/members/?expiring=1").json()
    assert [m["user"]["id"] for m in expiring["results"]] == [soon.pk]
    members = owner.get(f"/api/v1/circles/{circle.pk}/members/?role=member").json()
    assert members["count"] == 2 and len(members["results"]) == 2
    assert api_for(soon).get(f"/api/v1/circles/{circle.pk}/members/").status_code == 404


@pytest.mark.django_db
def test_owner_promotes_a_member_to_guest(circle, client):
    user = f.make_member(circle=circle)
    membership = CircleMembership.objects.get(circle=circle, user=user)
    response = api_for(circle.owner).post(
        f"/api/v1/circles/{circle.pk}/members/{membership.pk}/role/", {"role": "guest"}, format="json"
    )
    assert response.status_code == 200 and response.json()["role"] == "guest"
    assert circle_access(user, circle).role == "guest"


@pytest.mark.django_db
def test_tier_members_read_without_paying_and_lose_access_when_the_tier_lapses(circle):
    from members.models import Membership

    user = f.make_tier_member(circle=circle, accept_rules=False)
    access = circle_access(user, circle)
    assert access.can_read and access.via_tier and access.rules_pending
    circle_services.circle_rules_accept(circle=circle, user=user)
    assert circle_access(user, circle).can_post
    Membership.objects.filter(user=user).update(ends_at=timezone.now() - timedelta(minutes=1))
    assert circle_access(user, circle).can_read is False
    # a lower tier than the one included does not grant access
    vip_user = UserFactory()
    f.give_tier(user=vip_user, code="VIP", rank=1)
    assert circle_access(vip_user, circle).can_read is False

"""Memberships as an item type: buy, renew, upgrade with pro-rata credit, refunds that take back
exactly what the order granted, manual grants, membership days."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from core.errors import ApplicationError
from core.models import AuditLog
from members.memberships.grants import (
    membership_fulfil_order,
    membership_grant,
    membership_grant_manual,
    membership_revoke_manual,
)
from members.memberships.selectors import active_membership, days_left
from members.memberships.upgrades import membership_offers, upgrade_credit
from members.models import Membership, MembershipGrant, Notification, Onboarding
from payments import items
from payments.models import Order
from payments.orders.checkout import order_create, order_create_free
from tests.factories import TierFactory, UserFactory
from tests.members.conftest import api_for
from tests.members.helpers import age, buy
from tests.payments.helpers import refund_order


def membership_of(user) -> Membership:
    return Membership.objects.select_related("tier").get(user=user)


def test_buying_vip_starts_365_days_with_a_member_number(member, vip, ka):
    order = buy(member, "VIP")
    membership = membership_of(member)
    member.refresh_from_db()
    assert order.amount_fen == 360_000 and order.title == "开通VIP会员（365天）"
    assert membership.tier == vip
    assert days_left(membership) == 365
    assert member.member_no == "VIP-000001"
    grant = MembershipGrant.objects.get(order=order)
    assert grant.kind == MembershipGrant.Kind.START and grant.value_fen == 360_000
    assert Onboarding.objects.filter(user=member).exists()
    assert Notification.objects.filter(user=member, kind="membership", title="欢迎成为VIP会员").exists()


def test_buying_the_same_tier_again_renews_from_the_current_end(member, vip):
    buy(member, "VIP")
    age(member, 100)
    end_before = membership_of(member).ends_at
    quote = items.quote(user=member, item_type="membership", item_id="VIP")
    assert quote.title == "续费VIP会员（顺延365天）" and quote.amount_fen == 360_000
    buy(member, "VIP")
    membership = membership_of(member)
    member.refresh_from_db()
    assert membership.ends_at == end_before + timedelta(days=365)
    assert days_left(membership) == 265 + 365
    assert member.member_no == "VIP-000001"  # a renewal never changes the number


def test_upgrade_is_priced_with_credit_for_the_unused_days(member, vip, ka):
    buy(member, "VIP")
    age(member, 100)  # 265 days left

    quote = items.quote(user=member, item_type="membership", item_id="KA")
    credit = 360_000 * 265 // 365  # pro rata by days, floor to the fen
    assert credit == 261_369
    assert quote.amount_fen == 12_000_000 - credit
    assert [(line.label, line.amount_fen) for line in quote.lines] == [("原VIP会员剩余 265 天折抵", -credit)]

    order = buy(member, "KA")
    assert order.amount_fen == 12_000_000 - credit
    assert order.lines == [{"label": "原VIP会员剩余 265 天折抵", "amount_fen": -credit}]
    membership = membership_of(member)
    member.refresh_from_db()
    assert membership.tier == ka and days_left(membership) == 365
    assert member.member_no == "VIP-000001"
    grant = MembershipGrant.objects.get(order=order)
    assert grant.kind == MembershipGrant.Kind.UPGRADE and grant.tier_before == vip
    assert grant.credit_fen == credit and grant.value_fen == 12_000_000


def test_upgrade_on_the_last_day_gets_no_credit_and_still_works(member, vip, ka):
    buy(member, "VIP")
    # Ends later today (Asia/Shanghai), halfway to midnight: a fixed 364.9 days put the end past
    # midnight when the test ran after 21:36 there, and the "last day" was the day before the last.
    now = timezone.now()
    midnight = datetime.combine(
        timezone.localdate(now) + timedelta(days=1), time.min, tzinfo=timezone.get_current_timezone()
    )
    ends_at = now + (midnight - now) / 2
    age(member, (membership_of(member).ends_at - ends_at) / timedelta(days=1))
    assert active_membership(member) is not None
    quote = items.quote(user=member, item_type="membership", item_id="KA")
    assert quote.amount_fen == 12_000_000 and quote.lines == ()
    buy(member, "KA")
    membership = membership_of(member)
    assert membership.tier == ka and days_left(membership) == 365


def test_credit_covering_the_whole_price_makes_the_upgrade_free(member):
    cheap = TierFactory(code="BASIC", name="基础", price_fen=100_000, rank=1, member_no_prefix="B")
    TierFactory(code="PLUS", name="进阶", price_fen=10_000, rank=2, member_no_prefix="P")
    buy(member, cheap.code)
    order = order_create(user=member, item_type="membership", item_id="PLUS", channel="sandbox")
    assert order.amount_fen == 0 and order.status == Order.Status.PAID
    assert membership_of(member).tier.code == "PLUS"


def test_buying_a_lower_tier_while_a_higher_one_is_active_is_refused_clearly(member, vip, ka):
    buy(member, "KA")
    with pytest.raises(ApplicationError) as excinfo:
        items.quote(user=member, item_type="membership", item_id="VIP")
    assert excinfo.value.code == "lower_tier_active"
    assert "KA大客户" in excinfo.value.message and "无需购买较低等级" in excinfo.value.message
    response = api_for(member).post(
        "/api/v1/orders/", {"item_type": "membership", "item_id": "VIP", "channel": "sandbox"}, format="json"
    )
    assert response.status_code == 400 and response.json()["code"] == "lower_tier_active"
    assert Order.objects.filter(user=member).count() == 1


@pytest.mark.parametrize("item_id", ["NOPE", "", "vip "])
def test_unknown_or_stopped_tiers_cannot_be_bought(member, vip, item_id):
    vip.is_active = item_id != "vip "
    vip.save()
    with pytest.raises(items.ItemUnavailable):
        items.quote(user=member, item_type="membership", item_id=item_id or " ")


def test_refund_of_a_renewal_takes_back_exactly_its_days(member, vip):
    buy(member, "VIP")
    end_after_first = membership_of(member).ends_at
    renewal = buy(member, "VIP")
    refund_order(order=renewal)
    assert membership_of(member).ends_at == end_after_first
    assert MembershipGrant.objects.get(order=renewal).revoked_at is not None


def test_refund_of_the_first_purchase_ends_the_membership_but_keeps_the_number(member, other, vip):
    order = buy(member, "VIP")
    refund_order(order=order)
    member.refresh_from_db()
    assert active_membership(member) is None
    assert member.member_no == "VIP-000001"  # never reused
    buy(other, "VIP")
    other.refresh_from_db()
    assert other.member_no == "VIP-000002"


def test_refund_of_an_upgrade_restores_the_previous_tier_and_end(member, vip, ka):
    buy(member, "VIP")
    age(member, 30)
    before = membership_of(member)
    upgrade = buy(member, "KA")
    assert membership_of(member).tier == ka
    refund_order(order=upgrade)
    after = membership_of(member)
    assert after.tier == vip
    assert (after.starts_at, after.ends_at) == (before.starts_at, before.ends_at)
    assert days_left(after) == 335


def test_refund_of_an_earlier_order_keeps_later_renewals(member, vip):
    first = buy(member, "VIP")
    buy(member, "VIP")
    refund_order(order=first)
    membership = membership_of(member)
    assert active_membership(member) is not None
    assert days_left(membership) == 365


def test_refund_of_a_renewal_after_expiry_does_nothing_harmful(member, vip):
    buy(member, "VIP")
    renewal = buy(member, "VIP")
    age(member, 800)  # both years are over
    assert active_membership(member) is None
    refund_order(order=renewal)
    membership = membership_of(member)
    assert active_membership(member) is None
    assert membership.ends_at >= membership.starts_at


def test_partial_refund_is_a_price_adjustment_and_keeps_the_membership(member, vip):
    order = buy(member, "VIP")
    refund_order(order=order, amount_fen=60_000)
    assert active_membership(member) is not None
    assert MembershipGrant.objects.get(order=order).revoked_at is None
    refund_order(order=order)  # the rest: now it is fully refunded
    assert active_membership(member) is None


def test_fulfil_runs_once_per_order(member, vip):
    order = buy(member, "VIP")
    membership_fulfil_order(order=order)
    assert MembershipGrant.objects.filter(order=order).count() == 1
    assert days_left(membership_of(member)) == 365


def test_lower_tier_paid_while_higher_active_is_converted_not_lost(member, vip, ka):
    """A race (the quote refuses it): VIP paid after KA became active becomes KA days by price."""
    buy(member, "VIP")
    vip_order = order_create(user=member, item_type="membership", item_id="VIP", channel="sandbox")
    buy(member, "KA")
    end = membership_of(member).ends_at
    from django.test import TestCase

    from payments.gateways import sandbox
    from payments.orders.payment_attempts import payment_start

    with TestCase.captureOnCommitCallbacks(execute=True):
        payment = payment_start(order=vip_order, channel="sandbox")
        sandbox.sandbox_pay(payment.out_trade_no)
    membership = membership_of(member)
    assert membership.tier == ka
    assert membership.ends_at == end + timedelta(days=365 * 360_000 // 12_000_000)
    assert MembershipGrant.objects.get(order=vip_order).kind == MembershipGrant.Kind.CONVERT


# ---- operator grants and membership days -------------------------------------------------------------


def test_operator_grant_is_recorded_with_operator_and_reason(member, vip):
    operator = UserFactory(is_staff=True)
    grant = membership_grant_manual(
        user=member, tier=vip, days=30, operator=operator, reason="线下转账 3600 元"
    )
    assert grant.operator == operator and grant.reason == "线下转账 3600 元"
    assert grant.source == MembershipGrant.Source.GRANT and grant.value_fen == 0
    member.refresh_from_db()
    assert member.member_no == "VIP-000001"
    log = AuditLog.objects.get(action="membership_grant")
    assert log.actor == operator and "线下转账" in log.summary
    extension = membership_grant_manual(user=member, tier=vip, days=10, operator=operator, reason="补偿")
    assert extension.kind == MembershipGrant.Kind.RENEW
    assert days_left(membership_of(member)) == 40


@pytest.mark.parametrize(("days", "reason"), [(0, "x"), (-5, "x"), (99999, "x"), (30, " ")])
def test_operator_grant_refuses_bad_input(member, vip, days, reason):
    with pytest.raises(ApplicationError):
        membership_grant_manual(user=member, tier=vip, days=days, operator=member, reason=reason)
    assert not Membership.objects.filter(user=member).exists()


def test_operator_revokes_a_manual_grant(member, vip):
    operator = UserFactory(is_staff=True)
    membership_grant_manual(user=member, tier=vip, days=30, operator=operator, reason="试用")
    extra = membership_grant_manual(user=member, tier=vip, days=10, operator=operator, reason="误操作")
    membership_revoke_manual(grant=extra, operator=operator, reason="撤销误操作")
    assert days_left(membership_of(member)) == 30
    assert AuditLog.objects.filter(action="membership_revoke").count() == 1


def test_membership_days_are_given_away_never_sold(member, vip):
    with pytest.raises(items.ItemUnavailable):
        order_create(user=member, item_type="membership_days", item_id="VIP:30", channel="sandbox")
    order = order_create_free(user=member, item_type="membership_days", item_id="VIP:30", reason="积分兑换")
    assert order.status == Order.Status.PAID
    membership = membership_of(member)
    assert membership.tier == vip and days_left(membership) == 30
    assert MembershipGrant.objects.get(order=order).source == MembershipGrant.Source.POINTS


@pytest.mark.parametrize("item_id", ["VIP", "VIP:0", "VIP:abc", "NOPE:30", "VIP:99999"])
def test_membership_days_item_ids_are_validated(member, vip, item_id):
    with pytest.raises(items.ItemUnavailable):
        order_create_free(user=member, item_type="membership_days", item_id=item_id, reason="r")


def test_membership_days_of_a_lower_tier_are_refused_to_a_higher_member(member, vip, ka):
    buy(member, "KA")
    with pytest.raises(ApplicationError) as excinfo:
        order_create_free(user=member, item_type="membership_days", item_id="VIP:30", reason="r")
    assert excinfo.value.code == "lower_tier_active"


def test_upgrade_credit_counts_only_cash_value(member, vip, ka):
    """Free days (points, gifts) stretch the window but add no cash value to credit."""
    buy(member, "VIP")
    order_create_free(user=member, item_type="membership_days", item_id="VIP:365", reason="r")
    membership = membership_of(member)
    credit, unused = upgrade_credit(membership)
    assert unused == 730 and credit == 360_000 * 730 // 730


def test_the_offer_shown_for_each_tier(member, vip, ka):
    assert [o.kind for o in membership_offers(member)] == ["start", "start"]
    buy(member, "VIP")
    assert [(o.tier.code, o.kind) for o in membership_offers(member)] == [
        ("VIP", "renew"),
        ("KA", "upgrade"),
    ]
    buy(member, "KA")
    assert [(o.tier.code, o.kind) for o in membership_offers(member)] == [("KA", "renew")]


def test_expired_membership_buys_a_fresh_start(member, vip):
    buy(member, "VIP")
    age(member, 400)
    order = buy(member, "VIP")
    assert MembershipGrant.objects.get(order=order).kind == MembershipGrant.Kind.START
    membership = membership_of(member)
    assert membership.starts_at > timezone.now() - timedelta(minutes=5)
    assert days_left(membership) == 365


# ---- API: another user's membership id ---------------------------------------------------------------


def test_membership_detail_is_mine_only(member, other, vip, django_assert_max_num_queries):
    buy(member, "VIP")
    buy(other, "VIP")
    mine = membership_of(member)
    theirs = membership_of(other)
    member.refresh_from_db()
    client = api_for(member)
    with django_assert_max_num_queries(3):
        response = client.get(f"/api/v1/memberships/{mine.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["tier"] == "VIP" and body["active"] is True and body["days_left"] == 365
    assert body["member_no"] == "VIP-000001"
    assert [g["kind"] for g in body["grants"]] == ["start"]
    # another user's id looks exactly like a missing one
    other_response = client.get(f"/api/v1/memberships/{theirs.pk}/")
    missing_response = client.get("/api/v1/memberships/987654/")
    assert other_response.status_code == missing_response.status_code == 404
    assert other_response.json() == missing_response.json()
    assert api_for().get(f"/api/v1/memberships/{mine.pk}/").status_code == 401


def test_quote_api_explains_start_renew_upgrade_and_refusal(member, vip, ka):
    client = api_for(member)
    assert client.get("/api/v1/membership/quote/", {"tier": "VIP"}).json()["kind"] == "start"
    buy(member, "KA")
    response = client.get("/api/v1/membership/quote/", {"tier": "VIP"})
    assert response.status_code == 400 and response.json()["code"] == "lower_tier_active"
    assert client.get("/api/v1/membership/quote/", {"tier": "KA"}).json()["kind"] == "renew"
    assert client.get("/api/v1/membership/quote/").status_code == 400
    assert client.get("/api/v1/membership/quote/", {"tier": "NOPE"}).json()["code"] == "item_unavailable"
    mine = client.get("/api/v1/membership/mine/").json()
    assert mine["membership"]["tier"] == "KA" and [o["kind"] for o in mine["offers"]] == ["renew"]


def test_a_membership_committed_a_moment_ahead_of_our_clock_is_renewed_not_replaced(member, vip):
    """Two payments of one member: the second waits for the first's lock; its clock may be older than
    the first's start. It must renew (regression: it used to start over and drop a year)."""
    now = timezone.now()
    Membership.objects.create(
        user=member, tier=vip, starts_at=now + timedelta(seconds=2), ends_at=now + timedelta(days=365)
    )
    grant = membership_grant(user=member, tier=vip, days=365, source="purchase", now=now)
    assert grant.kind == MembershipGrant.Kind.RENEW
    assert membership_of(member).ends_at == now + timedelta(days=730)

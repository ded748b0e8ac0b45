"""Member numbers: per-tier prefix, gap-free, unique under concurrency, never reused."""

from __future__ import annotations

import secrets

import pytest
from django.db import transaction
from django.utils import timezone

from members.memberships.grants import membership_grant
from members.models import MemberNumberSequence, User
from payments.models import Payment
from payments.orders.checkout import order_create
from payments.orders.payment_attempts import payment_confirm
from tests.concurrency import run_together
from tests.factories import TierFactory, UserFactory
from tests.members.helpers import buy
from tests.payments.helpers import refund_order


def _confirm_all_at_once(payments: list[Payment]) -> None:
    """WeChat's payment notifications for every payment, arriving at the same instant."""

    def confirm(payment: Payment) -> None:
        payment_confirm(
            out_trade_no=payment.out_trade_no,
            transaction_id="4200" + secrets.token_hex(12),
            amount_fen=payment.amount_fen,
            paid_at=timezone.now(),
        )

    results = run_together([lambda p=p: confirm(p) for p in payments])
    assert [r for r in results if isinstance(r, Exception)] == []


def test_numbers_are_per_prefix_and_sequential(vip, ka):
    first, second, third = UserFactory(), UserFactory(), UserFactory()
    buy(first, "VIP")
    buy(second, "KA")
    buy(third, "VIP")
    numbers = [User.objects.get(pk=u.pk).member_no for u in (first, second, third)]
    assert numbers == ["VIP-000001", "KA-000001", "VIP-000002"]


def test_a_rolled_back_fulfilment_gives_its_number_back(member, other, vip):
    with pytest.raises(RuntimeError), transaction.atomic():
        membership_grant(user=member, tier=vip, days=365, source="purchase")
        assert User.objects.get(pk=member.pk).member_no == "VIP-000001"
        raise RuntimeError("payment transaction fails after fulfil")
    assert User.objects.get(pk=member.pk).member_no is None
    buy(other, "VIP")
    assert User.objects.get(pk=other.pk).member_no == "VIP-000001"  # no gap


def test_refunded_members_keep_their_number_and_it_is_never_reused(member, other, vip):
    order = buy(member, "VIP")
    refund_order(order=order)
    buy(other, "VIP")
    buy(member, "VIP")  # comes back later
    assert User.objects.get(pk=member.pk).member_no == "VIP-000001"
    assert User.objects.get(pk=other.pk).member_no == "VIP-000002"


def test_upgrading_keeps_the_first_number(member, vip, ka):
    buy(member, "VIP")
    buy(member, "KA")
    assert User.objects.get(pk=member.pk).member_no == "VIP-000001"
    assert MemberNumberSequence.objects.get(prefix="VIP").last_value == 1
    assert not MemberNumberSequence.objects.filter(prefix="KA", last_value__gt=0).exists()


def test_prefix_falls_back_to_the_tier_code(member):
    tier = TierFactory(code="GOLD", name="金卡", price_fen=100, rank=5, member_no_prefix="")
    membership_grant(user=member, tier=tier, days=30, source="grant")
    assert User.objects.get(pk=member.pk).member_no == "GOLD-000001"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_purchases_get_distinct_gap_free_numbers():
    vip = TierFactory(code="VIP", name="VIP会员", price_fen=360_000, rank=1, member_no_prefix="VIP")
    buyers = [UserFactory() for _ in range(6)]
    payments = []
    for buyer in buyers:
        order = order_create(user=buyer, item_type="membership", item_id=vip.code, channel="wechat_native")
        payments.append(
            Payment.objects.create(
                order=order,
                channel="wechat_native",
                out_trade_no=f"{order.order_no}{secrets.token_hex(3).upper()}",
                amount_fen=order.amount_fen,
                status=Payment.Status.PREPAID,
            )
        )
    _confirm_all_at_once(payments)
    numbers = sorted(User.objects.filter(pk__in=[b.pk for b in buyers]).values_list("member_no", flat=True))
    assert numbers == [f"VIP-{n:06d}" for n in range(1, 7)]
    assert MemberNumberSequence.objects.get(prefix="VIP").last_value == 6


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_orders_of_one_member_paid_at_once_start_then_renew():
    vip = TierFactory(code="VIP", name="VIP会员", price_fen=360_000, rank=1, member_no_prefix="VIP")
    buyer = UserFactory()
    payments = []
    for _ in range(2):
        order = order_create(user=buyer, item_type="membership", item_id=vip.code, channel="wechat_native")
        payments.append(
            Payment.objects.create(
                order=order,
                channel="wechat_native",
                out_trade_no=f"{order.order_no}{secrets.token_hex(3).upper()}",
                amount_fen=order.amount_fen,
                status=Payment.Status.PREPAID,
            )
        )
    _confirm_all_at_once(payments)
    from members.memberships.selectors import days_left
    from members.models import MembershipGrant

    assert sorted(MembershipGrant.objects.filter(user=buyer).values_list("kind", flat=True)) == [
        "renew",
        "start",
    ]
    assert days_left(buyer.membership) == 730
    assert User.objects.get(pk=buyer.pk).member_no == "VIP-000001"

"""Concurrency on real PostgreSQL with threads: the last place, duplicate notifications, binding races."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client

from core.errors import ApplicationError
from payments.models import Earning, Order, PaymentNotification
from payments.orders.checkout import order_create
from payments.orders.payment_attempts import payment_start
from payments.wallet import ledger
from referrals import attribution, group_buys
from referrals.models import Commission, GroupBuy, GroupBuyMember, ReferralBinding
from tests.concurrency import run_together
from tests.factories import UserFactory
from tests.payments.catalog import TEST_ITEM
from tests.payments.helpers import create_paid_order
from tests.payments.wechat_support import deliver
from tests.referrals import factories as f

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_twenty_concurrent_joins_for_the_last_place_give_exactly_one():
    # given a 3-person group with 2 paid members (one place left)
    offer = f.offer(size=3)
    seat = group_buys.group_buy_open(user=UserFactory(), offer=offer)
    create_paid_order(user=seat.user, item_type="group_buy", item_id=str(seat.pk))
    second = group_buys.group_buy_join(user=UserFactory(), group_id=seat.group_id)
    create_paid_order(user=second.user, item_type="group_buy", item_id=str(second.pk))
    joiners = [UserFactory() for _ in range(20)]
    # when 20 people join at the same instant
    results = run_together(
        [lambda u=u: group_buys.group_buy_join(user=u, group_id=seat.group_id) for u in joiners]
    )
    # then exactly one got the place; everyone else was told the group is full
    winners = [r for r in results if isinstance(r, GroupBuyMember)]
    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert len(winners) == 1, results
    assert len(refused) == 19 and {r.code for r in refused} == {"group_full"}
    # and when the winner pays, the group succeeds with 3 members
    create_paid_order(user=winners[0].user, item_type="group_buy", item_id=str(winners[0].pk))
    group = GroupBuy.objects.get(pk=seat.group_id)
    assert group.status == "succeeded" and group.paid_count == 3
    assert group.members.exclude(granted_order=None).count() == 3


def test_last_two_payments_racing_succeed_the_group_once(test_items):
    offer = f.offer(size=3)
    seat = group_buys.group_buy_open(user=UserFactory(), offer=offer)
    create_paid_order(user=seat.user, item_type="group_buy", item_id=str(seat.pk))
    seats = [group_buys.group_buy_join(user=UserFactory(), group_id=seat.group_id) for _ in range(2)]
    orders = [
        order_create(user=s.user, item_type="group_buy", item_id=str(s.pk), channel="wechat_native")
        for s in seats
    ]
    results = run_together([lambda o=o: create_paid_order_for(o) for o in orders])
    assert all(r is None for r in results), results
    group = GroupBuy.objects.get(pk=seat.group_id)
    assert group.status == "succeeded"
    assert len(test_items.fulfilled) == 3  # three grants, never more


def create_paid_order_for(order):
    """Confirm a pending order as WeChat would (no fake server needed for this race)."""
    import secrets

    from django.utils import timezone

    from payments.models import Payment
    from payments.orders.payment_attempts import payment_confirm

    payment = Payment.objects.create(
        order=order,
        channel=order.channel,
        out_trade_no=f"{order.order_no}{secrets.token_hex(3).upper()}",
        amount_fen=order.amount_fen,
        status=Payment.Status.PREPAID,
    )
    payment_confirm(
        out_trade_no=payment.out_trade_no,
        transaction_id="4200" + secrets.token_hex(12),
        amount_fen=payment.amount_fen,
        paid_at=timezone.now(),
    )


def test_fifty_concurrent_duplicate_notifications_accrue_one_commission(fake_wechat, alice, bob):
    f.rule(rate_bp=1000)
    f.bind(bob, alice)
    order = order_create(user=bob, item_type=TEST_ITEM, item_id="A", channel="wechat_native")
    payment = payment_start(order=order)
    headers, body = fake_wechat.pay(payment.out_trade_no)

    statuses = run_together([lambda: deliver(headers, body, Client()).status_code for _ in range(50)])

    assert all(status in (200, 204) for status in statuses), statuses
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID
    assert PaymentNotification.objects.filter(outcome="processed").count() == 1
    assert Commission.objects.filter(order=order).count() == 1
    assert Earning.objects.filter(order=order, source="commission").count() == 1
    assert ledger.balances(alice).pending_fen == 990


def test_racing_cross_bindings_cannot_make_a_cycle():
    # A and B each try to bind to the other at the same instant, 10 times over
    for _round in range(10):
        a, b = UserFactory(), UserFactory()
        run_together(
            [
                lambda a=a, b=b: attribution.binding_try(user=a, referrer=b, source="signup"),
                lambda a=a, b=b: attribution.binding_try(user=b, referrer=a, source="signup"),
            ]
        )
        assert ReferralBinding.objects.filter(user__in=[a, b]).count() == 1
    connection.close()

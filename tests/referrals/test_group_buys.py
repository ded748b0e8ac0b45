"""Group buying (拼团): success fulfils everyone once; expiry refunds everyone; full/expired joins refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import ApplicationError
from payments.models import Order
from payments.orders.checkout import order_create
from payments.wallet import ledger
from referrals import group_buys
from referrals.models import Commission, GroupBuy, GroupBuyMember
from tests.factories import UserFactory
from tests.payments.helpers import create_paid_order, refund_order
from tests.referrals import factories as f
from tests.referrals.conftest import api_for, run_on_commit

pytestmark = pytest.mark.django_db


def pay_seat(seat) -> Order:
    return create_paid_order(user=seat.user, item_type="group_buy", item_id=str(seat.pk))


def open_group(offer, user=None):
    initiator = user or UserFactory()
    seat = group_buys.group_buy_open(user=initiator, offer=offer)
    order = pay_seat(seat)
    return GroupBuy.objects.get(pk=seat.group_id), order


def test_three_person_group_succeeds_and_everyone_is_fulfilled_once(test_items):
    # given a 3-person offer of item "A" (¥99) at ¥50
    offer = f.offer(size=3, price_fen=5_000)
    initiator, friend, other = UserFactory(), UserFactory(), UserFactory()
    # when the initiator opens and pays
    seat = group_buys.group_buy_open(user=initiator, offer=offer)
    assert group_buys.group_buy_open(user=initiator, offer=offer) == seat  # a second click: same seat
    first = pay_seat(seat)
    assert first.amount_fen == 5_000 and first.list_price_fen == 9_900
    group = GroupBuy.objects.get(pk=seat.group_id)
    assert group.status == "forming" and group.paid_count == 1
    assert group.expires_at == first.paid_at + timedelta(hours=24)
    # and two friends join by link and pay
    for user in (friend, other):
        pay_seat(group_buys.group_buy_join(user=user, group_id=group.pk))
    # then the group succeeded and each member got the item through a free order, exactly once
    group.refresh_from_db()
    assert group.status == "succeeded" and group.paid_count == 3
    seats = list(group.members.order_by("pk"))
    assert all(s.status == "paid" and s.granted_order_id for s in seats)
    granted = Order.objects.filter(pk__in=[s.granted_order_id for s in seats])
    assert {o.user_id for o in granted} == {initiator.pk, friend.pk, other.pk}
    assert all(o.amount_fen == 0 and o.channel == "group_buy" and o.item_id == "A" for o in granted)
    assert sorted(test_items.fulfilled) == sorted(o.order_no for o in granted)
    # and running the sweep changes nothing
    group_buys.group_buys_expire(now=timezone.now() + timedelta(days=2))
    group.refresh_from_db()
    assert group.status == "succeeded" and len(test_items.fulfilled) == 3


def test_joining_a_full_group_is_refused_with_a_clear_message():
    offer = f.offer(size=2)
    group, _order = open_group(offer)
    pay_seat(group_buys.group_buy_join(user=UserFactory(), group_id=group.pk))
    with pytest.raises(ApplicationError) as exc:
        group_buys.group_buy_join(user=UserFactory(), group_id=group.pk)
    assert exc.value.code == "group_full" and "拼成" in exc.value.message


def test_a_reserved_place_counts_and_frees_when_it_lapses():
    offer = f.offer(size=2)
    group, _order = open_group(offer)
    late, early = UserFactory(), UserFactory()
    held = group_buys.group_buy_join(user=early, group_id=group.pk)
    with pytest.raises(ApplicationError) as exc:
        group_buys.group_buy_join(user=late, group_id=group.pk)
    assert exc.value.code == "group_full" and "正在付款" in exc.value.message
    # when the reservation lapses (the early joiner never paid), the place is free again
    GroupBuyMember.objects.filter(pk=held.pk).update(reserved_until=timezone.now() - timedelta(seconds=1))
    seat = group_buys.group_buy_join(user=late, group_id=group.pk)
    pay_seat(seat)
    group.refresh_from_db()
    assert group.status == "succeeded"
    # and the early joiner's old order can no longer be created for a lapsed seat
    with pytest.raises(ApplicationError) as exc:
        order_create(user=early, item_type="group_buy", item_id=str(held.pk), channel="sandbox")
    assert exc.value.code in ("group_seat_lapsed", "group_expired")


def test_joining_an_expired_group_is_refused():
    offer = f.offer(size=3, time_limit_hours=1)
    group, _order = open_group(offer)
    GroupBuy.objects.filter(pk=group.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ApplicationError) as exc:
        group_buys.group_buy_join(user=UserFactory(), group_id=group.pk)
    assert exc.value.code == "group_expired" and "过期" in exc.value.message


def test_joining_before_the_initiator_paid_is_refused():
    offer = f.offer(size=3)
    seat = group_buys.group_buy_open(user=UserFactory(), offer=offer)
    with pytest.raises(ApplicationError) as exc:
        group_buys.group_buy_join(user=UserFactory(), group_id=seat.group_id)
    assert exc.value.code == "group_not_open"


def test_expired_group_refunds_every_paid_member_automatically(test_items):
    # given a 3-person group with two paid members
    offer = f.offer(size=3, time_limit_hours=2)
    group, first = open_group(offer)
    second = pay_seat(group_buys.group_buy_join(user=UserFactory(), group_id=group.pk))
    pending = group_buys.group_buy_join(user=UserFactory(), group_id=group.pk)  # reserved, never paid
    # when the sweep runs after the deadline
    with run_on_commit():
        counts = group_buys.group_buys_expire(now=timezone.now() + timedelta(hours=3))
    # then the group expired and both payments were refunded in full (sandbox refunds complete at once)
    group.refresh_from_db()
    assert group.status == "expired"
    assert counts["expired"] == 1 and counts["refunds"] == 2
    for order in (first, second):
        order.refresh_from_db()
        assert order.status == Order.Status.REFUNDED and order.refunded_fen == 5_000
    statuses = dict(group.members.values_list("pk", "status"))
    assert statuses[pending.pk] == "cancelled"
    assert sorted(s for pk, s in statuses.items() if pk != pending.pk) == ["refunded", "refunded"]
    assert test_items.fulfilled == []  # nobody was given the item
    # and a second sweep does nothing more
    with run_on_commit():
        again = group_buys.group_buys_expire(now=timezone.now() + timedelta(hours=4))
    assert again["refunds"] == 0 and again["expired"] == 0


def test_payment_arriving_after_expiry_is_refunded(test_items):
    offer = f.offer(size=3)
    group, _first = open_group(offer)
    seat = group_buys.group_buy_join(user=UserFactory(), group_id=group.pk)
    order = order_create(user=seat.user, item_type="group_buy", item_id=str(seat.pk), channel="sandbox")
    # the group expires while the friend is paying
    GroupBuy.objects.filter(pk=group.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    from payments.gateways import sandbox
    from payments.orders.payment_attempts import payment_start

    with run_on_commit():
        payment = payment_start(order=order, channel="sandbox")
        sandbox.sandbox_pay(payment.out_trade_no)
    order.refresh_from_db()
    seat.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert seat.status == "refunded" and test_items.fulfilled == []


def test_unopened_group_is_cancelled_when_the_initiator_never_pays():
    offer = f.offer()
    seat = group_buys.group_buy_open(user=UserFactory(), offer=offer)
    counts = group_buys.group_buys_expire(now=timezone.now() + timedelta(hours=1))
    assert counts["cancelled"] == 1
    assert GroupBuy.objects.get(pk=seat.group_id).status == "cancelled"


def test_member_leaving_a_forming_group_frees_the_place():
    offer = f.offer(size=3)
    group, _first = open_group(offer)
    order = pay_seat(group_buys.group_buy_join(user=UserFactory(), group_id=group.pk))
    refund_order(order=order)
    group.refresh_from_db()
    assert group.paid_count == 1 and group.status == "forming"


def test_refund_after_success_revokes_the_grant(test_items):
    offer = f.offer(size=2)
    group, first = open_group(offer)
    pay_seat(group_buys.group_buy_join(user=UserFactory(), group_id=group.pk))
    seat = GroupBuyMember.objects.get(order=first)
    refund_order(order=first)
    seat.refresh_from_db()
    assert seat.status == "refunded"
    granted = Order.objects.get(pk=seat.granted_order_id)
    assert [order_no for order_no, _refund in test_items.revoked] == [granted.order_no]


def test_group_buy_sales_earn_commission_which_is_voided_when_the_group_fails(alice):
    f.rule(item_type="group_buy", rate_bp=1000)
    buyer = UserFactory()
    f.bind(buyer, alice)
    group, order = open_group(f.offer(size=2, time_limit_hours=1), user=buyer)
    commission = Commission.objects.get(order=order)
    assert commission.amount_fen == 500
    # the commission stays held until the group could have been refunded
    assert commission.hold_until >= group.expires_at
    with run_on_commit():
        group_buys.group_buys_expire(now=timezone.now() + timedelta(hours=2))
    commission.refresh_from_db()
    assert commission.status == "reversed"
    assert ledger.balances(alice).pending_fen == 0


def test_group_buy_api_open_join_progress(alice):
    offer = f.offer(size=2)
    initiator, friend = UserFactory(), UserFactory()
    response = api_for(initiator).post(f"/api/v1/referrals/group-buys/offers/{offer.pk}/open/")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["item_type"] == "group_buy" and body["amount_fen"] == 5_000
    create_paid_order(user=initiator, item_type="group_buy", item_id=body["item_id"])
    progress = api_for(friend).get(f"/api/v1/referrals/group-buys/{body['group_id']}/").json()
    assert progress["status"] == "forming" and progress["places_left"] == 1 and progress["seconds_left"] > 0
    joined = api_for(friend).post(f"/api/v1/referrals/group-buys/{body['group_id']}/join/")
    assert joined.status_code == 201
    create_paid_order(user=friend, item_type="group_buy", item_id=joined.json()["item_id"])
    refused = api_for(UserFactory()).post(f"/api/v1/referrals/group-buys/{body['group_id']}/join/")
    assert refused.status_code == 409 and refused.json()["code"] == "group_full"
    mine = api_for(friend).get("/api/v1/referrals/group-buys/mine/").json()
    assert mine["count"] == 1 and mine["results"][0]["group"]["status"] == "succeeded"
    detail = api_for(friend).get(f"/api/v1/referrals/group-buys/offers/{offer.pk}/").json()
    assert detail["offer"]["group_size"] == 2 and detail["open_groups"] == []


def test_unknown_group_is_404():
    assert api_for(UserFactory()).post("/api/v1/referrals/group-buys/999999/join/").status_code == 404


def test_one_person_cannot_hold_places_in_many_groups_without_paying():
    offer = f.offer(size=3)
    groups = [open_group(offer)[0] for _ in range(group_buys.MAX_UNPAID_RESERVATIONS + 1)]
    hoarder = UserFactory()
    for group in groups[:-1]:
        group_buys.group_buy_join(user=hoarder, group_id=group.pk)
    with pytest.raises(ApplicationError) as exc:
        group_buys.group_buy_join(user=hoarder, group_id=groups[-1].pk)
    assert exc.value.code == "too_many_reservations"


def test_tasks_are_thin_and_safe_to_rerun():
    from referrals import tasks

    offer = f.offer(size=3, time_limit_hours=1)
    group, order = open_group(offer)
    GroupBuy.objects.filter(pk=group.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    with run_on_commit():
        first = tasks.expire_group_buys()
    assert first["expired"] == 1
    assert tasks.expire_group_buys()["expired"] == 0
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert tasks.release_commission_points() == 0
    seat = GroupBuyMember.objects.get(order=order)
    assert tasks.group_buy_refund_seat(seat.pk) is False  # already refunded: nothing to do

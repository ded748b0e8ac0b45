"""Group buys on the demo data (`make demo` seeds it) through the pages a new
user clicks: the demo "VIP 会员三人团" succeeds with three paying people who each become VIP, and
another group of the same offer expires (sweep with the clock moved past its limit) and refunds
every payer in full, with nobody made VIP."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from members.memberships.selectors import active_membership
from payments.models import Order
from referrals import group_buys
from referrals.models import GroupBuy, GroupBuyOffer
from tests.factories import UserFactory
from tests.payments.helpers import create_paid_order
from tests.referrals.conftest import run_on_commit

pytestmark = pytest.mark.django_db


def _pay_my_seat(client, user, path: str) -> Order:
    """Press open/join on the page; it leads to the ordinary checkout, paid here through the sandbox."""
    response = client.post(path)
    assert response.status_code == 302 and "item_type=group_buy" in response["Location"], response
    seat = user.group_buy_seats.exclude(status="cancelled").latest("pk")
    assert response["Location"].endswith(f"item_id={seat.pk}")
    return create_paid_order(user=user, item_type="group_buy", item_id=str(seat.pk))


def test_the_demo_three_person_group_succeeds_and_another_expires_and_refunds(client):
    call_command("seed_demo", stdout=io.StringIO())
    offer = GroupBuyOffer.objects.get(title="VIP 会员三人团")
    assert offer.item_type == "membership" and offer.group_size == 3
    # the group-buy list shows the demo offer with its group price
    assert "VIP 会员三人团" in client.get("/referrals/group-buys/").content.decode()

    # A opens a group and pays the group price (¥2,980 instead of ¥3,600)
    a, b, c = UserFactory(nickname="团长"), UserFactory(nickname="团员乙"), UserFactory(nickname="团员丙")
    client.force_login(a)
    first = _pay_my_seat(client, a, f"/referrals/group-buys/offers/{offer.pk}/open/")
    assert first.amount_fen == offer.group_price_fen == 298_000
    group = GroupBuy.objects.get(members__user=a)
    page = client.get(f"/referrals/group-buys/{group.pk}/").content.decode()
    assert "js-countdown" in page and f"ref={a.referral_code}" in page
    assert active_membership(a) is None  # nobody is served before the group is complete

    # B and C join through the shared group page and pay
    for friend in (b, c):
        client.force_login(friend)
        _pay_my_seat(client, friend, f"/referrals/group-buys/{group.pk}/join/")

    # the group succeeded and all three are VIP members for a year
    group.refresh_from_db()
    assert group.status == GroupBuy.Status.SUCCEEDED and group.paid_count == 3
    for member in (a, b, c):
        membership = active_membership(member)
        assert membership is not None and membership.tier.code == "VIP", member
    assert "拼团成功" in client.get(f"/referrals/group-buys/{group.pk}/").content.decode()

    # another group of the same offer gathers two of three and runs out of time
    d, e = UserFactory(), UserFactory()
    client.force_login(d)
    opened = _pay_my_seat(client, d, f"/referrals/group-buys/offers/{offer.pk}/open/")
    second = GroupBuy.objects.get(members__user=d)
    client.force_login(e)
    joined = _pay_my_seat(client, e, f"/referrals/group-buys/{second.pk}/join/")
    with run_on_commit():
        counts = group_buys.group_buys_expire(
            now=timezone.now() + timedelta(hours=offer.time_limit_hours, minutes=1)
        )
    assert counts["expired"] == 1 and counts["refunds"] == 2
    second.refresh_from_db()
    assert second.status == GroupBuy.Status.EXPIRED
    for order in (opened, joined):
        order.refresh_from_db()
        assert order.status == Order.Status.REFUNDED and order.refunded_fen == order.amount_fen == 298_000
    assert active_membership(d) is None and active_membership(e) is None
    # the page says it is over and a latecomer cannot join
    client.force_login(UserFactory())
    assert "已结束" in client.get(f"/referrals/group-buys/{second.pk}/").content.decode()
    late = client.post(f"/referrals/group-buys/{second.pk}/join/", follow=True).content.decode()
    assert "过期" in late

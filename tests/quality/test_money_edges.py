"""Issue 15's probe, replayed through the mini-program API: no benefit outlives the payment behind it.

Each test is one of the numbered cases a determined member tried (API.md rows 4–6 and the points
endpoints, sandbox payments): before the fix each ended with the member keeping something nobody
paid for. Refunds are asked for as the member (self-service) or by an operator; the refunds the
system starts on its own (nobody asked) are covered in tests/courses and tests/referrals.
"""

from __future__ import annotations

import pytest
from django.test import Client, TestCase
from rest_framework.test import APIClient

from courses.camps import seats as camp_seats
from courses.camps import selectors as camp_selectors
from courses.events import door_checkin as event_door_checkin
from courses.events import registrations as event_registrations
from courses.models import CourseEnrolment, EventRegistration, TermSeat
from members.memberships.selectors import active_membership
from members.models import PointsAccount, Reward
from payments.gateways import sandbox
from payments.models import Order, Refund
from payments.orders.payment_attempts import payment_start
from payments.orders.refunds import refund_complete, refund_request, refund_submit
from tests.courses import factories as f
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sandbox(settings, tmp_path_factory):
    settings.PAYMENTS_SANDBOX_ENABLED = True
    settings.PAYMENTS_SANDBOX_KEY_DIR = tmp_path_factory.getbasetemp() / "sandbox_keys"
    settings.MEDIA_ROOT = tmp_path_factory.getbasetemp() / "media"


@pytest.fixture
def vip(db):
    return f.vip_tier()


@pytest.fixture
def ka(db):
    return f.ka_tier()


@pytest.fixture
def member(db):
    return UserFactory()


@pytest.fixture
def api(member):
    client = APIClient()
    client.force_authenticate(member)
    return client


@pytest.fixture
def operator(db):
    return UserFactory(is_staff=True, is_superuser=True)


def order_via_api(api, item_type: str, item_id) -> dict:
    response = api.post(
        "/api/v1/orders/",
        {"item_type": item_type, "item_id": str(item_id), "channel": "sandbox"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def pay(order_no: str) -> Order:
    """The member pays in the sandbox cashier (a signed v3 notification reaches the notify view)."""
    order = Order.objects.get(order_no=order_no)
    with TestCase.captureOnCommitCallbacks(execute=True):
        payment = payment_start(order=order, channel="sandbox")
        assert sandbox.sandbox_pay(payment.out_trade_no) < 300
    order.refresh_from_db()
    return order


def buy(api, item_type: str, item_id) -> Order:
    order = pay(order_via_api(api, item_type, item_id)["order_no"])
    assert order.status == Order.Status.PAID
    return order


def self_refund(api, order: Order):
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = api.post(f"/api/v1/orders/{order.order_no}/refund/", {"reason": "不想要了"}, format="json")
    order.refresh_from_db()
    return response


def operator_refund(order: Order, operator, amount_fen=None) -> Refund:
    with TestCase.captureOnCommitCallbacks(execute=True):
        refund = refund_request(
            order=order, amount_fen=amount_fen, reason="运营退款", requested_by=operator, self_service=False
        )
    refund.refresh_from_db()
    order.refresh_from_db()
    return refund


def points(user) -> int:
    return PointsAccount.objects.filter(user=user).values_list("balance", flat=True).first() or 0


def membership(user):
    return active_membership(user)


# ---- 1. points + refund = free VIP ------------------------------------------------------------------------


@pytest.fixture
def vip_days_reward(vip):
    return Reward.objects.create(
        title="VIP 会员 30 天", item_type="membership_days", item_id="VIP:30", points_price=3000
    )


def test_points_spent_on_vip_days_stop_the_refund_of_the_order_that_earned_them(
    api, member, vip, vip_days_reward
):
    order = buy(api, "membership", "VIP")
    assert points(member) == 3600
    response = api.post(
        f"/api/v1/points/rewards/{vip_days_reward.pk}/redeem/", {"idempotency_key": "tap-1"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert points(member) == 600
    ends_before = membership(member).ends_at

    preview = api.get(f"/api/v1/orders/{order.order_no}/refund/").json()
    assert preview["refundable"] is False and preview["code"] == "points_spent"
    assert "3600" in preview["message"]

    response = self_refund(api, order)
    assert response.status_code == 409 and response.json()["code"] == "points_spent"
    assert order.status == Order.Status.PAID and not order.refunds.exists()
    assert points(member) == 600 and membership(member).ends_at == ends_before


def test_an_operator_may_refund_only_what_the_remaining_points_cover(member, vip, vip_days_reward, operator):
    api = APIClient()
    api.force_authenticate(member)
    order = buy(api, "membership", "VIP")
    api.post(f"/api/v1/points/rewards/{vip_days_reward.pk}/redeem/", {"idempotency_key": "t"}, format="json")

    with pytest.raises(Exception) as refused:
        operator_refund(order, operator)
    assert refused.value.code == "points_spent"
    most = refused.value.extra["max_refund_fen"]
    assert most == 60_099  # 600 points left cover ¥600.99 at 1 point per whole yuan

    refund = operator_refund(order, operator, amount_fen=most)
    assert refund.status == Refund.Status.SUCCEEDED and refund.requested_by == operator
    assert points(member) == 0  # 600 points taken back, none created or lost
    assert order.status == Order.Status.PARTIALLY_REFUNDED
    assert membership(member) is not None  # the member paid ¥2,999.01 for what they keep


def test_a_refund_without_spent_points_takes_them_back_and_ends_the_membership(api, member, vip):
    order = buy(api, "membership", "VIP")
    preview = api.get(f"/api/v1/orders/{order.order_no}/refund/").json()
    assert preview["refundable"] is True and preview["amount_fen"] == 360_000
    assert any("3600" in line for line in preview["losses"]) and any(
        "VIP" in line for line in preview["losses"]
    )

    response = self_refund(api, order)
    assert response.status_code == 202
    assert order.status == Order.Status.REFUNDED
    assert points(member) == 0 and membership(member) is None


def test_an_order_given_for_points_offers_no_money_refund(api, member, vip, vip_days_reward):
    from members.models import PointsAccount as Account

    Account.objects.update_or_create(user=member, defaults={"balance": 3000, "earned_total": 3000})
    response = api.post(
        f"/api/v1/points/rewards/{vip_days_reward.pk}/redeem/", {"idempotency_key": "gift"}, format="json"
    )
    gift = Order.objects.get(order_no=response.json()["order_no"])
    preview = api.get(f"/api/v1/orders/{gift.order_no}/refund/").json()
    assert preview == {
        "refundable": False,
        "amount_fen": 0,
        "code": "order_not_refundable",
        "message": preview["message"],
        "losses": [],
    }


def test_points_are_held_while_the_refund_is_in_flight_and_returned_if_it_fails(
    api, member, vip, vip_days_reward, operator
):
    order = buy(api, "membership", "VIP")
    # The request reserves the points in its own transaction; WeChat has not answered yet.
    refund = refund_request(
        order=order, amount_fen=None, reason="运营退款", requested_by=operator, self_service=False
    )
    assert points(member) == 0
    response = api.post(
        f"/api/v1/points/rewards/{vip_days_reward.pk}/redeem/", {"idempotency_key": "late"}, format="json"
    )
    assert response.status_code == 400 and response.json()["code"] == "insufficient_points"

    with TestCase.captureOnCommitCallbacks(execute=True):
        refund_complete(out_refund_no=refund.out_refund_no, status="CLOSED")
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and points(member) == 3600
    assert membership(member) is not None


# ---- 2. refunding VIP after the upgrade it paid for --------------------------------------------------------------


def test_refunding_vip_after_upgrading_is_refused_and_the_paid_ka_window_stays(
    api, member, vip, ka, operator
):
    vip_order = buy(api, "membership", "VIP")
    ka_order = buy(api, "membership", "KA")
    assert ka_order.amount_fen < ka.price_fen  # the VIP credit paid part of the KA
    ka_window = (membership(member).tier.code, membership(member).ends_at)
    assert ka_window[0] == "KA"

    preview = api.get(f"/api/v1/orders/{vip_order.order_no}/refund/").json()
    assert preview["code"] == "credit_used" and ka_order.order_no in preview["message"]
    response = self_refund(api, vip_order)
    assert response.status_code == 409 and response.json()["code"] == "credit_used"
    with pytest.raises(Exception) as refused:
        operator_refund(vip_order, operator, amount_fen=100)
    assert refused.value.code == "credit_used"
    assert (membership(member).tier.code, membership(member).ends_at) == ka_window

    # The way out the message names: refund the upgrade first; then the VIP order is refundable.
    operator_refund(ka_order, operator)
    assert membership(member).tier.code == "VIP"
    operator_refund(vip_order, operator)
    assert vip_order.status == Order.Status.REFUNDED and membership(member) is None


def test_an_upgrade_with_a_renewal_on_top_is_refunded_only_after_the_renewal(api, member, vip, ka, operator):
    buy(api, "membership", "VIP")
    upgrade = buy(api, "membership", "KA")
    renewal = buy(api, "membership", "KA")
    window = (membership(member).tier.code, membership(member).ends_at)
    with pytest.raises(Exception) as refused:
        operator_refund(upgrade, operator)
    assert refused.value.code == "renewed_after"
    assert (membership(member).tier.code, membership(member).ends_at) == window  # the paid KA stands
    operator_refund(renewal, operator)
    operator_refund(upgrade, operator)
    assert membership(member).tier.code == "VIP"


def test_nothing_stacks_on_a_membership_window_while_its_refund_is_in_flight(api, member, vip, ka, operator):
    """Found by the benefits state machine: an upgrade's refund was requested (WeChat still working
    on it), KA was renewed twice meanwhile, and when the refund landed the member was VIP with two
    KA renewals standing on nothing. While a membership refund is in flight no membership order is
    priced; while one is unpaid no membership refund starts."""
    buy(api, "membership", "VIP")
    upgrade = buy(api, "membership", "KA")
    with TestCase.captureOnCommitCallbacks(execute=False):  # requested; WeChat has not answered yet
        refund = refund_request(
            order=upgrade, amount_fen=None, reason="运营退款", requested_by=operator, self_service=False
        )
    upgrade.refresh_from_db()
    assert upgrade.status == Order.Status.REFUNDING
    window = (membership(member).tier.code, membership(member).ends_at)

    for item_type, item_id in (("membership", "KA"), ("membership", "VIP")):
        response = api.post(
            "/api/v1/orders/",
            {"item_type": item_type, "item_id": item_id, "channel": "sandbox"},
            format="json",
        )
        assert response.status_code == 409, response.json()
        assert response.json()["code"] == "membership_refund_in_progress"
    vip_days = Reward.objects.create(
        title="VIP 7 天", item_type="membership_days", item_id="VIP:7", points_price=1, per_member_limit=1
    )
    balance = points(member)
    assert balance >= vip_days.points_price  # the purchases earned points
    redeemed = api.post(
        f"/api/v1/points/rewards/{vip_days.pk}/redeem/", {"idempotency_key": "tap-1"}, format="json"
    )
    assert redeemed.status_code >= 400 and "退款" in str(redeemed.json())
    assert points(member) == balance
    assert (membership(member).tier.code, membership(member).ends_at) == window

    with TestCase.captureOnCommitCallbacks(execute=True):
        refund_submit(refund_id=refund.pk)  # the worker; the sandbox bank finishes it
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    assert membership(member).tier.code == "VIP"
    buy(api, "membership", "VIP")  # once the refund has landed, renewing is open again


def test_a_membership_refund_waits_for_an_unpaid_membership_order(api, member, vip, ka, operator):
    """The other half: a renewal ordered before the refund and paid during it would stand on the
    refunded window, so the refund is refused until that order is paid or closed."""
    vip_order = buy(api, "membership", "VIP")
    waiting = order_via_api(api, "membership", "VIP")
    preview = api.get(f"/api/v1/orders/{vip_order.order_no}/refund/").json()
    assert preview["code"] == "membership_order_pending" and waiting["order_no"] in preview["message"]
    response = self_refund(api, vip_order)
    assert response.status_code == 409 and response.json()["code"] == "membership_order_pending"
    with pytest.raises(Exception) as refused:
        operator_refund(vip_order, operator)
    assert refused.value.code == "membership_order_pending"
    assert vip_order.status == Order.Status.PAID

    # The way out the message names: cancel that order (its page's 取消订单), then refund.
    web = Client()
    web.force_login(member)
    page = web.get(f"/payments/orders/{waiting['order_no']}/").content.decode()
    assert f"/payments/orders/{waiting['order_no']}/cancel/" in page
    web.post(f"/payments/orders/{waiting['order_no']}/cancel/")
    assert Order.objects.get(order_no=waiting["order_no"]).status == Order.Status.CLOSED
    assert operator_refund(vip_order, operator).status == Refund.Status.SUCCEEDED


def test_the_member_cancels_the_waiting_membership_order_and_the_refund_opens(api, member, vip):
    """The refusal says 请先支付或取消该订单: the member can do the second from the client too
    (POST /api/v1/orders/{no}/close/), and the refund is then theirs to ask."""
    vip_order = buy(api, "membership", "VIP")
    waiting = order_via_api(api, "membership", "VIP")
    assert (
        api.get(f"/api/v1/orders/{vip_order.order_no}/refund/").json()["code"] == "membership_order_pending"
    )

    closed = api.post(f"/api/v1/orders/{waiting['order_no']}/close/")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    preview = api.get(f"/api/v1/orders/{vip_order.order_no}/refund/").json()
    assert preview["refundable"] is True and preview["amount_fen"] == vip_order.amount_fen
    assert self_refund(api, vip_order).status_code in (200, 202)


def test_refunding_an_order_from_an_earlier_window_never_cuts_the_current_one(member, vip, operator):
    from tests.members.helpers import age

    api = APIClient()
    api.force_authenticate(member)
    first = buy(api, "membership", "VIP")
    age(member, 400)  # that year ran out …
    buy(api, "membership", "VIP")  # … and the member started again
    window = membership(member).ends_at
    operator_refund(first, operator)
    assert first.status == Order.Status.REFUNDED
    assert membership(member).ends_at == window  # the lapsed year's days were not taken twice


# ---- 3. two paid orders for one course or camp seat ----------------------------------------------------------------


def test_a_second_paid_order_for_a_course_is_refunded_automatically(api, member):
    course = f.make_course(price_fen=19_900)
    first = order_via_api(api, "course", course.pk)
    second = order_via_api(api, "course", course.pk)
    third = api.post(
        "/api/v1/orders/",
        {"item_type": "course", "item_id": str(course.pk), "channel": "sandbox"},
        format="json",
    )
    assert third.status_code == 409 and third.json()["code"] == "too_many_pending_orders"
    assert Order.objects.filter(user=member, item_type="course").count() == 2

    paid_first, paid_second = pay(first["order_no"]), pay(second["order_no"])
    assert paid_first.status == Order.Status.PAID
    assert paid_second.status == Order.Status.REFUNDED
    assert paid_second.refunds.get().status == Refund.Status.SUCCEEDED
    enrolment = CourseEnrolment.objects.get(user=member, course=course)
    assert enrolment.status == CourseEnrolment.Status.ACTIVE and enrolment.order_no == paid_first.order_no


def test_a_second_paid_order_for_a_started_camp_term_is_refunded_automatically(api, member):
    _camp, term = f.make_camp(price_fen=9_900, started_days_ago=3)
    first = order_via_api(api, "camp", term.pk)
    second = order_via_api(api, "camp", term.pk)
    paid_first, paid_second = pay(first["order_no"]), pay(second["order_no"])
    assert paid_first.status == Order.Status.PAID and paid_second.status == Order.Status.REFUNDED
    seat = TermSeat.objects.get(user=member, term=term)
    assert seat.status == TermSeat.Status.ACTIVE and seat.order_no == paid_first.order_no
    # The kept order still revokes its seat when refunded by an operator.
    assert api.post(f"/api/v1/orders/{paid_first.order_no}/refund/", {}, format="json").status_code == 400


# ---- 4. included benefits end with the refunded tier ------------------------------------------------------------


def test_a_tier_ticket_ends_when_the_membership_that_included_it_is_refunded(api, member, vip):
    event = f.make_event(tiers=[vip], price_fen=29_900, capacity=1)
    waiting = UserFactory()
    order = buy(api, "membership", "VIP")
    ticket = event_registrations.event_register(user=member, event=event)
    assert ticket.status == EventRegistration.Status.CONFIRMED and ticket.source == "tier"
    f.give_tier(waiting, vip)
    assert (
        event_registrations.event_register(user=waiting, event=event).status
        == EventRegistration.Status.WAITLISTED
    )

    preview = api.get(f"/api/v1/orders/{order.order_no}/refund/").json()
    assert any("门票" in line for line in preview["losses"])
    assert self_refund(api, order).status_code == 202

    ticket.refresh_from_db()
    assert ticket.status == EventRegistration.Status.CANCELLED and ticket.cancel_reason == "membership_ended"
    assert (
        EventRegistration.objects.get(user=waiting, event=event).status == EventRegistration.Status.CONFIRMED
    )
    with pytest.raises(event_door_checkin.CheckInRefused) as refused:
        event_door_checkin.event_check_in(event=event, code=ticket.ticket_code, staff=event.organizer)
    assert refused.value.code == "ticket_not_valid"


def test_a_tier_ticket_is_not_checked_in_after_the_membership_ended(member, vip):
    event = f.make_event(tiers=[vip])
    f.give_tier(member, vip)
    ticket = event_registrations.event_register(user=member, event=event)
    f.give_tier(member, vip, expired=True)
    with pytest.raises(event_door_checkin.CheckInRefused) as refused:
        event_door_checkin.event_check_in(event=event, code=ticket.ticket_code, staff=event.organizer)
    assert refused.value.code == "membership_ended"
    ticket.refresh_from_db()
    assert ticket.checked_in_at is None


def test_camp_seats_and_circle_access_from_a_tier_end_with_its_refund(api, member, vip):
    from circles.models import Circle
    from circles.selectors import access as access_selectors

    _camp, term = f.make_camp(tiers=[vip])
    circle = Circle.objects.create(name="VIP 圈", owner=UserFactory(), price_fen=19_900)
    circle.included_in_tiers.set([vip])
    order = buy(api, "membership", "VIP")
    camp_seats.term_join(user=member, term=term)
    assert access_selectors.circle_access(member, circle).can_read
    self_refund(api, order)
    assert camp_selectors.term_access(member, term).state == "membership_expired"
    assert not access_selectors.circle_access(member, circle).can_read


# ---- 7. a VIP bought through a group buy -------------------------------------------------------------------------


def test_a_group_buy_vip_is_worth_what_its_seat_paid_and_ends_with_its_refund(member, vip, ka, operator):
    from referrals import group_buys
    from tests.referrals import factories as rf

    offer = rf.offer(item_type="membership", item_id="VIP", size=2, price_fen=200_000)
    api = APIClient()
    api.force_authenticate(member)
    seat = group_buys.group_buy_open(user=member, offer=offer)
    seat_order = buy(api, "group_buy", seat.pk)
    assert points(member) == 0  # nothing earned while the group may still fail and be refunded
    friend = UserFactory()
    friend_api = APIClient()
    friend_api.force_authenticate(friend)
    buy(friend_api, "group_buy", group_buys.group_buy_join(user=friend, group_id=seat.group_id).pk)

    gift = Order.objects.get(funded_by=seat_order)
    assert gift.amount_fen == 0 and membership(member).tier == vip
    assert points(member) == 2000  # the gift earns for what the seat paid
    # Upgrading now credits the ¥2,000 the member paid (pro rata by days left), not the gift's ¥0.
    ka_order = buy(api, "membership", "KA")
    credit = ka.price_fen - ka_order.amount_fen
    assert 200_000 * 364 // 365 <= credit <= 200_000
    # The seat order's refund is refused while the KA stands on its credit …
    with pytest.raises(Exception) as refused:
        operator_refund(seat_order, operator)
    assert refused.value.code == "credit_used"
    # … and once the KA is refunded, refunding the seat ends the gift's VIP and takes its points back.
    operator_refund(ka_order, operator)
    operator_refund(seat_order, operator)
    assert seat_order.status == Order.Status.REFUNDED
    assert membership(member) is None and points(member) == 0

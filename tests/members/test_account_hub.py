"""我的 is the member's hub; a paid order sends the member to what they bought; a share link's
landing says who invites."""

import pytest
from django.urls import resolve

from payments.orders.checkout import order_create
from tests.courses.factories import make_course, make_event
from tests.factories import TierFactory, UserFactory
from tests.payments.helpers import create_paid_order, refund_order

pytestmark = pytest.mark.django_db

HUB = {
    "learning": "/courses/mine/",
    "tickets": "/courses/mine/tickets/",
    "certificates": "/courses/mine/camps/",
    "orders": "/payments/orders/",
    "wallet": "/payments/wallet/",
    "points": "/account/points/",
    "mall": "/points/mall/",
    "referrals": "/referrals/",
    "notifications": "/account/notifications/",
    "profile": "/account/profile/",
    "tiers": "/membership/",
    "circles": "/circles/mine/",
    "redeem": "/growth/redeem/",
    "marketing": "/growth/messages/",
    "coupons": "/growth/coupons/",
}


def test_every_thing_a_member_owns_is_one_tap_from_account(client):
    client.force_login(UserFactory())
    page = client.get("/account/").content.decode()
    for key, href in HUB.items():
        assert f'href="{href}" data-hub-link="{key}"' in page, key
    for href in {h.split("#")[0] for h in HUB.values()}:
        assert client.get(href).status_code == 200, href


@pytest.mark.parametrize(
    ("key", "view", "heading"),
    [
        ("circles", "circles:mine", "我的圈子"),
        ("tickets", "courses:my_tickets", "电子票"),
        ("certificates", "courses:my_camps", "训练营与证书"),
    ],
)
def test_the_hub_entries_open_the_page_they_name_not_a_list_or_an_anchor(client, key, view, heading):
    client.force_login(UserFactory())
    page = client.get("/account/").content.decode()
    href = page.split(f'data-hub-link="{key}"', 1)[0].rsplit('href="', 1)[1].split('"', 1)[0]
    assert "#" not in href and resolve(href).view_name == view
    assert f"<h1>{heading}</h1>" in client.get(href).content.decode()


def test_after_paying_for_a_course_the_result_page_opens_the_course(client):
    user = UserFactory()
    course = make_course()
    order = create_paid_order(user=user, item_type="course", item_id=str(course.pk))
    client.force_login(user)
    page = client.get(f"/payments/orders/{order.order_no}/").content.decode()
    assert f'href="/courses/{course.pk}/" data-destination' in page
    assert "需要退款？" in page  # the refund form is folded, not the first thing offered


def test_just_after_paying_the_member_lands_on_the_course_itself(client):
    """Coming from paying (cashier, WeChat's return URL, a free order: `?from=pay`) a paid order
    forwards to what was bought with a success message; from 我的订单 the order page stays."""
    user = UserFactory()
    course = make_course(title="私域增长实战")
    order = create_paid_order(user=user, item_type="course", item_id=str(course.pk))
    client.force_login(user)
    landed = client.get(f"/payments/orders/{order.order_no}/?from=pay", follow=True)
    assert landed.redirect_chain == [(f"/courses/{course.pk}/", 302)]
    assert "支付成功：" in landed.content.decode() and "私域增长实战" in landed.content.decode()
    assert client.get(f"/payments/orders/{order.order_no}/").status_code == 200  # the order itself
    polled = client.get(f"/payments/orders/{order.order_no}/status/?from=pay", HTTP_HX_REQUEST="true")
    assert polled["HX-Redirect"] == f"/courses/{course.pk}/"  # the polling page leaves for the course
    assert "HX-Redirect" not in client.get(f"/payments/orders/{order.order_no}/status/")


def test_a_refunded_order_reached_from_paying_stays_on_the_order_and_says_nothing_of_success(client):
    """The forward is a convenience of a paid order, never a way in: refunded, it stays on the order
    page, and the course itself refuses its lessons by its own entitlement check."""
    user = UserFactory()
    course = make_course(title="私域增长实战")
    order = create_paid_order(user=user, item_type="course", item_id=str(course.pk))
    refund_order(order=order)
    client.force_login(user)
    page = client.get(f"/payments/orders/{order.order_no}/?from=pay")
    assert page.status_code == 200 and "支付成功" not in page.content.decode()
    polled = client.get(f"/payments/orders/{order.order_no}/status/?from=pay", HTTP_HX_REQUEST="true")
    assert "HX-Redirect" not in polled


def test_another_members_order_reached_from_paying_is_not_found(client):
    owner = UserFactory()
    course = make_course()
    order = create_paid_order(user=owner, item_type="course", item_id=str(course.pk))
    client.force_login(UserFactory())
    assert client.get(f"/payments/orders/{order.order_no}/?from=pay").status_code == 404
    assert client.get(f"/payments/orders/{order.order_no}/status/?from=pay").status_code == 404


def test_a_pending_order_reached_from_paying_keeps_polling_to_forward_later(client):
    user = UserFactory()
    course = make_course()
    order = order_create(user=user, item_type="course", item_id=str(course.pk), channel="wechat_native")
    client.force_login(user)
    page = client.get(f"/payments/orders/{order.order_no}/?from=pay").content.decode()
    assert f"/payments/orders/{order.order_no}/status/?from=pay" in page


def test_after_paying_for_an_event_the_result_page_opens_the_ticket(client):
    from courses.models import EventRegistration

    user = UserFactory()
    event = make_event()
    order = create_paid_order(user=user, item_type="event", item_id=str(event.pk))
    ticket = EventRegistration.objects.get(order_no=order.order_no).ticket_code
    client.force_login(user)
    page = client.get(f"/payments/orders/{order.order_no}/").content.decode()
    assert f'href="/courses/tickets/{ticket}/" data-destination' in page


def test_share_link_landing_says_who_invites(client):
    inviter = UserFactory(nickname="张三")
    response = client.get(f"/r/{inviter.referral_code}/")
    assert response.status_code == 302 and response["Location"] == "/"
    page = client.get("/").content.decode()
    assert "张三邀请你加入" in page and "data-invite-offer" in page
    # what they get: the entry tier, its price and what it really includes
    vip = TierFactory(code="VIP", name="VIP会员", rank=1, price_fen=360_000, duration_days=365)
    make_course(title="私域增长实战", tiers=[vip])
    page = client.get("/").content.decode()
    offer = page.split("data-invite-offer")[1].split("</div>")[0]
    assert "开通VIP会员（¥3,600 / 365 天）即可获得：" in offer and "《私域增长实战》" in offer


def test_an_order_without_a_refund_button_says_why(client):
    """Past the refund window, or paid with nothing (a redeem code, points, a gift): the order page
    says so instead of leaving the member to look for a button."""
    from datetime import timedelta

    from django.utils import timezone

    from payments.models import Order
    from payments.orders.checkout import order_create_free

    user = UserFactory()
    client.force_login(user)
    fresh = create_paid_order(user=user, item_type="course", item_id=str(make_course().pk))
    assert "data-no-refund" not in client.get(f"/payments/orders/{fresh.order_no}/").content.decode()
    old = create_paid_order(user=user, item_type="course", item_id=str(make_course().pk))
    Order.objects.filter(pk=old.pk).update(paid_at=timezone.now() - timedelta(days=30))
    page = client.get(f"/payments/orders/{old.order_no}/").content.decode()
    assert "data-no-refund" in page and "已超过自助退款期限" in page
    gift = order_create_free(
        user=user, item_type="course", item_id=str(make_course().pk), reason="赠送", channel="grant"
    )
    page = client.get(f"/payments/orders/{gift.order_no}/").content.decode()
    assert "data-no-refund" in page and "没有可退的金额" in page

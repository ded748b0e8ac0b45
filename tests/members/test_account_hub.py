"""我的 is the member's hub; a paid order sends the member to what they bought; a share link's
landing says who invites."""

import pytest

from tests.courses.factories import make_course, make_event
from tests.factories import UserFactory
from tests.payments.helpers import create_paid_order

pytestmark = pytest.mark.django_db

HUB = {
    "learning": "/courses/mine/",
    "tickets": "/courses/mine/#tickets",
    "certificates": "/courses/mine/#camps",
    "orders": "/payments/orders/",
    "wallet": "/payments/wallet/",
    "points": "/account/points/",
    "mall": "/points/mall/",
    "referrals": "/referrals/",
    "notifications": "/account/notifications/",
    "profile": "/account/profile/",
}


def test_every_thing_a_member_owns_is_one_tap_from_account(client):
    client.force_login(UserFactory())
    page = client.get("/account/").content.decode()
    for key, href in HUB.items():
        assert f'href="{href}" data-hub-link="{key}"' in page, key
    for href in {h.split("#")[0] for h in HUB.values()}:
        assert client.get(href).status_code == 200, href


def test_after_paying_for_a_course_the_result_page_opens_the_course(client):
    user = UserFactory()
    course = make_course()
    order = create_paid_order(user=user, item_type="course", item_id=str(course.pk))
    client.force_login(user)
    page = client.get(f"/payments/orders/{order.order_no}/").content.decode()
    assert f'href="/courses/{course.pk}/" data-destination' in page
    assert "需要退款？" in page  # the refund form is folded, not the first thing offered


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

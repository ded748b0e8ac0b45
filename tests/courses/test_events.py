"""Offline events: tier-included registration with a yearly quota, paid seats held for checkout, tickets,
check-in (核销) exactly once, the waitlist, refunds that free seats, and the refund window."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from courses.events import registrations as event_registrations
from courses.events import waitlist as event_waitlist
from courses.models import EventRegistration
from members.models import Notification
from payments import items
from payments.models import Order
from payments.orders.checkout import order_create
from payments.orders.payment_attempts import payment_start
from payments.orders.selectors import refund_window_open
from tests.courses import factories as f
from tests.courses.conftest import api_for, run_on_commit
from tests.factories import UserFactory


@pytest.mark.django_db
def test_vip_gets_one_free_event_per_membership_year_then_pays_and_ka_is_unlimited(vip, ka):
    f.set_quota(vip, 1)
    first = f.make_event(tiers=[vip], price_fen=29_900, title="第一场")
    second = f.make_event(tiers=[vip], price_fen=29_900, title="第二场")
    members_only = f.make_event(tiers=[vip], price_fen=0, title="会员专场")
    member = UserFactory()
    f.give_tier(member, vip)
    client = api_for(member)

    ticket = client.post(f"/api/v1/events/{first.pk}/register/")
    assert ticket.status_code == 201
    assert ticket.json()["status"] == "confirmed" and ticket.json()["source"] == "tier"
    detail = client.get(f"/api/v1/events/{second.pk}/").json()
    assert detail["access"]["state"] == "buy"
    assert (detail["access"]["quota_limit"], detail["access"]["quota_used"]) == (1, 1)
    assert detail["price"]["amount_fen"] == 26_910  # the VIP single-purchase discount applies
    refused = client.post(f"/api/v1/events/{members_only.pk}/register/")
    assert refused.status_code == 403 and refused.json()["code"] == "not_entitled"
    assert "次数已用完" in refused.json()["message"]

    ka_member = UserFactory()
    f.give_tier(ka_member, ka)  # KA ranks above VIP and has no quota row: unlimited
    for event in (first, second, members_only):
        response = api_for(ka_member).post(f"/api/v1/events/{event.pk}/register/")
        assert response.json()["status"] == "confirmed" and response.json()["source"] == "tier"


@pytest.mark.django_db
def test_cancelling_a_tier_ticket_gives_the_quota_back(vip):
    f.set_quota(vip, 1)
    first, second = f.make_event(tiers=[vip]), f.make_event(tiers=[vip])
    member = UserFactory()
    f.give_tier(member, vip)
    event_registrations.event_register(user=member, event=first)
    assert api_for(member).post(f"/api/v1/events/{first.pk}/cancel/").json()["status"] == "cancelled"
    assert api_for(member).post(f"/api/v1/events/{second.pk}/register/").json()["status"] == "confirmed"


@pytest.mark.django_db
def test_paid_registration_holds_a_seat_until_paid_and_issues_a_ticket(member, client):
    event = f.make_event(price_fen=29_900, capacity=2)
    held = api_for(member).post(f"/api/v1/events/{event.pk}/register/").json()
    assert held["status"] == "pending" and held["checkout_url"].endswith(
        f"/payments/checkout/?item_type=event&item_id={event.pk}"
    )
    assert api_for(UserFactory()).get(f"/api/v1/events/{event.pk}/").json()["seats_left"] == 1
    order = f.buy(member, "event", event.pk)
    registration = EventRegistration.objects.get(event=event, user=member)
    assert (registration.status, registration.source, registration.order_no) == (
        "confirmed",
        "purchase",
        order.order_no,
    )
    assert registration.hold_expires_at is None and len(registration.ticket_code) == 10
    assert Notification.objects.filter(user=member, kind="event_ticket").count() == 1
    # the ticket page shows the QR (which opens the staff check-in page) and the code
    client.force_login(member)
    html = client.get(f"/courses/tickets/{registration.ticket_code}/").content.decode()
    assert registration.ticket_code in html and "qr.png" in html
    qr = client.get(f"/courses/tickets/{registration.ticket_code}/qr.png")
    assert qr.status_code == 200 and qr["Content-Type"] == "image/png"
    # nobody else can open it
    client.force_login(UserFactory())
    assert client.get(f"/courses/tickets/{registration.ticket_code}/").status_code == 404
    tickets = api_for(member).get("/api/v1/events/tickets/").json()
    assert [t["ticket_code"] for t in tickets] == [registration.ticket_code]


@pytest.mark.django_db
def test_buying_twice_or_when_registered_is_refused(member):
    event = f.make_event(price_fen=29_900)
    f.buy(member, "event", event.pk)
    with pytest.raises(items.ItemUnavailable) as exc:
        items.quote(user=member, item_type="event", item_id=str(event.pk))
    assert exc.value.code == "already_registered"


@pytest.mark.django_db
def test_full_event_waitlists_and_a_cancellation_promotes_the_first_in_line(ka):
    event = f.make_event(tiers=[ka], price_fen=29_900, capacity=1)
    first, second, third = UserFactory(), UserFactory(), UserFactory()
    for user in (first, second):
        f.give_tier(user, ka)
    assert event_registrations.event_register(user=first, event=event).status == "confirmed"
    assert event_registrations.event_register(user=second, event=event).status == "waitlisted"
    assert event_registrations.event_register(user=third, event=event).status == "waitlisted"
    assert api_for(third).get(f"/api/v1/events/{event.pk}/").json()["access"]["state"] == "waitlisted"

    event_registrations.event_cancel(user=first, event=event)
    # the first in line is a KA member: their place is free, so they get a ticket at once
    promoted = EventRegistration.objects.get(event=event, user=second)
    assert promoted.status == "confirmed" and promoted.ticket_code
    assert Notification.objects.filter(user=second, kind="event_ticket").exists()
    assert EventRegistration.objects.get(event=event, user=third).status == "waitlisted"

    # the next seat goes to a payer: it is held for them to pay, and they are told
    event_registrations.event_cancel(user=second, event=event)
    held = EventRegistration.objects.get(event=event, user=third)
    assert held.status == "pending" and held.hold_expires_at > timezone.now() + timedelta(hours=11)
    assert Notification.objects.filter(user=third, kind="event_waitlist_seat").count() == 1
    assert api_for(UserFactory()).get(f"/api/v1/events/{event.pk}/").json()["access"]["full"] is True
    f.buy(third, "event", event.pk)
    assert EventRegistration.objects.get(event=event, user=third).status == "confirmed"


@pytest.mark.django_db
def test_a_refund_frees_the_seat_for_the_waitlist_exactly_once(member):
    event = f.make_event(price_fen=29_900, capacity=1)
    order = f.buy(member, "event", event.pk)
    waiting = UserFactory()
    assert event_registrations.event_register(user=waiting, event=event).status == "waitlisted"
    f.refund(order)
    registration = EventRegistration.objects.get(event=event, user=member)
    assert registration.status == "refunded"
    assert EventRegistration.objects.get(event=event, user=waiting).status == "pending"
    # the same revoke again (a duplicate refund notification) does nothing
    order.refresh_from_db()
    assert event_registrations.event_revoke(order=order, refund=None) is False
    assert Notification.objects.filter(user=waiting, kind="event_waitlist_seat").count() == 1


@pytest.mark.django_db
def test_expired_holds_are_released_and_the_waitlist_moves_up(member):
    event = f.make_event(price_fen=29_900, capacity=1)
    event_registrations.event_register(user=member, event=event)
    waiting = UserFactory()
    assert event_registrations.event_register(user=waiting, event=event).status == "waitlisted"
    assert event_waitlist.events_sweep() == {"holds_released": 0, "promoted": 0}
    later = timezone.now() + timedelta(minutes=31)
    assert event_waitlist.events_sweep(now=later) == {"holds_released": 1, "promoted": 1}
    released = EventRegistration.objects.get(event=event, user=member)
    assert (released.status, released.cancel_reason) == ("cancelled", "hold_expired")
    assert EventRegistration.objects.get(event=event, user=waiting).status == "pending"


@pytest.mark.django_db
def test_payment_after_the_seat_was_taken_is_refunded_automatically(member):
    event = f.make_event(price_fen=29_900, capacity=1)
    late = UserFactory()
    with run_on_commit():
        order = order_create(user=late, item_type="event", item_id=str(event.pk), channel="sandbox")
        payment = payment_start(order=order, channel="sandbox")
    f.buy(member, "event", event.pk)  # takes the last seat while `late` is still at the cashier
    from payments.gateways import sandbox

    with run_on_commit():
        assert sandbox.sandbox_pay(payment.out_trade_no) == 204
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    registration = EventRegistration.objects.get(event=event, user=late)
    assert (registration.status, registration.cancel_reason) == ("cancelled", "full")
    assert EventRegistration.objects.filter(event=event, status="confirmed").count() == 1
    assert Notification.objects.filter(user=late, kind="event_full_refund").count() == 1


@pytest.mark.django_db
def test_check_in_accepts_a_ticket_exactly_once_and_only_for_staff(member):
    organizer = UserFactory()
    event = f.make_event(price_fen=0, organizer=organizer)
    registration = event_registrations.event_register(user=member, event=event)
    staff = UserFactory()
    event.staff.add(staff)

    stranger = api_for(UserFactory()).post(
        f"/api/v1/events/{event.pk}/check-in/", {"code": registration.ticket_code}, format="json"
    )
    assert stranger.status_code == 403
    # typed in lower case with spaces, or the scanned URL: both work
    first = api_for(staff).post(
        f"/api/v1/events/{event.pk}/check-in/",
        {"code": f"https://x.example/courses/events/{event.pk}/check-in/?code={registration.ticket_code}"},
        format="json",
    )
    assert first.status_code == 200 and first.json()["member"]["id"] == member.pk
    again = api_for(organizer).post(
        f"/api/v1/events/{event.pk}/check-in/", {"code": registration.ticket_code.lower()}, format="json"
    )
    assert again.status_code == 409 and again.json()["code"] == "already_checked_in"
    assert "checked_in_at" in again.json()
    wrong = api_for(staff).post(f"/api/v1/events/{event.pk}/check-in/", {"code": "NOPE123456"}, format="json")
    assert wrong.status_code == 404 and wrong.json()["code"] == "invalid_ticket"
    other_event = f.make_event(price_fen=0, organizer=organizer)
    elsewhere = api_for(organizer).post(
        f"/api/v1/events/{other_event.pk}/check-in/", {"code": registration.ticket_code}, format="json"
    )
    assert elsewhere.status_code == 404
    registration.refresh_from_db()
    assert registration.checked_in_by == staff
    assert api_for(staff).get(f"/api/v1/events/{event.pk}/attendance/").json() == {
        "capacity": 30,
        "confirmed": 1,
        "checked_in": 1,
        "waitlisted": 0,
        "pending": 0,
    }
    # a checked-in member cannot cancel
    assert api_for(member).post(f"/api/v1/events/{event.pk}/cancel/").json()["code"] == "already_checked_in"


@pytest.mark.django_db
def test_staff_check_in_page_scan_then_confirm(member, client):
    event = f.make_event(price_fen=0)
    registration = event_registrations.event_register(user=member, event=event)
    client.force_login(event.organizer)
    url = f"/courses/events/{event.pk}/check-in/?code={registration.ticket_code}"
    page = client.get(url).content.decode()
    assert member.display_name in page  # scanning only shows who it is
    registration.refresh_from_db()
    assert registration.checked_in_at is None
    done = client.post(
        f"/courses/events/{event.pk}/check-in/", {"code": registration.ticket_code}, follow=True
    )
    assert "核销成功" in done.content.decode()
    twice = client.post(
        f"/courses/events/{event.pk}/check-in/", {"code": registration.ticket_code}, follow=True
    )
    assert "已于" in twice.content.decode()
    client.force_login(member)
    assert client.get(f"/courses/events/{event.pk}/check-in/").status_code == 404


@pytest.mark.django_db
def test_self_service_refund_is_open_until_the_cutoff_before_the_event(member):
    event = f.make_event(price_fen=29_900, starts_in=timedelta(days=3), refund_cutoff_hours=24)
    order = f.buy(member, "event", event.pk)
    assert refund_window_open(order)
    assert not refund_window_open(order, now=event.starts_at - timedelta(hours=23))
    # cancelling the paid ticket inside the window refunds it and frees the seat
    with run_on_commit():
        response = api_for(member).post(f"/api/v1/events/{event.pk}/cancel/")
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert EventRegistration.objects.get(event=event, user=member).status == "refunded"

    soon = f.make_event(price_fen=29_900, starts_in=timedelta(hours=10), refund_cutoff_hours=24)
    late_order = f.buy(member, "event", soon.pk)
    refused = api_for(member).post(
        f"/api/v1/orders/{late_order.order_no}/refund/", {"reason": "有事"}, format="json"
    )
    assert refused.status_code == 400 and refused.json()["code"] == "refund_window_closed"


@pytest.mark.django_db
def test_registration_closes_when_the_event_starts(member):
    event = f.make_event(price_fen=0, starts_in=timedelta(hours=-1))
    response = api_for(member).post(f"/api/v1/events/{event.pk}/register/")
    assert response.status_code == 409 and response.json()["code"] == "registration_closed"
    assert api_for(member).get("/api/v1/events/").json()["count"] == 1  # still listed until it ends


@pytest.mark.django_db
def test_event_pages_show_the_right_button(vip, client):
    f.set_quota(vip, 1)
    event = f.make_event(tiers=[vip], price_fen=29_900)
    member = UserFactory()
    client.force_login(member)
    html = client.get(f"/courses/events/{event.pk}/").content.decode()
    assert "报名并支付" in html and "¥299" in html
    f.give_tier(member, vip)
    html = client.get(f"/courses/events/{event.pk}/").content.decode()
    assert "免费报名" in html and "已用 0/1 次" in html
    response = client.post(f"/courses/events/{event.pk}/register/")
    registration = EventRegistration.objects.get(event=event, user=member)
    assert response.url == f"/courses/tickets/{registration.ticket_code}/"
    assert "events" in client.get("/courses/events/").content.decode()

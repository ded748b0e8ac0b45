"""What the mini-program needs to show a ticket and a certificate: the images behind a Bearer token
(the web's image URLs need a session, which a mini-program never has), and the member's tickets with
their state — cancelled and refunded ones labelled, never passed off as valid."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import pytest
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from courses.camps import checkins as camp_checkins
from courses.camps import seats as camp_seats
from courses.events import registrations as event_registrations
from courses.events.tickets import ticket_scan_url
from courses.models import EventRegistration
from members.cache_versions import member_bump
from members.models import Membership
from tests.courses import factories as f
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n"


def bearer(user) -> APIClient:
    """A client as the mini-program is: a JWT in the Authorization header, no session."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def test_a_confirmed_ticket_has_its_qr_behind_the_bearer_token_and_nobody_elses(member):
    event = f.make_event(price_fen=0)
    registered = bearer(member).post(f"/api/v1/events/{event.pk}/register/").json()
    code = registered["ticket_code"]
    assert registered["ticket_qr_api_url"] == f"/api/v1/events/tickets/{code}/qr.png"

    response = bearer(member).get(registered["ticket_qr_api_url"])
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response.content.startswith(PNG)
    # the QR opens the staff check-in page with the code filled in, as the web ticket's does
    assert Image.open(BytesIO(response.content)).size[0] > 100
    assert f"code={code}" in ticket_scan_url(EventRegistration.objects.get(ticket_code=code))

    other = bearer(UserFactory()).get(registered["ticket_qr_api_url"])
    assert other.status_code == 404 and other.json()["code"] == "not_found"
    assert APIClient().get(registered["ticket_qr_api_url"]).status_code == 401


def test_a_cancelled_ticket_has_no_qr_and_is_listed_as_cancelled_only_when_asked(member):
    kept = f.make_event(price_fen=0, title="保留的活动", starts_in=timedelta(days=20))
    dropped = f.make_event(price_fen=0, title="取消的活动", starts_in=timedelta(days=5))
    past = f.make_event(price_fen=0, title="上个月的活动", starts_in=timedelta(days=10))
    client = bearer(member)
    for event in (kept, dropped, past):
        assert client.post(f"/api/v1/events/{event.pk}/register/").status_code == 201
    code = EventRegistration.objects.get(event=dropped, user=member).ticket_code
    cancelled = client.post(f"/api/v1/events/{dropped.pk}/cancel/").json()
    assert cancelled["status"] == "cancelled" and cancelled["ticket_qr_api_url"] is None
    assert client.get(f"/api/v1/events/tickets/{code}/qr.png").json()["code"] == "ticket_not_valid"
    # the last event is over now
    past.starts_at -= timedelta(days=40)
    past.ends_at -= timedelta(days=40)
    past.save()

    tickets = client.get("/api/v1/events/tickets/").json()
    assert [(t["event"]["title"], t["state"]) for t in tickets] == [
        ("保留的活动", "valid"),
        ("上个月的活动", "ended"),
    ]
    assert tickets[0]["state_text"] == "有效" and tickets[1]["state_text"] == "活动已结束"

    everything = client.get("/api/v1/events/tickets/?with_cancelled=true").json()
    assert [(t["event"]["title"], t["state"], t["state_text"]) for t in everything] == [
        ("保留的活动", "valid", "有效"),
        ("上个月的活动", "ended", "活动已结束"),
        ("取消的活动", "cancelled", "已取消"),
    ]
    assert everything[2]["ticket_code"] is None and everything[2]["ticket_qr_api_url"] is None


def test_a_tier_ticket_whose_membership_ended_is_not_valid(member, vip):
    event = f.make_event(tiers=[vip], price_fen=29_900)
    f.give_tier(member, vip)
    assert event_registrations.event_register(user=member, event=event).status == "confirmed"
    assert bearer(member).get("/api/v1/events/tickets/").json()[0]["state"] == "valid"
    Membership.objects.filter(user=member).update(ends_at=timezone.now() - timedelta(days=1))
    member_bump(member.pk)
    ticket = bearer(member).get("/api/v1/events/tickets/").json()[0]
    assert (ticket["state"], ticket["state_text"]) == ("membership_ended", "会员已结束，不能入场")


def test_the_certificate_png_is_behind_the_bearer_token_once_completed(member):
    camp, term = f.make_camp(title="读书营", price_fen=0, days=3, started_days_ago=10)
    camp.certificate_days = 1
    camp.save()
    camp_seats.seat_grant(term=term, user=member, source="free")
    client = bearer(member)
    url = f"/api/v1/camps/terms/{term.pk}/certificate.png"
    refused = client.get(url)
    assert refused.status_code == 404 and refused.json()["code"] == "not_completed"

    on = term.date_of_day(1)
    camp_checkins.checkin_submit(
        user=member,
        term=term,
        task=camp.tasks.get(day=1),
        text="今天读了 30 页",
        images=(),
        now=f.shanghai(on.year, on.month, on.day, 21),
    )
    certificate = client.get(f"/api/v1/camps/terms/{term.pk}/certificate/").json()
    assert certificate["image_api_url"] == url
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response.content.startswith(PNG)
    stranger = bearer(UserFactory()).get(url)
    assert stranger.status_code in (403, 404)
    assert APIClient().get(url).status_code == 401

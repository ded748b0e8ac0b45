"""电子票 (/courses/mine/tickets/): the member's tickets, soonest first, then past events; cancelled and
refunded registrations are listed apart and never as tickets; another member's tickets never show."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from courses.events import registrations as event_registrations
from courses.models import Event, EventRegistration
from members.cache_versions import member_bump
from members.models import Membership
from tests.courses import factories as f
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/courses/mine/tickets/"


def _group(page: str, name: str) -> str:
    """The HTML of one group of the page ('' when the page has no such group)."""
    marker = f'data-group="{name}"'
    return page.split(marker, 1)[1].split("</section>", 1)[0] if marker in page else ""


def _row(page: str, registration: EventRegistration) -> str:
    return page.split(f'data-ticket="{registration.pk}"', 1)[1].split("</li>", 1)[0]


def _registration(user, event) -> EventRegistration:
    return EventRegistration.objects.get(user=user, event=event)


def _move_to_the_past(event: Event) -> None:
    starts = timezone.now() - timedelta(days=20)
    Event.objects.filter(pk=event.pk).update(starts_at=starts, ends_at=starts + timedelta(hours=6))


def test_tickets_to_come_first_soonest_first_then_past_ones(client, member):
    later = f.make_event(title="十天后的私董会", starts_in=timedelta(days=10))
    sooner = f.make_event(title="三天后的工作坊", starts_in=timedelta(days=3), address="南京西路 1 号")
    over = f.make_event(title="上个月的沙龙")
    for event in (later, sooner, over):
        f.buy(member, "event", event.pk)
    _move_to_the_past(over)
    client.force_login(member)
    page = client.get(URL).content.decode()

    upcoming = _group(page, "upcoming")
    assert upcoming.index("三天后的工作坊") < upcoming.index("十天后的私董会")
    ticket = _registration(member, sooner)
    row = _row(page, ticket)
    assert 'data-ticket-state="valid"' in row and "有效" in row
    assert f'href="/courses/tickets/{ticket.ticket_code}/"' in row  # the existing ticket page
    assert f"{timezone.localtime(sooner.starts_at):%Y-%m-%d %H:%M}" in row
    assert "上海 静安会议中心（南京西路 1 号）" in row
    past = _group(page, "past")
    assert "上个月的沙龙" in past and "上个月的沙龙" not in upcoming
    assert 'data-ticket-state="ended"' in _row(page, _registration(member, over))


def test_refunded_and_cancelled_registrations_are_never_shown_as_tickets(client, member):
    refunded_event = f.make_event(title="退款的活动")
    order = f.buy(member, "event", refunded_event.pk)
    f.refund(order)
    cancelled_event = f.make_event(title="取消的活动", price_fen=0)
    event_registrations.event_register(user=member, event=cancelled_event)
    event_registrations.event_cancel(user=member, event=cancelled_event)
    client.force_login(member)
    page = client.get(URL).content.decode()

    assert "退款的活动" not in _group(page, "upcoming") and "取消的活动" not in _group(page, "upcoming")
    ended = _group(page, "cancelled")
    refunded = _row(page, _registration(member, refunded_event))
    assert 'data-ticket-state="refunded"' in refunded and "已退款" in refunded and "badge danger" in refunded
    cancelled = _row(page, _registration(member, cancelled_event))
    assert 'data-ticket-state="cancelled"' in cancelled and "已取消" in cancelled
    assert "退款的活动" in ended and "取消的活动" in ended and "门票不能用于入场" in ended
    assert 'data-ticket-state="valid"' not in page


def test_a_tier_ticket_whose_membership_ended_is_marked_as_refused_at_the_door(client, member, vip):
    event = f.make_event(tiers=[vip], title="会员专场")
    f.give_tier(member, vip)
    event_registrations.event_register(user=member, event=event)
    client.force_login(member)
    assert 'data-ticket-state="valid"' in client.get(URL).content.decode()

    Membership.objects.filter(user=member).update(ends_at=timezone.now() - timedelta(days=1))
    member_bump(member.pk)
    row = _row(client.get(URL).content.decode(), _registration(member, event))
    assert 'data-ticket-state="membership_ended"' in row and "会员已结束，不能入场" in row


def test_a_waitlist_place_and_a_checked_in_ticket_say_what_they_are(client, member):
    full = f.make_event(title="满员的活动", price_fen=0, capacity=1)
    event_registrations.event_register(user=UserFactory(), event=full)
    event_registrations.event_register(user=member, event=full)
    attended = f.make_event(title="已签到的活动", price_fen=0)
    ticket = event_registrations.event_register(user=member, event=attended)
    EventRegistration.objects.filter(pk=ticket.pk).update(checked_in_at=timezone.now())
    client.force_login(member)
    page = client.get(URL).content.decode()
    waiting = _row(page, _registration(member, full))
    assert 'data-ticket-state="waitlisted"' in waiting and f'href="/courses/events/{full.pk}/"' in waiting
    assert 'data-ticket-state="checked_in"' in _row(page, ticket)


def test_another_members_tickets_never_show(client, member):
    theirs = f.make_event(title="别人的活动")
    f.buy(UserFactory(), "event", theirs.pk)
    client.force_login(member)
    page = client.get(URL).content.decode()
    assert "别人的活动" not in page and "data-empty" in page


def test_a_member_without_tickets_is_sent_to_the_events(client, member):
    client.force_login(member)
    page = client.get(URL).content.decode()
    assert "data-empty" in page and "还没有报名线下活动" in page
    assert 'href="/courses/events/"' in page


def test_visitors_are_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/courses/mine/tickets/")

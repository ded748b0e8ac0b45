"""Concurrency on real PostgreSQL with threads: the last seat is never given twice, a ticket is checked
in once, a day is checked in once, and a reminder is claimed once."""

from __future__ import annotations

import pytest
from django.utils import timezone

from core.errors import ApplicationError
from courses.camps import checkins as camp_checkins
from courses.camps import reminders as camp_reminders
from courses.camps import seats as camp_seats
from courses.events import door_checkin as event_door_checkin
from courses.events import registrations as event_registrations
from courses.models import CheckIn, CheckinReminder, EventRegistration
from payments.gateways import sandbox
from payments.models import Order
from payments.orders.checkout import order_create
from payments.orders.payment_attempts import payment_start
from tests.concurrency import run_together
from tests.courses import factories as f
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_ten_members_racing_for_the_last_free_seat_get_one_ticket_and_nine_waitlist_places():
    ka = f.ka_tier()
    event = f.make_event(tiers=[ka], price_fen=0, capacity=1)
    users = [UserFactory() for _ in range(10)]
    for user in users:
        f.give_tier(user, ka)

    results = run_together(
        [lambda u=u: event_registrations.event_register(user=u, event=event).status for u in users]
    )

    assert sorted(results) == ["confirmed"] + ["waitlisted"] * 9, results
    assert EventRegistration.objects.filter(event=event, status="confirmed").count() == 1


def test_racing_paid_registrations_hold_the_last_seat_for_one_buyer_only():
    event = f.make_event(price_fen=29_900, capacity=1)
    users = [UserFactory() for _ in range(6)]

    results = run_together(
        [lambda u=u: event_registrations.event_register(user=u, event=event).status for u in users]
    )

    assert sorted(results) == ["pending"] + ["waitlisted"] * 5, results


def test_two_buyers_paying_for_the_last_seat_at_the_same_moment_one_seat_one_refund():
    event = f.make_event(price_fen=29_900, capacity=1)
    buyers = [UserFactory(), UserFactory()]
    payments = []
    for buyer in buyers:  # both reach the cashier while the seat is still free (no hold taken)
        order = order_create(user=buyer, item_type="event", item_id=str(event.pk), channel="sandbox")
        payments.append(payment_start(order=order, channel="sandbox"))

    statuses = run_together([lambda p=p: sandbox.sandbox_pay(p.out_trade_no) for p in payments])

    assert statuses == [204, 204], statuses
    assert EventRegistration.objects.filter(event=event, status="confirmed").count() == 1
    orders = list(Order.objects.filter(item_type="event", item_id=str(event.pk)))
    assert sorted(o.status for o in orders) == ["paid", "refunded"]
    loser = next(o for o in orders if o.status == "refunded")
    assert EventRegistration.objects.get(event=event, user=loser.user).cancel_reason == "full"


def test_the_same_ticket_scanned_at_five_doors_at_once_checks_in_once():
    event = f.make_event(price_fen=0)
    member = UserFactory()
    registration = event_registrations.event_register(user=member, event=event)
    doors = [UserFactory() for _ in range(5)]
    event.staff.add(*doors)

    def scan(staff):
        try:
            event_door_checkin.event_check_in(event=event, code=registration.ticket_code, staff=staff)
            return "ok"
        except ApplicationError as exc:
            return exc.code

    results = run_together([lambda s=s: scan(s) for s in doors])

    assert sorted(results) == ["already_checked_in"] * 4 + ["ok"], results


def test_double_tapped_check_in_records_one_day():
    camp, term = f.make_camp(price_fen=0)
    member = UserFactory()
    camp_seats.term_join(user=member, term=term)
    task = camp.tasks.get(day=term.day_number(timezone.localdate()))

    def submit():
        try:
            camp_checkins.checkin_submit(user=member, term=term, task=task, text="今天写了 300 字")
            return "ok"
        except ApplicationError as exc:
            return exc.code

    results = run_together([submit for _ in range(4)])

    assert sorted(results) == ["already_checked_in"] * 3 + ["ok"], results
    assert CheckIn.objects.filter(user=member).count() == 1


def test_overlapping_reminder_sweeps_claim_each_reminder_once():
    from datetime import time

    _camp, term = f.make_camp(price_fen=0, reminder_time=time(0, 0))
    members = [UserFactory() for _ in range(30)]
    for member in members:
        camp_seats.term_join(user=member, term=term)

    # Tasks run eagerly here: each sweep selects the due seats and its worker races the others to claim.
    results = run_together([lambda: camp_reminders.checkin_reminders_sweep()["due"] for _ in range(4)])

    assert all(isinstance(r, int) for r in results), results
    assert CheckinReminder.objects.filter(term=term).count() == 30
    from members.models import Notification

    assert Notification.objects.filter(kind="checkin_reminder").count() == 30
    assert set(Notification.objects.values_list("user_id", flat=True)) == {m.pk for m in members}

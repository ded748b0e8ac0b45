"""The event waitlist and seat holds: free seats go to the waitlist in order (a ticket when the place
is free for the member, else a seat held to pay), after an operator's change too, and the sweep that
releases expired payment holds."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from courses.events import selectors as event_selectors
from courses.events.registration_states import registration_transition, registrations_move
from courses.events.tickets import event_url, lock_event, ticket_confirm, ticket_notice
from courses.member_actions import notify
from courses.models import (
    Event,
    EventRegistration,
    Source,
)

R = EventRegistration.Status
WAITLIST_HOLD = timedelta(hours=12)


def event_promote_waitlist(*, event: Event, now: datetime | None = None) -> int:
    """Inside the event lock: give free seats to the waitlist in order. A member whose place is free
    (tier quota, free event) gets a ticket; others get the seat held for WAITLIST_HOLD to pay."""
    now = now or timezone.now()
    promoted = 0
    free = event.capacity - event_selectors.event_seats_taken(event, now=now)
    if free <= 0:
        return 0
    waiting = list(
        EventRegistration.objects.select_for_update(of=("self",))
        .filter(event=event, status=R.WAITLISTED)
        .select_related("user")
        .order_by("waitlisted_at", "id")
    )
    for registration in waiting:
        if free <= 0:
            break
        access = event_selectors.event_access(registration.user, event, now=now, registration=None)
        if access.state in ("ended", "closed"):
            break
        if access.can_register_free:
            source = Source.TIER if access.state == "free_for_member" else Source.FREE
            ticket_confirm(registration, source=source, order_no=None, now=now)
            ticket_notice(registration)
        elif access.state == "buy":
            registration_transition(
                registration,
                to=R.PENDING,
                source=Source.PURCHASE,
                hold_expires_at=min(now + WAITLIST_HOLD, event.closes_at),
            )
            notify(
                user=registration.user,
                kind="event_waitlist_seat",
                title=_("候补成功：「%(title)s」有空位了") % {"title": event.title},
                body=_("名额已为你保留至 %(until)s，请尽快完成支付。")
                % {"until": f"{timezone.localtime(registration.hold_expires_at):%m-%d %H:%M}"},
                url=event_url(event),
            )
        else:  # no longer eligible (e.g. membership lapsed and the event is member-only)
            registration_transition(
                registration, to=R.CANCELLED, cancelled_at=now, cancel_reason="not_eligible"
            )
            continue
        free -= 1
        promoted += 1
    return promoted


def event_waitlist_refill(*, event_id: int, now: datetime | None = None) -> int:
    """After an operator changes an event (more seats, a later close): seats that are now free go to
    the waitlist in order, as a cancellation's would. Returns how many were promoted."""
    with transaction.atomic():
        event = lock_event(event_id)
        return event_promote_waitlist(event=event, now=now)


def events_sweep(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Release expired payment holds and give the seats to the waitlist (a short transaction per event)."""
    now = now or timezone.now()
    event_ids = list(
        EventRegistration.objects.filter(status=R.PENDING, hold_expires_at__lte=now)
        .values_list("event_id", flat=True)
        .distinct()[:limit]
    )
    released = promoted = 0
    for event_id in event_ids:
        with transaction.atomic():
            event = lock_event(event_id)
            released += registrations_move(
                EventRegistration.objects.filter(event=event, hold_expires_at__lte=now),
                from_status=R.PENDING,
                to=R.CANCELLED,
                cancelled_at=now,
                cancel_reason="hold_expired",
                updated_at=now,
            )
            promoted += event_promote_waitlist(event=event, now=now)
    return {"holds_released": released, "promoted": promoted}

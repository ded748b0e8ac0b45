"""Event tickets: the event row lock every seat decision takes, ticket codes, giving a registration its
ticket (the move to confirmed) and the notice that tells the member."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from courses.events.registration_states import registration_transition
from courses.member_actions import notify
from courses.models import (
    Event,
    EventRegistration,
    generate_ticket_code,
)

R = EventRegistration.Status


def ticket_scan_url(registration: EventRegistration) -> str:
    """What a ticket's QR code carries: the staff check-in page with the code filled in."""
    path = reverse("courses:event_checkin", args=[registration.event_id])
    return f"{settings.SITE_URL}{path}?{urlencode({'code': registration.ticket_code})}"


def lock_event(event_id: int) -> Event:
    return Event.objects.select_for_update(of=("self",)).get(pk=event_id)


def new_ticket_code() -> str:
    for _attempt in range(10):
        code = generate_ticket_code()
        if not EventRegistration.objects.filter(ticket_code=code).exists():
            return code
    raise RuntimeError("could not draw a free ticket code")  # pragma: no cover - 31^10 codes


def ticket_confirm(
    registration: EventRegistration, *, source: str, order_no: str | None, now: datetime
) -> None:
    """Give the registration its ticket (a new code unless it had one): the move to confirmed."""
    registration_transition(
        registration,
        to=R.CONFIRMED,
        source=source,
        order_no=order_no,
        ticket_code=registration.ticket_code or new_ticket_code(),
        confirmed_at=now,
        hold_expires_at=None,
        cancelled_at=None,
        cancel_reason="",
    )


def event_url(event: Event) -> str:
    return reverse("courses:event", args=[event.pk])


def ticket_notice(registration: EventRegistration) -> None:
    event = registration.event
    when = timezone.localtime(event.starts_at)
    notify(
        user=registration.user,
        kind="event_ticket",
        title=_("报名成功：%(title)s") % {"title": event.title},
        body=_("%(when)s · %(venue)s，入场请出示门票二维码（票码 %(code)s）")
        % {"when": f"{when:%m-%d %H:%M}", "venue": event.venue, "code": registration.ticket_code},
        url=reverse("courses:ticket", args=[registration.ticket_code]),
    )

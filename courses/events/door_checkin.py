"""Check-in at the door (核销): staff scan or type a ticket code and the ticket is marked used exactly
once (one conditional UPDATE). A ticket a membership included is refused once that membership ended."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from courses.events import selectors as event_selectors
from courses.models import (
    Event,
    EventRegistration,
    Source,
)

R = EventRegistration.Status


class CheckInRefused(ApplicationError):
    pass


def event_check_in(*, event: Event, code: str, staff) -> EventRegistration:
    """核销: mark a ticket of this event used — exactly once (one conditional UPDATE)."""
    if not event_selectors.event_can_check_in(staff, event):
        raise ApplicationError("permission_denied", _("你不是该活动的核销人员"), status_code=403)
    raw = "".join(str(code or "").split())
    if "/" in raw or "=" in raw:  # a scanned ticket URL: the code is its ?code= (or last path segment)
        raw = raw.rstrip("/").rsplit("/", 1)[-1].rsplit("=", 1)[-1]
    code = raw.upper()[:16]
    now = timezone.now()
    tier_ticket = (
        EventRegistration.objects.select_related("user")
        .filter(event_id=event.pk, ticket_code=code, status=R.CONFIRMED, source=Source.TIER)
        .first()
    )
    if tier_ticket is not None and not event_selectors.tier_ticket_covered(tier_ticket.user, event):
        # A ticket the membership included lives only while that membership does.
        raise CheckInRefused(
            "membership_ended", _("该门票为会员权益，持票人的会员已结束，不能核销"), status_code=409
        )
    updated = EventRegistration.objects.filter(
        event_id=event.pk, ticket_code=code, status=R.CONFIRMED, checked_in_at__isnull=True
    ).update(checked_in_at=now, checked_in_by=staff, updated_at=now)
    registration = (
        EventRegistration.objects.filter(event_id=event.pk, ticket_code=code).select_related("user").first()
    )
    if updated == 1 and registration is not None:
        return registration
    if registration is None:
        raise CheckInRefused("invalid_ticket", _("票码无效或不是本场活动的门票"), status_code=404)
    if registration.checked_in_at is not None:
        when = timezone.localtime(registration.checked_in_at)
        raise CheckInRefused(
            "already_checked_in",
            _("该门票已于 %(when)s 核销") % {"when": f"{when:%m-%d %H:%M:%S}"},
            status_code=409,
            extra={"checked_in_at": registration.checked_in_at.isoformat()},
        )
    raise CheckInRefused("ticket_not_valid", _("该门票已取消或已退款"), status_code=409)

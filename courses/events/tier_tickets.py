"""Tickets a membership included (source = tier) end with it: after a refund, the buyer's unused tier
tickets no active tier covers any more are cancelled, and the refund preview says so beforehand
(docs/architecture.md §4, benefits and what funds them)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from courses.events import selectors as event_selectors
from courses.events.registration_states import registrations_move
from courses.events.tickets import event_url, lock_event
from courses.events.waitlist import event_promote_waitlist
from courses.member_actions import notify
from courses.models import (
    EventRegistration,
    Source,
)
from payments import items

R = EventRegistration.Status


def tier_tickets_end_for_refund(order, refund) -> int:
    """Refunded listener: tickets a membership included end with it. After any refund, the buyer's
    unused tier tickets for events still ahead that no active tier covers any more are cancelled
    (seat freed, waitlist promoted). Returns how many."""
    now = timezone.now()
    tickets = list(
        EventRegistration.objects.filter(
            user_id=order.user_id,
            source=Source.TIER,
            status=R.CONFIRMED,
            checked_in_at__isnull=True,
            event__ends_at__gt=now,
        ).select_related("event")
    )
    ended = 0
    for ticket in tickets:
        if event_selectors.tier_ticket_covered(order.user, ticket.event):
            continue
        event = lock_event(ticket.event_id)
        updated = registrations_move(
            EventRegistration.objects.filter(pk=ticket.pk),
            from_status=R.CONFIRMED,
            to=R.CANCELLED,
            cancelled_at=now,
            cancel_reason="membership_ended",
            updated_at=now,
        )
        if updated:
            ended += 1
            event_promote_waitlist(event=event, now=now)
            notify(
                user=order.user,
                kind="event_ticket_cancelled",
                title=_("「%(title)s」门票已作废") % {"title": event.title},
                body=_("该门票为会员权益，会员已随订单退款结束。"),
                url=event_url(event),
            )
    return ended


def tier_ticket_refund_terms(*, order, amount_fen: int) -> list[items.RefundTerm]:
    """Refund preview: a full refund of a membership order ends the tickets it included."""
    if order.item_type != "membership" or amount_fen < order.amount_fen - order.refunded_fen:
        return []
    count = EventRegistration.objects.filter(
        user_id=order.user_id,
        source=Source.TIER,
        status=R.CONFIRMED,
        checked_in_at__isnull=True,
        event__ends_at__gt=timezone.now(),
    ).count()
    if not count:
        return []
    return [items.RefundTerm(_("会员权益包含的 %(n)s 张线下课门票将随会员结束作废") % {"n": count})]

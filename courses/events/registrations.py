"""Event registrations: registering (a ticket, a seat held for payment, or a waitlist place), pricing
and fulfilling a paid registration (a refund when the event filled or the member paid twice), a
refund freeing the seat, the member cancelling, and the self-service refund window. Every status
change goes through `courses.events.registration_states`."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError, NotEntitled
from courses.events import selectors as event_selectors
from courses.events.registration_states import registration_transition
from courses.events.tickets import event_url, lock_event, ticket_confirm, ticket_notice
from courses.events.waitlist import event_promote_waitlist
from courses.ids import item_id_or_unavailable
from courses.member_actions import notify
from courses.models import (
    Event,
    EventRegistration,
    Source,
)
from courses.orders import fully_refunded, refund_later, source_for_order, tier_discount_line
from payments import items
from payments.models import Order
from payments.orders.checkout import order_ttl
from payments.orders.refunds import refund_request

R = EventRegistration.Status


def event_register(*, user, event: Event, now: datetime | None = None) -> EventRegistration:
    """Register for an event: a ticket at once (tier-included with quota left, or free), a seat held for
    payment (paid), or a waitlist place when full. Idempotent for a member already in."""
    if not getattr(user, "is_authenticated", False):
        raise ApplicationError("not_authenticated", _("请先登录"), status_code=401)
    now = now or timezone.now()
    with transaction.atomic():
        event = lock_event(event.pk)
        registration = (
            EventRegistration.objects.select_for_update(of=("self",)).filter(event=event, user=user).first()
        )
        access = event_selectors.event_access(user, event, now=now, registration=registration)
        if registration is not None and access.state in ("registered", "pending_payment", "waitlisted"):
            return registration
        if access.state in ("ended", "closed"):
            raise ApplicationError("registration_closed", access.state_text, status_code=409)
        if not (access.can_register_free or access.must_pay):
            raise NotEntitled(access.state_text)
        if registration is None:
            registration = EventRegistration(event=event, user=user)
        if access.full:
            return registration_transition(
                registration,
                to=R.WAITLISTED,
                waitlisted_at=now,
                source=Source.TIER if access.state == "free_for_member" else "",
                hold_expires_at=None,
            )
        if access.can_register_free:
            source = Source.TIER if access.state == "free_for_member" else Source.FREE
            ticket_confirm(registration, source=source, order_no=None, now=now)
            ticket_notice(registration)
            return registration
        # Paid: hold the seat while the member pays (as long as an order lives).
        return registration_transition(
            registration, to=R.PENDING, source=Source.PURCHASE, hold_expires_at=now + order_ttl()
        )


def event_quote(*, user, event_id, free_grant: bool = False) -> items.Quote:
    event = Event.objects.filter(pk=item_id_or_unavailable(event_id), is_published=True).first()
    if event is None:
        raise items.ItemUnavailable()
    if event.price_fen <= 0 and not free_grant:
        raise items.ItemUnavailable(_("该活动无需付费报名"), code="not_for_sale")
    access = event_selectors.event_access(user, event)
    if access.state == "registered":
        raise items.ItemUnavailable(_("你已报名该活动"), code="already_registered")
    if access.state in ("ended", "closed"):
        raise items.ItemUnavailable(access.state_text, code="registration_closed")
    if access.state == "free_for_member":
        raise items.ItemUnavailable(_("会员可免费报名，无需购买"), code="included_in_membership")
    if access.state != "pending_payment" and access.full:
        raise items.ItemUnavailable(_("名额已满，可报名候补"), code="event_full")
    when = timezone.localtime(event.starts_at)
    quote = items.Quote(
        title=_("线下课「%(title)s」%(when)s") % {"title": event.title, "when": f"{when:%m-%d}"},
        list_price_fen=event.price_fen,
        context={"event_id": event.pk},
    )
    return tier_discount_line(user=user, quote=quote)


def event_fulfil(*, order) -> EventRegistration:
    """A paid registration order: confirm the held seat; without a hold, take a free seat; if the event
    filled meanwhile (or the member is already in), refund the order after commit."""
    now = timezone.now()
    event = lock_event(item_id_or_unavailable(order.item_id))
    registration = (
        EventRegistration.objects.select_for_update(of=("self",)).filter(event=event, user=order.user).first()
    )
    if registration is not None and registration.status == R.CONFIRMED:
        if order.amount_fen == 0:
            raise items.ItemUnavailable(_("你已报名该活动"), code="already_registered")
        refund_later(order, reason=_("你已报名该活动，重复支付自动退款"))
        return registration
    holds_seat = (
        registration is not None
        and registration.status == R.PENDING
        and registration.hold_expires_at is not None
        and registration.hold_expires_at > now
    )
    if not holds_seat:
        taken = event_selectors.event_seats_taken(event, now=now)
        if taken >= event.capacity:
            if order.amount_fen == 0:  # a free grant has nothing to refund: refuse it instead
                raise items.ItemUnavailable(_("名额已满"), code="event_full")
            if registration is None:
                registration = EventRegistration(event=event, user=order.user)
            registration_transition(
                registration,
                to=R.CANCELLED,
                cancelled_at=now,
                cancel_reason="full",
                order_no=order.order_no,
                hold_expires_at=None,
            )
            refund_later(order, reason=_("名额已满，报名费原路退回"))
            notify(
                user=order.user,
                kind="event_full_refund",
                title=_("「%(title)s」名额已满") % {"title": event.title},
                body=_("很抱歉，支付完成时名额已被抢完，报名费将原路退回。"),
                url=event_url(event),
            )
            return registration
    if registration is None:
        registration = EventRegistration(event=event, user=order.user)
    ticket_confirm(registration, source=source_for_order(order), order_no=order.order_no, now=now)
    ticket_notice(registration)
    return registration


def event_revoke(*, order, refund) -> bool:
    """A completed full refund of a registration order frees the seat (once) and promotes the waitlist."""
    if not fully_refunded(order):
        return False
    event = lock_event(item_id_or_unavailable(order.item_id))
    registration = (
        EventRegistration.objects.select_for_update(of=("self",)).filter(order_no=order.order_no).first()
    )
    if registration is None or registration.status != R.CONFIRMED:
        return False
    registration_transition(
        registration, to=R.REFUNDED, cancelled_at=timezone.now(), cancel_reason="refunded"
    )
    event_promote_waitlist(event=event)
    return True


def event_cancel(*, user, event: Event) -> EventRegistration:
    """The member gives up their place: a waitlist place or a free/tier ticket at once; a paid ticket
    through a self-service refund of its order (inside the refund window: until N hours before start)."""
    with transaction.atomic():
        event = lock_event(event.pk)
        registration = (
            EventRegistration.objects.select_for_update(of=("self",)).filter(event=event, user=user).first()
        )
        if registration is None or registration.status not in (R.CONFIRMED, R.PENDING, R.WAITLISTED):
            raise ApplicationError("not_registered", _("你没有报名该活动"), status_code=404)
        if registration.checked_in_at is not None:
            raise ApplicationError("already_checked_in", _("已签到，无法取消"), status_code=409)
        if registration.status == R.CONFIRMED and registration.order_no:
            order = Order.objects.get(order_no=registration.order_no)
            if order.amount_fen > 0:
                refund_request(
                    order=order,
                    amount_fen=None,
                    reason=_("取消报名"),
                    requested_by=user,
                    self_service=True,
                )
                return registration
        was_seat = registration.status in (R.CONFIRMED, R.PENDING)
        registration_transition(
            registration,
            to=R.CANCELLED,
            cancelled_at=timezone.now(),
            cancel_reason="member",
            hold_expires_at=None,
        )
        if was_seat:
            event_promote_waitlist(event=event)
    return registration


def event_refund_window(*, order) -> timedelta:
    """Self-service refunds until `refund_cutoff_hours` before the event starts."""
    event = Event.objects.filter(pk=item_id_or_unavailable(order.item_id)).first()
    if event is None or order.paid_at is None:
        return timedelta(0)
    deadline = event.starts_at - timedelta(hours=event.refund_cutoff_hours)
    return max(timedelta(0), deadline - order.paid_at)

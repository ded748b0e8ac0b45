"""Writes of the courses app: enrolments and progress, event registration / tickets / check-in (核销) /
waitlist, camp seats, check-ins (打卡) with moderation and review (点评), points, streaks, certificates,
posters and the check-in reminder sweep.

Access is decided by `courses.selectors` only. Exactly-once rules:
- an order grants once (fulfil is called once by payments) and a refund revokes once: the enrolment,
  registration or seat carries the `order_no` it came from and is revoked under its row lock only while
  it is still active with that order;
- seats of an event are counted under the event's row lock (the last seat is never given twice);
- a ticket is checked in by one conditional UPDATE;
- a reminder is a row unique per (member, term, day), claimed by one INSERT … SELECT … ON CONFLICT.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core import content_check
from core.errors import ApplicationError, NotEntitled
from core.images import store_images, validate_images
from core.money import apply_bp
from courses import selectors
from courses.models import (
    CampTask,
    CheckIn,
    CheckinReminder,
    Course,
    CourseEnrolment,
    Event,
    EventRegistration,
    Lesson,
    LessonProgress,
    Source,
    Term,
    TermSeat,
    generate_ticket_code,
)
from payments import items

logger = logging.getLogger(__name__)

R = EventRegistration.Status
MAX_CHECKIN_CHARS = 5000
MAX_CHECKIN_IMAGES = 9
REMINDER_BATCH = 500
WAITLIST_HOLD = timedelta(hours=12)
# A lesson counts as learned once this share of it has been played (or the member says so).
COMPLETE_AT_BP = 9000


# ---- helpers -------------------------------------------------------------------------------------------------


def _notify(
    *,
    user,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    subscribe_template: str = "",
    subscribe_data: dict | None = None,
):
    """In-site notification (+ a subscribe message when the member has an opt-in left): members owns it."""
    from members.services import notification_send

    return notification_send(
        user=user,
        kind=kind,
        title=title,
        body=body,
        url=url,
        subscribe_template=subscribe_template,
        subscribe_data=subscribe_data,
    )


def _award_points(*, user, amount: int, reason: str, key: str) -> None:
    if amount <= 0:
        return
    from members.services import points_award

    points_award(user=user, amount=amount, reason=reason, idempotency_key=key)


def _openid_for(user) -> str:
    from core.models import WeChatIdentity

    identity = (
        WeChatIdentity.objects.filter(user=user, kind=WeChatIdentity.Kind.MINIPROGRAM).order_by("-id").first()
    )
    return identity.openid if identity else ""


def _source_for_order(order) -> str:
    if order.channel == "points":
        return Source.POINTS
    if order.amount_fen == 0:  # operator grants and other free channels (payments.order_create_free)
        return Source.GRANT
    return Source.PURCHASE


def _fully_refunded(order) -> bool:
    return order.refunded_fen >= order.amount_fen


def _int_id(item_id) -> int:
    try:
        return int(item_id)
    except (TypeError, ValueError):
        raise items.ItemUnavailable() from None


def tier_discount_line(
    *, user, quote: items.Quote, facts: selectors.Entitlements | None = None
) -> items.Quote:
    """The single-purchase discount of the member's active tier, as a visible quote line (from the
    member's `facts` when the caller has them, else from the membership)."""
    from members.selectors import active_membership

    if facts is not None:
        rate, name = facts.discount_bp, facts.tier_name
    else:
        # tier_discount_bp(user), from the one membership read (it would read the membership again)
        membership = active_membership(user) if getattr(user, "is_authenticated", False) else None
        rate = int(membership.tier.single_purchase_discount_bp) if membership else 0
        name = membership.tier.name if membership else ""
    if rate <= 0 or quote.list_price_fen <= 0:
        return quote
    discount = apply_bp(quote.list_price_fen, rate)
    if discount <= 0:
        return quote
    return quote.with_line(_("%(tier)s专享折扣") % {"tier": name}, -discount, tier_discount_bp=rate)


# ---- courses -------------------------------------------------------------------------------------------------


def course_quote(*, user, course_id, free_grant: bool = False) -> items.Quote:
    course = Course.objects.filter(pk=_int_id(course_id), is_published=True).first()
    if course is None:
        raise items.ItemUnavailable()
    # An order's price never rests on a cache: the member's facts are read from the database here.
    access = selectors.course_access(user, course, facts=selectors.entitlements(user, fresh=True))
    return course_price(user=user, course=course, access=access, free_grant=free_grant)


def course_price(
    *, user, course: Course, access: selectors.CourseAccess, free_grant: bool = False
) -> items.Quote:
    """What this user pays for the course now (pages and API pass the access they already computed).

    `free_grant`: given away (points, operator grant), so a course not sold alone may be quoted."""
    if not course.for_sale and not free_grant:
        raise items.ItemUnavailable(_("该课程不单独售卖"), code="not_for_sale")
    if access.unlocked:
        raise items.ItemUnavailable(_("你已拥有该课程，无需购买"), code="already_entitled")
    quote = items.Quote(
        title=_("课程「%(title)s」") % {"title": course.title},
        list_price_fen=course.price_fen,
        context={"course_id": course.pk},
    )
    # the discount from the same facts the access was decided on (no second read of the membership)
    return tier_discount_line(
        user=user, quote=quote, facts=access.entitlements if access.reason != "login" else None
    )


def enrolment_grant(*, course: Course, user, source: str, order_no: str | None = None) -> CourseEnrolment:
    """Give the member the course (idempotent per order_no); reactivates a revoked enrolment."""
    with transaction.atomic():
        enrolment, created = CourseEnrolment.objects.select_for_update(of=("self",)).get_or_create(
            course=course, user=user, defaults={"source": source, "order_no": order_no}
        )
        if created:
            return enrolment
        if enrolment.status == CourseEnrolment.Status.ACTIVE:
            if order_no and enrolment.order_no is None and enrolment.source not in (Source.PURCHASE,):
                # Already had it another way (grant): keep that, remember nothing new.
                pass
            return enrolment
        enrolment.status = CourseEnrolment.Status.ACTIVE
        enrolment.source = source
        enrolment.order_no = order_no
        enrolment.revoked_at = None
        enrolment.save(update_fields=["status", "source", "order_no", "revoked_at", "updated_at"])
    return enrolment


def course_fulfil(*, order) -> CourseEnrolment:
    """A paid course order: the enrolment — or, when the member already holds the course through
    another order or a grant (two orders paid for one course), a refund of this one after commit."""
    course = Course.objects.get(pk=_int_id(order.item_id))
    enrolment = enrolment_grant(
        course=course, user=order.user, source=_source_for_order(order), order_no=order.order_no
    )
    if enrolment.order_no != order.order_no:
        if order.amount_fen == 0:  # a free grant has nothing to refund: refuse it instead
            raise items.ItemUnavailable(_("你已拥有该课程"), code="already_entitled")
        _refund_later(order, reason=_("你已拥有该课程，重复支付自动退款"))
    return enrolment


def enrolment_revoke(*, order_no: str) -> bool:
    """Take back the enrolment an order gave (exactly once: only while it is active with that order)."""
    with transaction.atomic():
        enrolment = (
            CourseEnrolment.objects.select_for_update(of=("self",))
            .filter(order_no=order_no, status=CourseEnrolment.Status.ACTIVE)
            .first()
        )
        if enrolment is None:
            return False
        enrolment.status = CourseEnrolment.Status.REVOKED
        enrolment.revoked_at = timezone.now()
        enrolment.save(update_fields=["status", "revoked_at", "updated_at"])
    return True


def lesson_progress_save(
    *, user, lesson: Lesson, position_seconds: int, completed: bool | None = None
) -> LessonProgress:
    """Save where the member is in a lesson; completion is sticky (never un-learned by seeking back)."""
    access = selectors.lesson_access(user, lesson)
    if not access.allowed:
        raise NotEntitled(access.reason_text or None)
    if not getattr(user, "is_authenticated", False):
        raise ApplicationError("not_authenticated", _("请先登录"), status_code=401)
    position = max(0, int(position_seconds or 0))
    if lesson.duration_seconds:
        position = min(position, lesson.duration_seconds)
        if completed is None and position * 10_000 >= lesson.duration_seconds * COMPLETE_AT_BP:
            completed = True
    now = timezone.now()
    with transaction.atomic():
        progress, _created = LessonProgress.objects.select_for_update(of=("self",)).get_or_create(
            user=user, lesson=lesson, defaults={"course_id": lesson.course_id}
        )
        progress.position_seconds = position
        fields = ["position_seconds", "updated_at"]
        if completed and not progress.completed:
            progress.completed = True
            progress.completed_at = now
            fields += ["completed", "completed_at"]
        progress.save(update_fields=fields)
    return progress


# ---- offline events -------------------------------------------------------------------------------------------


def _lock_event(event_id: int) -> Event:
    return Event.objects.select_for_update(of=("self",)).get(pk=event_id)


def _new_ticket_code() -> str:
    for _attempt in range(10):
        code = generate_ticket_code()
        if not EventRegistration.objects.filter(ticket_code=code).exists():
            return code
    raise RuntimeError("could not draw a free ticket code")  # pragma: no cover - 31^10 codes


def _confirm(registration: EventRegistration, *, source: str, order_no: str | None, now: datetime) -> None:
    registration.status = R.CONFIRMED
    registration.source = source
    registration.order_no = order_no
    registration.ticket_code = registration.ticket_code or _new_ticket_code()
    registration.confirmed_at = now
    registration.hold_expires_at = None
    registration.cancelled_at = None
    registration.cancel_reason = ""
    registration.save()


def _event_url(event: Event) -> str:
    return reverse("courses:event", args=[event.pk])


def _ticket_notice(registration: EventRegistration) -> None:
    event = registration.event
    when = timezone.localtime(event.starts_at)
    _notify(
        user=registration.user,
        kind="event_ticket",
        title=_("报名成功：%(title)s") % {"title": event.title},
        body=_("%(when)s · %(venue)s，入场请出示门票二维码（票码 %(code)s）")
        % {"when": f"{when:%m-%d %H:%M}", "venue": event.venue, "code": registration.ticket_code},
        url=reverse("courses:ticket", args=[registration.ticket_code]),
    )


def event_register(*, user, event: Event, now: datetime | None = None) -> EventRegistration:
    """Register for an event: a ticket at once (tier-included with quota left, or free), a seat held for
    payment (paid), or a waitlist place when full. Idempotent for a member already in."""
    if not getattr(user, "is_authenticated", False):
        raise ApplicationError("not_authenticated", _("请先登录"), status_code=401)
    now = now or timezone.now()
    with transaction.atomic():
        event = _lock_event(event.pk)
        registration = (
            EventRegistration.objects.select_for_update(of=("self",)).filter(event=event, user=user).first()
        )
        access = selectors.event_access(user, event, now=now, registration=registration)
        if access.state in ("registered", "pending_payment", "waitlisted"):
            return registration
        if access.state in ("ended", "closed"):
            raise ApplicationError("registration_closed", access.state_text, status_code=409)
        if not (access.can_register_free or access.must_pay):
            raise NotEntitled(access.state_text)
        if registration is None:
            registration = EventRegistration(event=event, user=user, status=R.CANCELLED)
        if access.full:
            registration.status = R.WAITLISTED
            registration.waitlisted_at = now
            registration.source = Source.TIER if access.state == "free_for_member" else ""
            registration.hold_expires_at = None
            registration.save()
            return registration
        if access.can_register_free:
            source = Source.TIER if access.state == "free_for_member" else Source.FREE
            _confirm(registration, source=source, order_no=None, now=now)
            _ticket_notice(registration)
            return registration
        # Paid: hold the seat while the member pays (as long as an order lives).
        from payments.orders.checkout import order_ttl

        registration.status = R.PENDING
        registration.source = Source.PURCHASE
        registration.hold_expires_at = now + order_ttl()
        registration.save()
        return registration


def event_quote(*, user, event_id, free_grant: bool = False) -> items.Quote:
    event = Event.objects.filter(pk=_int_id(event_id), is_published=True).first()
    if event is None:
        raise items.ItemUnavailable()
    if event.price_fen <= 0 and not free_grant:
        raise items.ItemUnavailable(_("该活动无需付费报名"), code="not_for_sale")
    access = selectors.event_access(user, event)
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
    event = _lock_event(_int_id(order.item_id))
    registration = (
        EventRegistration.objects.select_for_update(of=("self",)).filter(event=event, user=order.user).first()
    )
    if registration is not None and registration.status == R.CONFIRMED:
        if order.amount_fen == 0:
            raise items.ItemUnavailable(_("你已报名该活动"), code="already_registered")
        _refund_later(order, reason=_("你已报名该活动，重复支付自动退款"))
        return registration
    holds_seat = (
        registration is not None
        and registration.status == R.PENDING
        and registration.hold_expires_at is not None
        and registration.hold_expires_at > now
    )
    if not holds_seat:
        taken = selectors.event_seats_taken(event, now=now)
        if taken >= event.capacity:
            if order.amount_fen == 0:  # a free grant has nothing to refund: refuse it instead
                raise items.ItemUnavailable(_("名额已满"), code="event_full")
            if registration is None:
                registration = EventRegistration(event=event, user=order.user)
            registration.status = R.CANCELLED
            registration.cancelled_at = now
            registration.cancel_reason = "full"
            registration.order_no = order.order_no
            registration.hold_expires_at = None
            registration.save()
            _refund_later(order, reason=_("名额已满，报名费原路退回"))
            _notify(
                user=order.user,
                kind="event_full_refund",
                title=_("「%(title)s」名额已满") % {"title": event.title},
                body=_("很抱歉，支付完成时名额已被抢完，报名费将原路退回。"),
                url=_event_url(event),
            )
            return registration
    if registration is None:
        registration = EventRegistration(event=event, user=order.user)
    _confirm(registration, source=_source_for_order(order), order_no=order.order_no, now=now)
    _ticket_notice(registration)
    return registration


def _refund_later(order, *, reason: str) -> None:
    """The system owes this paid order a full refund: mark it so (payments records the mark in the
    paying transaction) and refund it after commit. The task refunds marked orders only."""
    from courses import tasks
    from payments.orders.refunds import order_auto_refund_mark

    order_no = order.order_no
    if not order_auto_refund_mark(order_no=order_no, reason=str(reason), order=order):
        logger.error("order %s could not be marked for an automatic refund (not paid?)", order_no)
        return
    transaction.on_commit(lambda: tasks.refund_order.delay(order_no, str(reason)))


def order_refund_for(*, order_no: str, reason: str = "") -> None:
    """Full refund of an order this app cannot honour (event full, paid twice), as the system.

    Only an order `_refund_later` marked is refunded, with the reason recorded at marking time
    (`reason` is kept for the task's signature and ignored): an order number from anywhere else
    (a periodic task an operator typed in, a shell) changes nothing."""
    from payments.orders.refunds import order_auto_refund_start

    order_auto_refund_start(order_no=order_no)


def event_revoke(*, order, refund) -> bool:
    """A completed full refund of a registration order frees the seat (once) and promotes the waitlist."""
    if not _fully_refunded(order):
        return False
    event = _lock_event(_int_id(order.item_id))
    registration = (
        EventRegistration.objects.select_for_update(of=("self",)).filter(order_no=order.order_no).first()
    )
    if registration is None or registration.status != R.CONFIRMED:
        return False
    registration.status = R.REFUNDED
    registration.cancelled_at = timezone.now()
    registration.cancel_reason = "refunded"
    registration.save(update_fields=["status", "cancelled_at", "cancel_reason", "updated_at"])
    event_promote_waitlist(event=event)
    return True


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
        if selectors.tier_ticket_covered(order.user, ticket.event):
            continue
        event = _lock_event(ticket.event_id)
        updated = EventRegistration.objects.filter(pk=ticket.pk, status=R.CONFIRMED).update(
            status=R.CANCELLED, cancelled_at=now, cancel_reason="membership_ended", updated_at=now
        )
        if updated:
            ended += 1
            event_promote_waitlist(event=event, now=now)
            _notify(
                user=order.user,
                kind="event_ticket_cancelled",
                title=_("「%(title)s」门票已作废") % {"title": event.title},
                body=_("该门票为会员权益，会员已随订单退款结束。"),
                url=_event_url(event),
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


def event_cancel(*, user, event: Event) -> EventRegistration:
    """The member gives up their place: a waitlist place or a free/tier ticket at once; a paid ticket
    through a self-service refund of its order (inside the refund window: until N hours before start)."""
    from payments.models import Order
    from payments.orders.refunds import refund_request

    with transaction.atomic():
        event = _lock_event(event.pk)
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
        registration.status = R.CANCELLED
        registration.cancelled_at = timezone.now()
        registration.cancel_reason = "member"
        registration.hold_expires_at = None
        registration.save(
            update_fields=["status", "cancelled_at", "cancel_reason", "hold_expires_at", "updated_at"]
        )
        if was_seat:
            event_promote_waitlist(event=event)
    return registration


def event_promote_waitlist(*, event: Event, now: datetime | None = None) -> int:
    """Inside the event lock: give free seats to the waitlist in order. A member whose place is free
    (tier quota, free event) gets a ticket; others get the seat held for WAITLIST_HOLD to pay."""
    now = now or timezone.now()
    promoted = 0
    free = event.capacity - selectors.event_seats_taken(event, now=now)
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
        access = selectors.event_access(registration.user, event, now=now, registration=None)
        if access.state in ("ended", "closed"):
            break
        if access.can_register_free:
            source = Source.TIER if access.state == "free_for_member" else Source.FREE
            _confirm(registration, source=source, order_no=None, now=now)
            _ticket_notice(registration)
        elif access.state == "buy":
            registration.status = R.PENDING
            registration.source = Source.PURCHASE
            registration.hold_expires_at = min(now + WAITLIST_HOLD, event.closes_at)
            registration.save(update_fields=["status", "source", "hold_expires_at", "updated_at"])
            _notify(
                user=registration.user,
                kind="event_waitlist_seat",
                title=_("候补成功：「%(title)s」有空位了") % {"title": event.title},
                body=_("名额已为你保留至 %(until)s，请尽快完成支付。")
                % {"until": f"{timezone.localtime(registration.hold_expires_at):%m-%d %H:%M}"},
                url=_event_url(event),
            )
        else:  # no longer eligible (e.g. membership lapsed and the event is member-only)
            registration.status = R.CANCELLED
            registration.cancelled_at = now
            registration.cancel_reason = "not_eligible"
            registration.save(update_fields=["status", "cancelled_at", "cancel_reason", "updated_at"])
            continue
        free -= 1
        promoted += 1
    return promoted


def event_waitlist_refill(*, event_id: int, now: datetime | None = None) -> int:
    """After an operator changes an event (more seats, a later close): seats that are now free go to
    the waitlist in order, as a cancellation's would. Returns how many were promoted."""
    with transaction.atomic():
        event = _lock_event(event_id)
        return event_promote_waitlist(event=event, now=now)


class CheckInRefused(ApplicationError):
    pass


def event_check_in(*, event: Event, code: str, staff) -> EventRegistration:
    """核销: mark a ticket of this event used — exactly once (one conditional UPDATE)."""
    if not selectors.event_can_check_in(staff, event):
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
    if tier_ticket is not None and not selectors.tier_ticket_covered(tier_ticket.user, event):
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
    if updated == 1:
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
            event = _lock_event(event_id)
            released += EventRegistration.objects.filter(
                event=event, status=R.PENDING, hold_expires_at__lte=now
            ).update(status=R.CANCELLED, cancelled_at=now, cancel_reason="hold_expired", updated_at=now)
            promoted += event_promote_waitlist(event=event, now=now)
    return {"holds_released": released, "promoted": promoted}


def event_refund_window(*, order) -> timedelta:
    """Self-service refunds until `refund_cutoff_hours` before the event starts."""
    event = Event.objects.filter(pk=_int_id(order.item_id)).first()
    if event is None or order.paid_at is None:
        return timedelta(0)
    deadline = event.starts_at - timedelta(hours=event.refund_cutoff_hours)
    return max(timedelta(0), deadline - order.paid_at)


# ---- camps: seats ---------------------------------------------------------------------------------------------


def _lock_term(term_id: int) -> Term:
    return Term.objects.select_for_update(of=("self",)).get(pk=term_id)


def _term_url(term: Term) -> str:
    return reverse("courses:term", args=[term.pk])


class TermFull(ApplicationError):
    def __init__(self):
        super().__init__("term_full", _("本期名额已满"), status_code=409)


def seat_grant(*, term: Term, user, source: str, order_no: str | None = None) -> TermSeat:
    """Give a member a seat in a term (idempotent); reactivates a revoked seat with the new source.

    Seats are counted under the term's row lock: a term with a capacity is never overfilled (TermFull).
    """
    with transaction.atomic():
        term = _lock_term(term.pk)
        seat = TermSeat.objects.select_for_update(of=("self",)).filter(term=term, user=user).first()
        if seat is not None and seat.status == TermSeat.Status.ACTIVE:
            if order_no and seat.source == Source.TIER:
                # A tier seat bought for real (e.g. before the membership lapses): the purchase now holds it.
                seat.source, seat.order_no = source, order_no
                seat.save(update_fields=["source", "order_no", "updated_at"])
            return seat
        if term.capacity is not None and selectors.term_seats_taken(term) >= term.capacity:
            raise TermFull()
        if seat is None:
            seat = TermSeat.objects.create(term=term, user=user, source=source, order_no=order_no)
        else:
            seat.status = TermSeat.Status.ACTIVE
            seat.source = source
            seat.order_no = order_no
            seat.revoked_at = None
            seat.save(update_fields=["status", "source", "order_no", "revoked_at", "updated_at"])
    return seat


def term_join(*, user, term: Term) -> TermSeat:
    """Join a term without paying: tier-included camps (while the tier is active) and free camps."""
    with transaction.atomic():
        term = _lock_term(term.pk)
        term = selectors.term_get(term_id=term.pk)
        access = selectors.term_access(user, term)
        if access.joined:
            return access.seat
        if access.state == "join_free":
            return seat_grant(term=term, user=user, source=Source.TIER)
        if access.state == "join":
            return seat_grant(term=term, user=user, source=Source.FREE)
        if access.state in ("ended", "full"):
            raise ApplicationError(f"term_{access.state}", access.state_text, status_code=409)
        if access.state == "login":
            raise ApplicationError("not_authenticated", _("请先登录"), status_code=401)
        raise NotEntitled(access.state_text)


def camp_quote(*, user, term_id, free_grant: bool = False) -> items.Quote:
    term = Term.objects.filter(pk=_int_id(term_id), is_published=True, camp__is_published=True).first()
    if term is None:
        raise items.ItemUnavailable()
    if term.camp.price_fen <= 0 and not free_grant:
        raise items.ItemUnavailable(_("该营期无需付费报名"), code="not_for_sale")
    term = selectors.term_get(term_id=term.pk)
    access = selectors.term_access(user, term)
    if access.joined:
        raise items.ItemUnavailable(_("你已加入本期"), code="already_joined")
    if access.state == "join_free":
        raise items.ItemUnavailable(_("会员可免费加入，无需购买"), code="included_in_membership")
    if access.state in ("ended", "full"):
        raise items.ItemUnavailable(access.state_text, code=f"term_{access.state}")
    quote = items.Quote(
        title=_("训练营「%(camp)s」%(term)s") % {"camp": term.camp.title, "term": term.name},
        list_price_fen=term.camp.price_fen,
        context={"term_id": term.pk, "camp_id": term.camp_id},
    )
    return tier_discount_line(user=user, quote=quote)


def camp_fulfil(*, order) -> TermSeat | None:
    """A paid camp order: a seat, or — when the term filled up while the member paid — a refund."""
    term = Term.objects.select_related("camp").get(pk=_int_id(order.item_id))
    try:
        with transaction.atomic():
            seat = seat_grant(
                term=term, user=order.user, source=_source_for_order(order), order_no=order.order_no
            )
        if seat.order_no != order.order_no:
            # Already in this term through another order or a grant: the second payment goes back.
            if order.amount_fen == 0:
                raise items.ItemUnavailable(_("你已加入本期"), code="already_joined")
            _refund_later(order, reason=_("你已加入本期，重复支付自动退款"))
            return seat
    except TermFull:
        if order.amount_fen == 0:  # a free grant has nothing to refund: refuse it instead
            raise
        _refund_later(order, reason=_("营期名额已满，报名费原路退回"))
        _notify(
            user=order.user,
            kind="camp_full_refund",
            title=_("「%(camp)s」%(term)s 名额已满") % {"camp": term.camp.title, "term": term.name},
            body=_("很抱歉，支付完成时名额已被抢完，报名费将原路退回。"),
            url=_term_url(term),
        )
        return None
    _notify(
        user=order.user,
        kind="camp_joined",
        title=_("已加入「%(camp)s」%(term)s") % {"camp": term.camp.title, "term": term.name},
        body=_("%(date)s 开营，每天完成任务并打卡。") % {"date": f"{term.start_date:%m-%d}"},
        url=_term_url(term),
    )
    return seat


def seat_revoke(*, order) -> bool:
    """A completed full refund of a camp order takes the seat back (exactly once, keyed on order_no)."""
    if not _fully_refunded(order):
        return False
    with transaction.atomic():
        seat = (
            TermSeat.objects.select_for_update(of=("self",))
            .filter(order_no=order.order_no, status=TermSeat.Status.ACTIVE)
            .first()
        )
        if seat is None:
            return False
        seat.status = TermSeat.Status.REVOKED
        seat.revoked_at = timezone.now()
        seat.save(update_fields=["status", "revoked_at", "updated_at"])
    return True


def camp_refund_window(*, order) -> timedelta:
    """Self-service refunds until the end of the term's first day (Asia/Shanghai)."""
    term = Term.objects.filter(pk=_int_id(order.item_id)).first()
    if term is None or order.paid_at is None:
        return timedelta(0)
    tz = timezone.get_current_timezone()
    deadline = datetime.combine(term.start_date + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    return max(timedelta(0), deadline - order.paid_at)


# ---- camps: check-ins -------------------------------------------------------------------------------------------


def _lock_seat(seat_id: int) -> TermSeat:
    return TermSeat.objects.select_for_update(of=("self",)).get(pk=seat_id)


def _content_status(*, user, text: str) -> str:
    verdict = content_check.check_text(text, openid=_openid_for(user), scene=4)
    if verdict.suggest == content_check.RISKY:
        raise ApplicationError(
            "content_rejected",
            _("打卡内容包含违规信息，未能提交，请修改后重试"),
            fields={"text": [_("内容未通过安全检查")]},
        )
    return CheckIn.Status.VISIBLE if verdict.suggest == content_check.PASS else CheckIn.Status.REVIEW


def seat_recompute(seat: TermSeat, *, now: datetime | None = None) -> TermSeat:
    """Inside the seat lock: days, streaks, points and completion from the seat's visible check-ins."""
    term = seat.term
    camp = term.camp
    rows = list(
        CheckIn.objects.filter(seat_id=seat.pk, status=CheckIn.Status.VISIBLE)
        .order_by("day")
        .values_list("day", "points_awarded", "review_points")
    )
    days = [row[0] for row in rows]
    best = run = 0
    previous = None
    for day in days:
        run = run + 1 if previous is not None and (day - previous).days == 1 else 1
        best = max(best, run)
        previous = day
    seat.checkin_days = len(days)
    seat.streak = run if days else 0
    seat.streak_last_day = days[-1] if days else None
    seat.best_streak = best
    seat.points = sum(row[1] + row[2] for row in rows)
    fields = ["checkin_days", "streak", "streak_last_day", "best_streak", "points", "updated_at"]
    needed = min(camp.certificate_days or term.days, term.days)
    newly_completed = seat.completed_at is None and seat.checkin_days >= needed
    if newly_completed:
        seat.completed_at = now or timezone.now()
        seat.certificate_no = f"ZQ{term.start_date:%y%m}{term.pk:04d}{seat.pk:06d}"
        fields += ["completed_at", "certificate_no"]
    seat.save(update_fields=fields)
    if newly_completed:
        _notify(
            user=seat.user,
            kind="camp_completed",
            title=_("恭喜结营：「%(camp)s」") % {"camp": camp.title},
            body=_("你已完成 %(n)s 天打卡，结营证书已生成。") % {"n": seat.checkin_days},
            url=reverse("courses:certificate", args=[term.pk]),
        )
    return seat


def _checkin_became_visible(checkin: CheckIn, seat: TermSeat) -> None:
    camp = seat.term.camp
    points = camp.points_per_makeup if checkin.is_makeup else camp.points_per_checkin
    if points and not checkin.points_awarded:
        checkin.points_awarded = points
        checkin.save(update_fields=["points_awarded", "updated_at"])
        _award_points(
            user=checkin.user,
            amount=points,
            reason=_("训练营打卡：%(camp)s 第%(day)s天") % {"camp": camp.title, "day": checkin.task.day},
            key=f"courses:checkin:{checkin.pk}",
        )
    seat_recompute(seat)


def checkin_submit(
    *, user, term: Term, task: CampTask, text: str, images=(), now: datetime | None = None
) -> CheckIn:
    """打卡 for one day's task: today's, or a past day inside the make-up (补卡) rules.

    Refused: a future task (task_locked), a past task when make-ups are off (task_not_today), outside the
    make-up window (makeup_window_closed), over the make-up limit (makeup_limit_reached), a second check-in
    for the same day (already_checked_in), risky text (content_rejected). Doubtful text waits in the
    moderation queue. A check-in that moderation rejected may be submitted again.
    """
    now = now or timezone.now()
    access = selectors.term_access(user, term, now=now)
    if not access.joined:
        raise NotEntitled(access.state_text or None)
    camp = term.camp
    if task.camp_id != camp.pk or task.day > term.days:
        raise ApplicationError("not_found", _("任务不存在"), status_code=404)
    today = timezone.localdate(now)
    task_date = term.date_of_day(task.day)
    is_makeup = False
    if task_date > today:
        raise ApplicationError(
            "task_locked",
            _("该任务将于 %(date)s 解锁") % {"date": f"{task_date:%m-%d}"},
            status_code=409,
        )
    if task_date < today:
        if not camp.makeup_days:
            raise ApplicationError(
                "task_not_today", _("只能为今天的任务打卡（本营不支持补卡）"), status_code=409
            )
        if (today - task_date).days > camp.makeup_days:
            raise ApplicationError(
                "makeup_window_closed",
                _("只能补最近 %(n)s 天的卡") % {"n": camp.makeup_days},
                status_code=409,
            )
        is_makeup = True
    text = (text or "").strip()
    if not text:
        raise ApplicationError("invalid", _("请写下今天的打卡内容"), fields={"text": [_("必填")]})
    if len(text) > MAX_CHECKIN_CHARS:
        raise ApplicationError(
            "invalid", _("打卡内容过长"), fields={"text": [_("最多 %(n)s 字") % {"n": MAX_CHECKIN_CHARS}]}
        )
    checked = validate_images(images, max_count=MAX_CHECKIN_IMAGES)
    if task.requires_image and not checked:
        raise ApplicationError("image_required", _("该任务需要上传图片"), fields={"images": [_("必填")]})
    seat = access.seat
    existing = CheckIn.objects.filter(seat_id=seat.pk, day=task_date).first()
    if existing is not None and existing.status != CheckIn.Status.REJECTED:
        raise ApplicationError("already_checked_in", _("这一天已经打过卡了"), status_code=409)
    if is_makeup and existing is None and seat.makeups_used >= camp.makeup_limit:
        raise ApplicationError(
            "makeup_limit_reached",
            _("本期补卡次数已用完（最多 %(n)s 次）") % {"n": camp.makeup_limit},
            status_code=409,
        )
    status = _content_status(user=user, text=text)
    names = store_images(checked, folder="courses/checkins")
    with transaction.atomic():
        seat = _lock_seat(seat.pk)
        existing = (
            CheckIn.objects.select_for_update(of=("self",)).filter(seat_id=seat.pk, day=task_date).first()
        )
        if existing is not None and existing.status != CheckIn.Status.REJECTED:
            raise ApplicationError("already_checked_in", _("这一天已经打过卡了"), status_code=409)
        if existing is None:
            if is_makeup:
                if seat.makeups_used >= camp.makeup_limit:
                    raise ApplicationError(
                        "makeup_limit_reached",
                        _("本期补卡次数已用完（最多 %(n)s 次）") % {"n": camp.makeup_limit},
                        status_code=409,
                    )
                seat.makeups_used += 1
                seat.save(update_fields=["makeups_used", "updated_at"])
            try:
                with transaction.atomic():
                    checkin = CheckIn.objects.create(
                        seat=seat,
                        term=term,
                        user=user,
                        task=task,
                        day=task_date,
                        text=text,
                        images=names,
                        status=status,
                        is_makeup=is_makeup,
                    )
            except IntegrityError:
                raise ApplicationError(
                    "already_checked_in", _("这一天已经打过卡了"), status_code=409
                ) from None
        else:
            checkin = existing
            checkin.text, checkin.images, checkin.status = text, names, status
            checkin.moderation_note = ""
            checkin.save(update_fields=["text", "images", "status", "moderation_note", "updated_at"])
        seat.term = term
        if status == CheckIn.Status.VISIBLE:
            _checkin_became_visible(checkin, seat)
    return checkin


def checkin_moderate(*, checkin: CheckIn, actor, approve: bool, note: str = "") -> CheckIn:
    """Approve or reject a check-in held by the content check (camp reviewers, operators)."""
    term = selectors.term_get(term_id=checkin.term_id)
    if not selectors.camp_can_review(actor, term.camp):
        raise ApplicationError("permission_denied", _("你不能审核该训练营的打卡"), status_code=403)
    with transaction.atomic():
        seat = _lock_seat(checkin.seat_id)
        locked = (
            CheckIn.objects.select_for_update(of=("self",)).select_related("task", "user").get(pk=checkin.pk)
        )
        if locked.status != CheckIn.Status.REVIEW:
            return locked
        locked.status = CheckIn.Status.VISIBLE if approve else CheckIn.Status.REJECTED
        locked.moderation_note = (note or "")[:200]
        locked.save(update_fields=["status", "moderation_note", "updated_at"])
        seat.term = term
        if approve:
            _checkin_became_visible(locked, seat)
        else:
            _notify(
                user=locked.user,
                kind="checkin_rejected",
                title=_("你的打卡未通过审核"),
                body=note or _("请修改内容后重新提交"),
                url=_term_url(term),
            )
    return locked


def checkin_review(*, checkin: CheckIn, reviewer, comment: str, score: int) -> CheckIn:
    """点评: the teacher's comment and 1–5 score on a visible check-in, once; points follow the score."""
    term = selectors.term_get(term_id=checkin.term_id)
    camp = term.camp
    if not selectors.camp_can_review(reviewer, camp):
        raise ApplicationError("permission_denied", _("你不能点评该训练营的打卡"), status_code=403)
    comment = (comment or "").strip()
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    if not comment:
        raise ApplicationError("invalid", _("请写下点评"), fields={"comment": [_("必填")]})
    if not 1 <= score <= 5:
        raise ApplicationError("invalid", _("评分为 1 到 5 分"), fields={"score": [_("1–5")]})
    with transaction.atomic():
        seat = _lock_seat(checkin.seat_id)
        locked = (
            CheckIn.objects.select_for_update(of=("self",)).select_related("task", "user").get(pk=checkin.pk)
        )
        if locked.status != CheckIn.Status.VISIBLE:
            raise ApplicationError("not_reviewable", _("该打卡尚未通过审核"), status_code=409)
        if locked.reviewed_at is not None:
            raise ApplicationError("already_reviewed", _("该打卡已经点评过了"), status_code=409)
        locked.reviewed_by = reviewer
        locked.reviewed_at = timezone.now()
        locked.review_comment = comment[:2000]
        locked.review_score = score
        locked.review_points = camp.points_per_review * score // 5
        locked.save(
            update_fields=[
                "reviewed_by",
                "reviewed_at",
                "review_comment",
                "review_score",
                "review_points",
                "updated_at",
            ]
        )
        _award_points(
            user=locked.user,
            amount=locked.review_points,
            reason=_("训练营作业获点评：%(camp)s 第%(day)s天") % {"camp": camp.title, "day": locked.task.day},
            key=f"courses:review:{locked.pk}",
        )
        seat.term = term
        seat_recompute(seat)
        _notify(
            user=locked.user,
            kind="checkin_reviewed",
            title=_("%(teacher)s 点评了你的打卡") % {"teacher": reviewer.display_name},
            body=comment[:100],
            url=_term_url(term),
        )
    return locked


# ---- posters and certificates ---------------------------------------------------------------------------------


def share_url(user) -> str:
    """The member's referral link (the referrals app owns /r/<code>/)."""
    return f"{settings.SITE_URL}/r/{user.referral_code}/"


def miniprogram_code_png(*, scene: str, page: str) -> bytes | None:
    """An unlimited mini-program code (getwxacodeunlimit) for `scene`, cached; None when WeChat fails."""
    from django.core.cache import cache

    from core.wechat import miniprogram_client

    key = f"courses:wxacode:{page}:{scene}"
    cached = cache.get(key)
    if cached:
        return cached
    try:
        response = miniprogram_client().post(
            "wxa/getwxacodeunlimit",
            data={"scene": scene, "page": page, "check_path": True, "env_version": "release", "width": 430},
            api_base_url=settings.WECHAT_API_BASE_URL + "/",
        )
    except Exception as exc:  # noqa: BLE001 - WeChat down or refusing: the web link QR still works
        logger.warning("getwxacodeunlimit failed (%s); falling back to a link QR", exc.__class__.__name__)
        return None
    content = getattr(response, "content", None)
    if not content:
        return None
    cache.set(key, content, timeout=30 * 24 * 3600)
    return content


def term_poster_png(*, user, term: Term, now: datetime | None = None) -> bytes:
    """成就分享: camp name, streak/days/points and a QR code carrying the member's referral link."""
    from core import brand
    from core.posters import render_poster

    access = selectors.term_access(user, term)
    if not access.joined:
        raise NotEntitled(access.state_text or None)
    seat = access.seat
    today = timezone.localdate(now or timezone.now())
    page = settings.WECHAT_MINIPROGRAM_POSTER_PAGE
    code_png = miniprogram_code_png(scene=f"r={user.referral_code}", page=page) if page else None
    return render_poster(
        title=f"{term.camp.title} · {term.name}",
        subtitle=_("%(name)s 在%(site)s训练营坚持打卡")
        % {"name": user.display_name, "site": brand.current().site_name},
        stats=[
            (str(seat.current_streak(today)), _("连续打卡天数")),
            (str(seat.checkin_days), _("累计打卡天数")),
            (str(seat.points), _("本期积分")),
        ],
        qr_payload=share_url(user),
        qr_png_bytes=code_png,
        footer=_("扫码加入，和我一起学习"),
    )


def certificate_png(*, seat: TermSeat) -> bytes:
    """The completion certificate (结营证书) as a landscape PNG with a CJK font."""
    import io

    from PIL import Image, ImageDraw

    from core.posters import BRAND, cjk_font

    term = seat.term
    width, height = 1200, 850
    image = Image.new("RGB", (width, height), (255, 253, 246))
    draw = ImageDraw.Draw(image)
    draw.rectangle([24, 24, width - 24, height - 24], outline=BRAND, width=6)
    draw.rectangle([40, 40, width - 40, height - 40], outline=(200, 180, 120), width=2)
    centre = width // 2
    draw.text((centre, 150), str(_("结营证书")), font=cjk_font(72), fill=BRAND, anchor="mm")
    draw.text((centre, 260), seat.user.display_name, font=cjk_font(56), fill=(30, 30, 30), anchor="mm")
    lines = [
        _("完成了「%(camp)s」%(term)s") % {"camp": term.camp.title, "term": term.name},
        _("共打卡 %(days)s 天，最长连续 %(streak)s 天，获得 %(points)s 积分")
        % {"days": seat.checkin_days, "streak": seat.best_streak, "points": seat.points},
    ]
    y = 370
    for line in lines:
        draw.text((centre, y), str(line), font=cjk_font(34), fill=(70, 70, 70), anchor="mm")
        y += 64
    completed = timezone.localtime(seat.completed_at) if seat.completed_at else timezone.localtime()
    draw.text(
        (centre, 620),
        str(_("主讲老师：%(teacher)s")) % {"teacher": term.camp.teacher.display_name},
        font=cjk_font(30),
        fill=(90, 90, 90),
        anchor="mm",
    )
    draw.text((centre, 690), f"{completed:%Y-%m-%d}", font=cjk_font(30), fill=(90, 90, 90), anchor="mm")
    draw.text(
        (centre, 770),
        str(_("证书编号 %(no)s")) % {"no": seat.certificate_no or ""},
        font=cjk_font(24),
        fill=(150, 150, 150),
        anchor="mm",
    )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


# ---- check-in reminders ------------------------------------------------------------------------------------------


def checkin_reminders_due(*, now: datetime | None = None) -> list[int]:
    """Ids of the seats due a reminder now: ONE indexed statement (see selectors.reminder_candidates)."""
    return list(selectors.reminder_candidates(now=now).values_list("id", flat=True))


def checkin_reminders_sweep(*, now: datetime | None = None, batch: int = REMINDER_BATCH) -> dict[str, int]:
    """Every 5 minutes: select the due seats and hand them to the workers in batches.

    The sweep writes nothing: each worker claims its batch (the DB-unique reminder log) and sends, so a
    slow day never holds a long transaction here, and a batch enqueued twice (overlapping sweeps, a
    redelivered task) still reminds each member at most once per term and day.
    """
    from courses import tasks

    now = now or timezone.now()
    day = timezone.localdate(now).isoformat()
    seat_ids = checkin_reminders_due(now=now)
    batches = 0
    for i in range(0, len(seat_ids), batch):
        tasks.send_checkin_reminders.delay(seat_ids[i : i + batch], day)
        batches += 1
    return {"due": len(seat_ids), "batches": batches}


def checkin_reminders_claim(*, seat_ids: list[int], day, now: datetime | None = None) -> list[int]:
    """Claim the reminder log rows of `day` for these seats (still active, not checked in that day) in
    one INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING id: a row is claimed by one caller only."""
    now = now or timezone.now()
    select_sql, params = (
        TermSeat.objects.filter(pk__in=list(seat_ids), status=TermSeat.Status.ACTIVE)
        .exclude(pk__in=CheckIn.objects.filter(seat_id__in=list(seat_ids), day=day).values("seat_id"))
        .values("user_id", "term_id", "id")
        .query.sql_with_params()
    )
    table = connection.ops.quote_name(CheckinReminder._meta.db_table)
    sql = (
        f"INSERT INTO {table} (user_id, term_id, seat_id, day, channel, created_at) "
        f"SELECT due.user_id, due.term_id, due.id, %s, '', %s FROM ({select_sql}) due WHERE true "
        "ON CONFLICT (term_id, day, user_id) DO NOTHING RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [day, now, *params])
        return [row[0] for row in cursor.fetchall()]


def checkin_reminders_send(*, seat_ids: list[int], day, now: datetime | None = None) -> dict[str, int]:
    """Worker side of the sweep: claim the batch, then notify each claimed member — all in one transaction,
    so a failure claims and sends nothing and the redelivered task does it again; a second delivery after
    success finds every row claimed and sends nothing.

    members' notification_send writes the in-site notification and, when the member has an opt-in left
    for the camp's template and a mini-program openid, queues the subscribe message that consumes exactly
    one opt-in (after commit). A batch picked up after midnight is dropped: "not checked in today" no
    longer holds.
    """
    from datetime import date as date_type

    from members.models import Notification, SubscribeOptIn

    now = now or timezone.now()
    day = date_type.fromisoformat(day) if isinstance(day, str) else day
    counts = {"claimed": 0, "subscribe": 0, "insite": 0, "stale": 0}
    if timezone.localdate(now) != day:
        counts["stale"] = len(seat_ids)
        return counts
    with transaction.atomic():
        claimed = checkin_reminders_claim(seat_ids=seat_ids, day=day, now=now)
        counts["claimed"] = len(claimed)
        if not claimed:
            return counts
        reminders = list(
            CheckinReminder.objects.filter(pk__in=claimed)
            .select_related("user", "term", "term__camp")
            .order_by("pk")
        )
        terms = {r.term_id: r.term for r in reminders}
        tasks_by_camp_day = {
            (t.camp_id, t.day): t
            for t in CampTask.objects.filter(
                camp_id__in={term.camp_id for term in terms.values()},
                day__in={term.day_number(day) for term in terms.values()},
            )
        }
        # Only members with an opt-in left are offered to the subscribe path (one read for the batch);
        # notification_send re-checks everything and consumes the opt-in itself.
        with_optins = set(
            SubscribeOptIn.objects.filter(
                user_id__in=[r.user_id for r in reminders],
                template_key__in={
                    t.camp.subscribe_template for t in terms.values() if t.camp.subscribe_template
                },
                remaining__gt=0,
            ).values_list("user_id", "template_key")
        )
        for reminder in reminders:
            term, camp = reminder.term, reminder.term.camp
            day_number = term.day_number(day)
            task = tasks_by_camp_day.get((camp.pk, day_number))
            task_title = task.title if task else _("今日任务")
            template = (
                camp.subscribe_template if (reminder.user_id, camp.subscribe_template) in with_optins else ""
            )
            notification = _notify(
                user=reminder.user,
                kind="checkin_reminder",
                title=_("今天还没打卡哦：%(camp)s") % {"camp": camp.title},
                body=_("第%(day)s天任务：%(task)s") % {"day": day_number, "task": task_title},
                url=_term_url(term),
                subscribe_template=template,
                # Values in the order of the template's keyword fields (operators configure them).
                subscribe_data=[camp.title, task_title, f"{day:%Y-%m-%d}"] if template else None,
            )
            queued = notification.push_status == Notification.Push.QUEUED
            reminder.channel = CheckinReminder.Channel.SUBSCRIBE if queued else CheckinReminder.Channel.INSITE
            reminder.notification_id = notification.pk
            reminder.sent_at = now
            counts["subscribe" if queued else "insite"] += 1
        CheckinReminder.objects.bulk_update(
            reminders, ["channel", "notification_id", "sent_at"], batch_size=500
        )
    return counts

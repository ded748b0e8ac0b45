"""Writes of the catalog: pricing a course for a member, enrolments (granted, bought, revoked exactly
once per order) and the lesson progress API's resume position (completion: courses.learning)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError, NotEntitled
from courses import member_facts
from courses.catalog import selectors as catalog_selectors
from courses.ids import item_id_or_unavailable
from courses.learning import playback
from courses.models import (
    Course,
    CourseEnrolment,
    Lesson,
    LessonProgress,
    Source,
)
from courses.orders import refund_later, source_for_order, tier_discount_line
from payments import items


def course_quote(*, user, course_id, free_grant: bool = False) -> items.Quote:
    course = Course.objects.filter(pk=item_id_or_unavailable(course_id), is_published=True).first()
    if course is None:
        raise items.ItemUnavailable()
    # An order's price never rests on a cache: the member's facts are read from the database here.
    access = catalog_selectors.course_access(user, course, facts=member_facts.entitlements(user, fresh=True))
    return course_price(user=user, course=course, access=access, free_grant=free_grant)


def course_price(
    *, user, course: Course, access: catalog_selectors.CourseAccess, free_grant: bool = False
) -> items.Quote:
    """What this user pays for the course now (pages and API pass the access they already computed)."""
    # `free_grant`: given away (points, an operator's grant), so a course not sold alone may be quoted.
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
    course = Course.objects.get(pk=item_id_or_unavailable(order.item_id))
    enrolment = enrolment_grant(
        course=course, user=order.user, source=source_for_order(order), order_no=order.order_no
    )
    if enrolment.order_no != order.order_no:
        if order.amount_fen == 0:  # a free grant has nothing to refund: refuse it instead
            raise items.ItemUnavailable(_("你已拥有该课程"), code="already_entitled")
        refund_later(order, reason=_("你已拥有该课程，重复支付自动退款"))
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


def lesson_refusal(access: catalog_selectors.LessonAccess) -> ApplicationError:
    """Why a lesson is refused, as the API answers it. Not yet released (the member holds the course;
    the drip has not reached the lesson) is `403 lesson_not_released` with `unlocks_at`, never
    `not_entitled`: that code tells the client to sell the course to someone who already has it.
    Not logged in is 401; anything else is `403 not_entitled` (API.md row 8)."""
    if access.reason == "not_released" and access.unlocks_at is not None:
        return ApplicationError(
            "lesson_not_released",
            access.reason_text,
            status_code=403,
            extra={"unlocks_at": timezone.localtime(access.unlocks_at).isoformat()},
        )
    if access.reason == "login":
        return ApplicationError("not_authenticated", _("请先登录"), status_code=401)
    return NotEntitled(access.reason_text or None)


def lesson_progress_save(
    *, user, lesson: Lesson, position_seconds: int, completed: bool | None = None
) -> LessonProgress:
    """Save where the member is in a lesson (courses.learning.playback.progress_save decides completion)."""
    access = catalog_selectors.lesson_access(user, lesson)
    if not access.allowed:
        if access.reason == "not_released":
            raise lesson_refusal(access)
        raise NotEntitled(access.reason_text or None)
    if not getattr(user, "is_authenticated", False):
        raise ApplicationError("not_authenticated", _("请先登录"), status_code=401)
    # The resume position only: whether the lesson is learned is the server's to decide, from watched
    # time (heartbeats) or a text lesson's reading rule; the client's `completed` is a request.
    return playback.progress_save(
        user=user, lesson=lesson, position_seconds=position_seconds, completed=completed
    )

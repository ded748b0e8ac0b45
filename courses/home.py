"""What courses contributes to the home page (found by `core.discovery.app_modules("home")`, so
members never imports courses). Each function runs a fixed number of statements."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from courses.models import (
    Camp,
    CampTask,
    CheckIn,
    Course,
    Event,
    EventRegistration,
    Lesson,
    LessonProgress,
    TermSeat,
)


def _titles(titles: list[str], limit: int = 3) -> str:
    shown = _("、").join(_("《%(title)s》") % {"title": t} for t in titles[:limit])
    return shown + (_("等") if len(titles) > limit else "")


def tier_benefits(tiers) -> dict[int, list[str]]:
    """For each tier id, what it really includes: the published courses, camps and events whose
    `included_in_tiers` hold that tier or a lower rank (tiers are rank-inclusive). 3 statements."""
    ranks = {tier.pk: tier.rank for tier in tiers}
    rows: dict[str, list[tuple[int, str]]] = {}
    now = timezone.now()
    for key, model, extra in (
        ("course", Course, Q(is_published=True)),
        ("camp", Camp, Q(is_published=True)),
        ("event", Event, Q(is_published=True, ends_at__gte=now)),
    ):
        rows[key] = list(
            model.included_in_tiers.through.objects.filter(
                **{f"{model._meta.model_name}__in": model.objects.filter(extra)}
            )
            .order_by(f"{model._meta.model_name}__id")
            .values_list("membershiptier__rank", f"{model._meta.model_name}__title")
        )
    benefits: dict[int, list[str]] = {}
    for tier_id, rank in ranks.items():
        lines = []
        courses = list(dict.fromkeys(title for r, title in rows["course"] if r <= rank))
        camps = list(dict.fromkeys(title for r, title in rows["camp"] if r <= rank))
        events = list(dict.fromkeys(title for r, title in rows["event"] if r <= rank))
        if courses:
            lines.append(
                ngettext("%(n)d 门课程免费学：%(titles)s", "%(n)d 门课程免费学：%(titles)s", len(courses))
                % {"n": len(courses), "titles": _titles(courses)}
            )
        if camps:
            lines.append(_("训练营免费参加：%(titles)s") % {"titles": _titles(camps)})
        if events:
            lines.append(_("线下活动免费报名：%(titles)s") % {"titles": _titles(events, 2)})
        benefits[tier_id] = lines
    return benefits


def visitor_panel() -> dict:
    """Proof for a visitor: what there is to learn. 3 statements."""
    now = timezone.now()
    courses = list(
        Course.objects.filter(is_published=True)
        .select_related("teacher")
        .annotate(lesson_count=Count("lessons", filter=Q(lessons__is_published=True)))
        .order_by("sort_order", "id")[:4]
    )
    counts = Course.objects.filter(is_published=True).aggregate(
        courses=Count("id"),
    )
    events = list(Event.objects.filter(is_published=True, starts_at__gte=now).order_by("starts_at")[:2])
    camp_count = Camp.objects.filter(is_published=True).count()
    return {
        "featured_courses": courses,
        "course_count": counts["courses"],
        "camp_count": camp_count,
        "upcoming_events": events,
    }


def member_panel(user) -> dict:
    """For a signed-in member: the lesson to continue, today's camp task and streak, the next ticket.
    At most 6 statements."""
    now = timezone.now()
    today = timezone.localdate(now)
    panel: dict = {}
    last = (
        LessonProgress.objects.filter(user=user)
        .select_related("lesson", "course")
        .order_by("-updated_at")
        .first()
    )
    if last is not None:
        counts = Lesson.objects.filter(course=last.course, is_published=True).aggregate(
            # distinct: the join to progress has a row per learner of each lesson
            total=Count("id", distinct=True),
            done=Count("id", filter=Q(progress__user=user, progress__completed=True), distinct=True),
        )
        percent = round(100 * counts["done"] / counts["total"]) if counts["total"] else 0
        next_lesson = last.lesson
        if last.completed:
            following = (
                Lesson.objects.filter(
                    course=last.course, is_published=True, position__gt=last.lesson.position
                )
                .order_by("position", "id")
                .first()
            )
            next_lesson = following or last.lesson
        panel["continue"] = {"course": last.course, "lesson": next_lesson, "percent": percent}
    seat = (
        TermSeat.objects.filter(
            user=user,
            status=TermSeat.Status.ACTIVE,
            term__start_date__lte=today,
            term__end_date__gte=today,
        )
        .select_related("term__camp")
        .order_by("term__start_date")
        .first()
    )
    if seat is not None:
        term = seat.term
        day = term.day_number(today)
        task = CampTask.objects.filter(camp=term.camp, day=day).first()
        checked = CheckIn.objects.filter(seat=seat, day=today).exists()
        panel["camp"] = {
            "term": term,
            "day": day,
            "task": task,
            "checked_in": checked,
            "streak": seat.current_streak(today),
        }
    ticket = (
        EventRegistration.objects.filter(
            user=user,
            status=EventRegistration.Status.CONFIRMED,
            event__ends_at__gte=now,
            event__starts_at__lte=now + timedelta(days=120),
        )
        .select_related("event")
        .order_by("event__starts_at")
        .first()
    )
    if ticket is not None:
        panel["ticket"] = ticket
    return panel


def order_destination(order) -> tuple[str, str] | None:
    """Where a paid order of courses sends the member: the course, the ticket, the camp term."""
    if order.item_type == "course":
        return reverse("courses:course", args=[order.item_id]), _("开始学习")
    if order.item_type == "camp":
        return reverse("courses:term", args=[order.item_id]), _("进入训练营")
    if order.item_type == "event":
        registration = (
            EventRegistration.objects.filter(order_no=order.order_no)
            .exclude(ticket_code=None)
            .only("ticket_code")
            .first()
        )
        if registration is not None:
            return reverse("courses:ticket", args=[registration.ticket_code]), _("查看电子票")
        return reverse("courses:event", args=[order.item_id]), _("查看活动")
    return None

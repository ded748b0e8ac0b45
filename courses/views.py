"""Server-rendered pages of courses, events and camps (thin: selectors read, services write)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import ApplicationError
from core.posters import qr_png
from courses import selectors, services
from courses.models import CampTask, CheckIn, EventRegistration


def _checkout(item_type: str, item_id) -> str:
    return reverse("payments:checkout") + "?" + urlencode({"item_type": item_type, "item_id": item_id})


def _login(request: HttpRequest) -> str:
    return reverse("account_login") + "?" + urlencode({"next": request.get_full_path()})


def _price(quote_fn, request, item_id):
    if not request.user.is_authenticated:
        return None, ""
    try:
        return quote_fn(user=request.user, item_id=item_id), ""
    except ApplicationError as exc:
        return None, exc.message


# ---- courses -------------------------------------------------------------------------------------------------


def catalog(request: HttpRequest) -> HttpResponse:
    courses = list(selectors.catalog())
    return render(
        request,
        "courses/catalog.html",
        {"courses": courses, "unlocked": selectors.catalog_unlocked_ids(user=request.user, courses=courses)},
    )


def course_detail(request: HttpRequest, course_id: int) -> HttpResponse:
    course = selectors.course_get(course_id=course_id)
    access = selectors.course_access(request.user, course)
    lessons = selectors.course_lessons(course)
    progress = selectors.progress_by_lesson(user=request.user, course=course)
    quote, price_error = (None, "")
    if not access.unlocked:
        quote, price_error = _price(
            lambda *, user, item_id: services.course_price(user=user, course=course, access=access),
            request,
            course.pk,
        )
    rows = [
        {
            "lesson": lesson,
            "locked": access.lesson_locked(lesson),
            "progress": progress.get(lesson.pk),
        }
        for lesson in lessons
    ]
    return render(
        request,
        "courses/course.html",
        {
            "course": course,
            "access": access,
            "rows": rows,
            "quote": quote,
            "price_error": price_error,
            "checkout_url": _checkout("course", course.pk),
            "completion": selectors.completion_percent(lessons=lessons, progress=progress),
            "login_url": _login(request),
        },
    )


def lesson_detail(request: HttpRequest, lesson_id: int) -> HttpResponse:
    lesson = selectors.lesson_get(lesson_id=lesson_id)
    access = selectors.lesson_access(request.user, lesson)
    if not access.allowed:
        return render(
            request,
            "courses/lesson_locked.html",
            {
                "lesson": lesson,
                "course": lesson.course,
                "access": access,
                "login_url": _login(request),
            },
            status=403,
        )
    progress = selectors.progress_by_lesson(user=request.user, course=lesson.course).get(lesson.pk)
    previous, following = selectors.lesson_neighbours(lesson)
    return render(
        request,
        "courses/lesson.html",
        {
            "lesson": lesson,
            "course": lesson.course,
            "access": access,
            "progress": progress,
            "previous": previous,
            "following": following,
        },
    )


@login_required
def my_learning(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "courses/mine.html",
        {
            "courses": selectors.my_courses(user=request.user),
            "tickets": selectors.my_tickets(user=request.user),
            "seats": selectors.my_terms(user=request.user),
            "today": timezone.localdate(),
        },
    )


# ---- events --------------------------------------------------------------------------------------------------


def event_list(request: HttpRequest) -> HttpResponse:
    events = [(e, max(0, e.capacity - e.seats_taken)) for e in selectors.events_listed()]
    return render(request, "courses/events.html", {"events": events})


def event_detail(request: HttpRequest, event_id: int) -> HttpResponse:
    event = selectors.event_get(event_id=event_id)
    access = selectors.event_access(request.user, event)
    quote, price_error = None, ""
    if access.must_pay:
        quote, price_error = _price(
            lambda *, user, item_id: services.event_quote(user=user, event_id=item_id), request, event.pk
        )
    return render(
        request,
        "courses/event.html",
        {
            "event": event,
            "access": access,
            "quote": quote,
            "price_error": price_error,
            "checkout_url": _checkout("event", event.pk),
            "login_url": _login(request),
            "can_check_in": selectors.event_can_check_in(request.user, event),
        },
    )


@login_required
@require_POST
def event_register(request: HttpRequest, event_id: int) -> HttpResponse:
    event = selectors.event_get(event_id=event_id)
    try:
        registration = services.event_register(user=request.user, event=event)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("courses:event", event_id=event.pk)
    if registration.status == EventRegistration.Status.PENDING:
        return redirect(_checkout("event", event.pk))
    if registration.status == EventRegistration.Status.WAITLISTED:
        messages.info(request, _("名额已满，你已进入候补，有空位时会通知你"))
        return redirect("courses:event", event_id=event.pk)
    messages.success(request, _("报名成功"))
    return redirect("courses:ticket", code=registration.ticket_code)


@login_required
@require_POST
def event_cancel(request: HttpRequest, event_id: int) -> HttpResponse:
    event = selectors.event_get(event_id=event_id)
    try:
        registration = services.event_cancel(user=request.user, event=event)
        registration.refresh_from_db()
        if registration.status == EventRegistration.Status.CONFIRMED:
            messages.success(request, _("已申请退款，退款完成后报名自动取消"))
        else:
            messages.success(request, _("已取消报名"))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("courses:event", event_id=event.pk)


@login_required
def ticket(request: HttpRequest, code: str) -> HttpResponse:
    registration = selectors.ticket_get(user=request.user, code=code)
    return render(request, "courses/ticket.html", {"registration": registration, "event": registration.event})


def ticket_scan_url(registration: EventRegistration) -> str:
    path = reverse("courses:event_checkin", args=[registration.event_id])
    return f"{settings.SITE_URL}{path}?{urlencode({'code': registration.ticket_code})}"


@login_required
def ticket_qr(request: HttpRequest, code: str) -> HttpResponse:
    registration = selectors.ticket_get(user=request.user, code=code)
    if registration.status != EventRegistration.Status.CONFIRMED:
        raise Http404
    response = HttpResponse(qr_png(ticket_scan_url(registration)), content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
def event_checkin(request: HttpRequest, event_id: int) -> HttpResponse:
    """核销 page for staff: scan (the QR opens this page with ?code=) or type the code, then confirm."""
    event = selectors.event_get(event_id=event_id)
    if not selectors.event_can_check_in(request.user, event):
        raise Http404
    code = (request.POST.get("code") or request.GET.get("code") or "").strip().upper()
    result = None
    pending = None
    if request.method == "POST" and code:
        try:
            result = services.event_check_in(event=event, code=code, staff=request.user)
            messages.success(request, _("核销成功：%(who)s") % {"who": result.user.display_name})
            code = ""
        except ApplicationError as exc:
            messages.error(request, exc.message)
    elif code:
        pending = (
            EventRegistration.objects.filter(event=event, ticket_code=code).select_related("user").first()
        )
    return render(
        request,
        "courses/event_checkin.html",
        {
            "event": event,
            "code": code,
            "pending": pending,
            "result": result,
            "attendance": selectors.event_attendance(event),
        },
    )


# ---- camps ---------------------------------------------------------------------------------------------------


def camp_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    camps = [(c, selectors.featured_term(list(c.terms.all()), today=today)) for c in selectors.camps_listed()]
    return render(request, "courses/camps.html", {"camps": camps, "today": today})


def camp_detail(request: HttpRequest, camp_id: int) -> HttpResponse:
    camp = selectors.camp_get(camp_id=camp_id)
    terms = selectors.camp_terms(camp)
    featured = selectors.featured_term(terms, today=timezone.localdate())
    if featured is not None:
        return redirect("courses:term", term_id=featured.pk)
    return render(request, "courses/camp_empty.html", {"camp": camp})


def _term_context(request: HttpRequest, term) -> dict:
    access = selectors.term_access(request.user, term)
    today = timezone.localdate()
    if access.seat is not None:
        access.seat.term = term
    return {
        "term": term,
        "camp": term.camp,
        "access": access,
        "seat": access.seat if access.joined else None,
        "today": today,
        "day": term.day_number(today),
        "terms": selectors.camp_terms(term.camp),
    }


def term_detail(request: HttpRequest, term_id: int) -> HttpResponse:
    term = selectors.term_get(term_id=term_id)
    context = _term_context(request, term)
    access = context["access"]
    if access.can_view:
        calendar = selectors.term_calendar(term=term, seat=context["seat"])
        task = selectors.task_for_day(term, context["day"])
        mine = (
            CheckIn.objects.filter(seat=context["seat"], day=context["today"]).first()
            if context["seat"]
            else None
        )
        makeup_days = [d for d in calendar if d.state in ("makeup", "rejected") and d.task is not None]
        context.update(
            task=task,
            mine=mine,
            makeup_days=makeup_days,
            calendar=calendar,
            feed=selectors.term_feed(term=term),
            rank=selectors.seat_rank(context["seat"]),
            streak=context["seat"].current_streak(context["today"]) if context["seat"] else 0,
            can_review=selectors.camp_can_review(request.user, term.camp),
        )
    else:
        quote, price_error = None, ""
        if access.state in ("buy", "membership_expired"):
            quote, price_error = _price(
                lambda *, user, item_id: services.camp_quote(user=user, term_id=item_id), request, term.pk
            )
        context.update(
            quote=quote,
            price_error=price_error,
            checkout_url=_checkout("camp", term.pk),
            login_url=_login(request),
            tasks=selectors.term_tasks(term)[:3],
        )
    return render(request, "courses/term.html", context)


@login_required
@require_POST
def term_join(request: HttpRequest, term_id: int) -> HttpResponse:
    term = selectors.term_get(term_id=term_id)
    try:
        services.term_join(user=request.user, term=term)
        messages.success(request, _("已加入本期训练营，每天记得打卡！"))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("courses:term", term_id=term.pk)


@login_required
@require_POST
def checkin_create(request: HttpRequest, term_id: int) -> HttpResponse:
    term = selectors.term_get(term_id=term_id)
    task = get_object_or_404(CampTask, pk=request.POST.get("task_id") or 0, camp_id=term.camp_id)
    try:
        checkin = services.checkin_submit(
            user=request.user,
            term=term,
            task=task,
            text=request.POST.get("text", ""),
            images=request.FILES.getlist("images"),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        if checkin.status == CheckIn.Status.REVIEW:
            messages.info(request, _("已提交，内容审核通过后计入打卡"))
        else:
            messages.success(request, _("打卡成功！"))
    return redirect("courses:term", term_id=term.pk)


def term_calendar(request: HttpRequest, term_id: int) -> HttpResponse:
    term = selectors.term_get(term_id=term_id)
    context = _term_context(request, term)
    if not context["access"].can_view:
        return redirect("courses:term", term_id=term.pk)
    context["calendar"] = selectors.term_calendar(term=term, seat=context["seat"])
    return render(request, "courses/calendar.html", context)


def term_leaderboard(request: HttpRequest, term_id: int) -> HttpResponse:
    term = selectors.term_get(term_id=term_id)
    context = _term_context(request, term)
    if not context["access"].can_view:
        return redirect("courses:term", term_id=term.pk)
    today = context["today"]
    context["rows"] = [
        (rank, seat, seat.current_streak(today))
        for rank, seat in enumerate(selectors.leaderboard(term=term), start=1)
    ]
    context["rank"] = selectors.seat_rank(context["seat"])
    return render(request, "courses/leaderboard.html", context)


@login_required
def term_poster(request: HttpRequest, term_id: int) -> HttpResponse:
    term = selectors.term_get(term_id=term_id)
    try:
        png = services.term_poster_png(user=request.user, term=term)
    except ApplicationError:
        raise Http404 from None
    response = HttpResponse(png, content_type="image/png")
    disposition = "attachment" if request.GET.get("download") else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="zhiquan-{term.pk}.png"'
    response["Cache-Control"] = "private, max-age=300"
    return response


def _completed_seat(request: HttpRequest, term):
    access = selectors.term_access(request.user, term)
    if not access.joined or not access.seat.certificate_no:
        raise Http404
    access.seat.term = term
    return access.seat


@login_required
def certificate(request: HttpRequest, term_id: int) -> HttpResponse:
    term = selectors.term_get(term_id=term_id)
    access = selectors.term_access(request.user, term)
    if not access.joined:
        raise Http404
    seat = access.seat
    seat.term = term
    needed = min(term.camp.certificate_days or term.days, term.days)
    return render(request, "courses/certificate.html", {"term": term, "seat": seat, "needed": needed})


@login_required
def certificate_png(request: HttpRequest, term_id: int) -> HttpResponse:
    term = selectors.term_get(term_id=term_id)
    seat = _completed_seat(request, term)
    response = HttpResponse(services.certificate_png(seat=seat), content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="certificate-{seat.certificate_no}.png"'
    return response


# ---- teacher tools ---------------------------------------------------------------------------------------------


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    camps = list(selectors.reviewable_camps(request.user))
    if not camps:
        raise Http404
    queue = selectors.review_queue(user=request.user)
    median = selectors.review_median_seconds(user=request.user)
    return render(
        request,
        "courses/review_queue.html",
        {
            "queue": list(queue[:50]),
            "count": queue.count(),
            "held": list(selectors.moderation_queue(user=request.user)[:50]),
            "median_hours": (median / 3600) if median is not None else None,
            "now": timezone.now(),
        },
    )


def _checkin_for_reviewer(user, checkin_id: int) -> CheckIn:
    """A member who does not review this camp gets 403 (not a redirect that looks like success)."""
    checkin = get_object_or_404(CheckIn.objects.select_related("term__camp"), pk=checkin_id)
    if not selectors.camp_can_review(user, checkin.term.camp):
        raise PermissionDenied
    return checkin


@login_required
@require_POST
def checkin_review(request: HttpRequest, checkin_id: int) -> HttpResponse:
    checkin = _checkin_for_reviewer(request.user, checkin_id)
    try:
        services.checkin_review(
            checkin=checkin,
            reviewer=request.user,
            comment=request.POST.get("comment", ""),
            score=request.POST.get("score", 0),
        )
        messages.success(request, _("点评已发送"))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("courses:review_queue")


@login_required
@require_POST
def checkin_moderate(request: HttpRequest, checkin_id: int) -> HttpResponse:
    checkin = _checkin_for_reviewer(request.user, checkin_id)
    try:
        services.checkin_moderate(
            checkin=checkin,
            actor=request.user,
            approve=request.POST.get("approve") == "1",
            note=request.POST.get("note", ""),
        )
        messages.success(request, _("已处理"))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("courses:review_queue")

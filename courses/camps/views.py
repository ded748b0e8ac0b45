"""Pages of camps: the list, the member's terms and certificates, a camp and its term, joining,
checking in (make-ups too), the calendar, the leaderboard, the poster and certificate, and the
teachers' review queue."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import ApplicationError
from courses.camps import checkins, leaderboards, posters, review_queues, reviews, seats
from courses.camps import selectors as camp_selectors
from courses.camps.forms import CheckInForm, ModerationForm, ReviewForm, first_error
from courses.models import CampTask, CheckIn
from courses.pages import checkout_page_url, login_url, page_price


def camp_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    camps = [
        (c, camp_selectors.featured_term(list(c.terms.all()), today=today))
        for c in camp_selectors.camps_listed()
    ]
    return render(request, "courses/camps.html", {"camps": camps, "today": today})


@login_required
def my_camps(request: HttpRequest) -> HttpResponse:
    """训练营与证书: the member's terms (running first, with today's task) and the certificates earned."""
    return render(
        request, "courses/my_camps.html", {"camps": camp_selectors.my_camp_terms(user=request.user)}
    )


def camp_detail(request: HttpRequest, camp_id: int) -> HttpResponse:
    camp = camp_selectors.camp_get(camp_id=camp_id)
    terms = camp_selectors.camp_terms(camp)
    featured = camp_selectors.featured_term(terms, today=timezone.localdate())
    if featured is not None:
        return redirect("courses:term", term_id=featured.pk)
    return render(request, "courses/camp_empty.html", {"camp": camp})


def _term_context(request: HttpRequest, term) -> dict:
    access = camp_selectors.term_access(request.user, term)
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
        "terms": camp_selectors.camp_terms(term.camp),
    }


def term_detail(request: HttpRequest, term_id: int) -> HttpResponse:
    term = camp_selectors.term_get(term_id=term_id)
    context = _term_context(request, term)
    access = context["access"]
    if access.can_view:
        calendar = camp_selectors.term_calendar(term=term, seat=context["seat"])
        task = camp_selectors.task_for_day(term, context["day"])
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
            feed=camp_selectors.term_feed(term=term),
            rank=leaderboards.seat_rank(context["seat"]),
            streak=context["seat"].current_streak(context["today"]) if context["seat"] else 0,
            can_review=camp_selectors.camp_can_review(request.user, term.camp),
        )
    else:
        quote, price_error = None, ""
        if access.state in ("buy", "membership_expired"):
            quote, price_error = page_price(
                lambda *, user, item_id: seats.camp_quote(user=user, term_id=item_id),
                request,
                term.pk,
                item_type="camp",
            )
        context.update(
            quote=quote,
            price_error=price_error,
            checkout_url=checkout_page_url("camp", term.pk),
            login_url=login_url(request),
            tasks=camp_selectors.term_tasks(term)[:3],
        )
    return render(request, "courses/term.html", context)


@login_required
@require_POST
def term_join(request: HttpRequest, term_id: int) -> HttpResponse:
    term = camp_selectors.term_get(term_id=term_id)
    try:
        seats.term_join(user=request.user, term=term)
        messages.success(request, _("已加入本期训练营，每天记得打卡！"))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("courses:term", term_id=term.pk)


@login_required
@require_POST
def checkin_create(request: HttpRequest, term_id: int) -> HttpResponse:
    term = camp_selectors.term_get(term_id=term_id)
    form = CheckInForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect("courses:term", term_id=term.pk)
    task = get_object_or_404(CampTask, pk=form.cleaned_data["task_id"], camp_id=term.camp_id)
    try:
        checkin = checkins.checkin_submit(
            user=request.user,
            term=term,
            task=task,
            text=form.cleaned_data["text"],
            images=form.cleaned_data["images"],
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
    term = camp_selectors.term_get(term_id=term_id)
    context = _term_context(request, term)
    if not context["access"].can_view:
        return redirect("courses:term", term_id=term.pk)
    context["calendar"] = camp_selectors.term_calendar(term=term, seat=context["seat"])
    return render(request, "courses/calendar.html", context)


def term_leaderboard(request: HttpRequest, term_id: int) -> HttpResponse:
    term = camp_selectors.term_get(term_id=term_id)
    context = _term_context(request, term)
    if not context["access"].can_view:
        return redirect("courses:term", term_id=term.pk)
    today = context["today"]
    context["rows"] = [
        (rank, seat, seat.current_streak(today))
        for rank, seat in enumerate(leaderboards.leaderboard(term=term), start=1)
    ]
    context["rank"] = leaderboards.seat_rank(context["seat"])
    return render(request, "courses/leaderboard.html", context)


@login_required
def term_poster(request: HttpRequest, term_id: int) -> HttpResponse:
    term = camp_selectors.term_get(term_id=term_id)
    try:
        png = posters.term_poster_png(user=request.user, term=term)
    except ApplicationError:
        raise Http404 from None
    response = HttpResponse(png, content_type="image/png")
    disposition = "attachment" if request.GET.get("download") else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="poster-term-{term.pk}.png"'
    response["Cache-Control"] = "private, max-age=300"
    return response


def _completed_seat(request: HttpRequest, term):
    seat = camp_selectors.certificate_seat(camp_selectors.term_access(request.user, term))
    if seat is None:
        raise Http404
    seat.term = term
    return seat


@login_required
def certificate(request: HttpRequest, term_id: int) -> HttpResponse:
    term = camp_selectors.term_get(term_id=term_id)
    access = camp_selectors.term_access(request.user, term)
    if not access.joined:
        raise Http404
    seat = access.seat
    assert seat is not None  # a "joined" access carries its seat
    seat.term = term
    needed = camp_selectors.certificate_days_needed(term)
    return render(request, "courses/certificate.html", {"term": term, "seat": seat, "needed": needed})


@login_required
def certificate_png(request: HttpRequest, term_id: int) -> HttpResponse:
    term = camp_selectors.term_get(term_id=term_id)
    seat = _completed_seat(request, term)
    response = HttpResponse(posters.certificate_png(seat=seat), content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="certificate-{seat.certificate_no}.png"'
    return response


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    camps = list(review_queues.reviewable_camps(request.user))
    if not camps:
        raise Http404
    queue = review_queues.review_queue(user=request.user)
    median = review_queues.review_median_seconds(user=request.user)
    return render(
        request,
        "courses/review_queue.html",
        {
            "queue": list(queue[:50]),
            "count": queue.count(),
            "held": list(review_queues.moderation_queue(user=request.user)[:50]),
            "median_hours": (median / 3600) if median is not None else None,
            "now": timezone.now(),
        },
    )


def _checkin_for_reviewer(user, checkin_id: int) -> CheckIn:
    """A member who does not review this camp gets 403 (not a redirect that looks like success)."""
    checkin = get_object_or_404(CheckIn.objects.select_related("term__camp"), pk=checkin_id)
    if not camp_selectors.camp_can_review(user, checkin.term.camp):
        raise PermissionDenied
    return checkin


@login_required
@require_POST
def checkin_review(request: HttpRequest, checkin_id: int) -> HttpResponse:
    checkin = _checkin_for_reviewer(request.user, checkin_id)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect("courses:review_queue")
    try:
        reviews.checkin_review(
            checkin=checkin,
            reviewer=request.user,
            comment=form.cleaned_data["comment"],
            score=form.cleaned_data["score"],
        )
        messages.success(request, _("点评已发送"))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("courses:review_queue")


@login_required
@require_POST
def checkin_moderate(request: HttpRequest, checkin_id: int) -> HttpResponse:
    checkin = _checkin_for_reviewer(request.user, checkin_id)
    form = ModerationForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect("courses:review_queue")
    try:
        reviews.checkin_moderate(
            checkin=checkin,
            actor=request.user,
            approve=form.cleaned_data["approve"],
            note=form.cleaned_data["note"],
        )
        messages.success(request, _("已处理"))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("courses:review_queue")

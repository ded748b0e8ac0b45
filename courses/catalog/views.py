"""Pages of the catalog: the course list, a course, a lesson (player) and the member's learning."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from courses.camps import selectors as camp_selectors
from courses.catalog import selectors as catalog_selectors
from courses.catalog import services as catalog_services
from courses.events import selectors as event_selectors
from courses.learning import views as learning_views
from courses.media import playback as media_playback
from courses.pages import checkout_page_url, login_url, page_price


def catalog(request: HttpRequest) -> HttpResponse:
    courses = list(catalog_selectors.catalog())
    return render(
        request,
        "courses/catalog.html",
        {
            "courses": courses,
            "unlocked": catalog_selectors.catalog_unlocked_ids(user=request.user, courses=courses),
        },
    )


def course_detail(request: HttpRequest, course_id: int) -> HttpResponse:
    course = catalog_selectors.course_get(course_id=course_id)
    access = catalog_selectors.course_access(request.user, course)
    lessons = catalog_selectors.course_lessons(course)
    progress = catalog_selectors.progress_by_lesson(user=request.user, course=course)
    quote, price_error = (None, "")
    if not access.unlocked:
        quote, price_error = page_price(
            lambda *, user, item_id: catalog_services.course_price(user=user, course=course, access=access),
            request,
            course.pk,
            item_type="course",
        )
    now = timezone.now()
    rows = []
    for lesson in lessons:
        unlocks_at = access.unlocks_at(lesson, now=now)
        if unlocks_at is not None:
            unlock = catalog_selectors.unlock_text(unlocks_at)
        elif not access.unlocked and not lesson.is_preview:
            unlock = catalog_selectors.unlock_day_text(lesson, now=now)
        else:
            unlock = ""
        rows.append(
            {
                "lesson": lesson,
                "locked": access.lesson_locked(lesson, now=now),
                "waiting": unlocks_at is not None,  # held by the drip, not by a missing right
                "unlock": unlock,
                "progress": progress.get(lesson.pk),
            }
        )
    return render(
        request,
        "courses/course.html",
        {
            "course": course,
            "access": access,
            "rows": rows,
            "quote": quote,
            "price_error": price_error,
            "checkout_url": checkout_page_url("course", course.pk),
            "completion": catalog_selectors.completion_percent(lessons=lessons, progress=progress),
            "login_url": login_url(request),
            **learning_views.course_completion_context(
                request.user, course, access, lessons=lessons, progress=progress
            ),
        },
    )


def lesson_detail(request: HttpRequest, lesson_id: int) -> HttpResponse:
    lesson = catalog_selectors.lesson_get(lesson_id=lesson_id)
    access = catalog_selectors.lesson_access(request.user, lesson)
    if not access.allowed:
        return render(
            request,
            "courses/lesson_locked.html",
            {
                "lesson": lesson,
                "course": lesson.course,
                "access": access,
                "login_url": login_url(request),
            },
            status=403,
        )
    progress = catalog_selectors.progress_by_lesson(user=request.user, course=lesson.course).get(lesson.pk)
    previous, following = catalog_selectors.lesson_neighbours(lesson)
    # The page's player fetches the playlists and key with this session: the URL is bound to it.
    playback = media_playback.playback_for(user=request.user, lesson=lesson, session_bound=True)
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
            "playback": playback,
            **learning_views.lesson_learning(request.user, lesson),
        },
    )


@login_required
def my_learning(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "courses/mine.html",
        {
            "courses": catalog_selectors.my_courses(user=request.user),
            "tickets": event_selectors.my_tickets(user=request.user),
            "seats": camp_selectors.my_terms(user=request.user),
            "today": timezone.localdate(),
        },
    )

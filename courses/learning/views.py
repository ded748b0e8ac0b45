"""Pages of learning: what the lesson page shows of a quiz, homework and the completion rule (for
courses.catalog.views), answering a quiz, submitting homework, the course certificate, and the
teachers' homework review queue."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import ApplicationError
from courses.camps.forms import first_error
from courses.catalog import selectors as catalog_selectors
from courses.learning import completion, homework, playback, quizzes
from courses.learning.forms import HomeworkForm, HomeworkReviewForm, QuizForm
from courses.member_facts import is_authenticated
from courses.models import HomeworkSubmission, Lesson


def lesson_learning(user, lesson: Lesson) -> dict:
    """The lesson page's quiz, homework and rule (the caller has checked `lesson_access`)."""
    context: dict = {
        "complete_at_percent": lesson.course.complete_at_percent,
        "reading_seconds": playback.reading_seconds_required(lesson),
        "media": lesson.kind in playback.MEDIA_KINDS,
    }
    quiz = quizzes.quiz_for_lesson(lesson)
    if quiz is not None:
        standing = quizzes.quiz_standing(user=user, quiz=quiz) if is_authenticated(user) else None
        context.update(quiz=quiz, quiz_standing=standing, quiz_form=QuizForm(quiz=quiz))
    assignment = homework.homework_for_lesson(lesson)
    if assignment is not None:
        context.update(homework=assignment, submission=homework.my_submission(user=user, homework=assignment))
    return context


def course_completion_context(user, course, access, *, lessons=None, progress=None) -> dict:
    """The course page's rule and certificate link, for members who may open the course.

    The course page passes the lessons and progress it already read: while lessons are left and the
    rule asks for nothing else, those answer without another statement (a completion cannot exist
    then, unless lessons were published after it: its page still shows it)."""
    if not access.unlocked or not is_authenticated(user):
        return {}
    if (
        lessons is not None
        and progress is not None
        and not (course.require_quizzes or course.require_homework)
    ):
        done = sum(1 for lesson in lessons if (p := progress.get(lesson.pk)) is not None and p.completed)
        if done < len(lessons):
            rule = completion.CourseRule(
                lessons_total=len(lessons),
                lessons_done=done,
                quizzes_total=0,
                quizzes_passed=0,
                homework_total=0,
                homework_approved=0,
                require_quizzes=False,
                require_homework=False,
            )
            return {"rule": rule, "certificate": None}
    rule = completion.course_rule(user=user, course=course)
    return {"rule": rule, "certificate": rule.completion_id is not None}


@login_required
@require_POST
def quiz_submit(request: HttpRequest, lesson_id: int) -> HttpResponse:
    lesson = catalog_selectors.lesson_get(lesson_id=lesson_id)
    quiz = quizzes.quiz_for_lesson(lesson)
    if quiz is None:
        raise Http404
    form = QuizForm(request.POST, quiz=quiz)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect("courses:lesson", lesson_id=lesson.pk)
    try:
        attempt, _right = quizzes.quiz_submit(user=request.user, lesson=lesson, answers=form.answers())
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        if attempt.passed:
            messages.success(request, _("测验通过！得分 %(score)s%%") % {"score": attempt.score_percent})
        else:
            messages.warning(
                request,
                _("未通过：得分 %(score)s%%，及格线 %(pass)s%%")
                % {"score": attempt.score_percent, "pass": quiz.pass_percent},
            )
    return redirect("courses:lesson", lesson_id=lesson.pk)


@login_required
@require_POST
def homework_submit(request: HttpRequest, lesson_id: int) -> HttpResponse:
    lesson = catalog_selectors.lesson_get(lesson_id=lesson_id)
    form = HomeworkForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect("courses:lesson", lesson_id=lesson.pk)
    try:
        homework.homework_submit(
            user=request.user,
            lesson=lesson,
            text=form.cleaned_data["text"],
            images=form.cleaned_data["images"],
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("作业已提交，等待老师批改"))
    return redirect("courses:lesson", lesson_id=lesson.pk)


@login_required
def course_certificate(request: HttpRequest, course_id: int) -> HttpResponse:
    course = catalog_selectors.course_get(course_id=course_id)
    access = catalog_selectors.course_access(request.user, course)
    if not access.unlocked:
        raise Http404
    return render(
        request,
        "courses/course_certificate.html",
        {
            "course": course,
            "rule": completion.course_rule(user=request.user, course=course),
            "certificate": completion.course_certificate(user=request.user, course=course),
        },
    )


@login_required
def course_certificate_png(request: HttpRequest, course_id: int) -> HttpResponse:
    course = catalog_selectors.course_get(course_id=course_id)
    done = completion.course_certificate(user=request.user, course=course)
    if done is None:
        raise Http404
    response = HttpResponse(completion.certificate_png(done=done), content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="certificate-{done.certificate_no}.png"'
    return response


@login_required
def homework_review_queue(request: HttpRequest) -> HttpResponse:
    if not homework.reviews_homework(request.user):
        raise Http404
    queue = homework.review_queue(user=request.user)
    return render(
        request,
        "courses/homework_review.html",
        {"queue": list(queue[:50]), "count": queue.count()},
    )


@login_required
@require_POST
def homework_review(request: HttpRequest, submission_id: int) -> HttpResponse:
    submission = get_object_or_404(HomeworkSubmission.objects.select_related("course"), pk=submission_id)
    if not homework.course_can_review(request.user, submission.course):
        raise Http404
    form = HomeworkReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect("courses:homework_review_queue")
    try:
        homework.homework_review(
            submission=submission,
            reviewer=request.user,
            approve=form.cleaned_data["approve"],
            comment=form.cleaned_data["comment"],
        )
        messages.success(request, _("已批改"))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("courses:homework_review_queue")

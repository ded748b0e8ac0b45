"""A course's completion rule and its certificate (结业证书).

The rule (`course_rule`): every published lesson learned (LessonProgress.completed, which only
courses.learning.playback sets), and, when the course asks for them, every published quiz of its
published lessons passed and every published homework approved. `course_completion_check` runs after
each thing that can complete the rule (a lesson learned, a quiz passed, homework approved) and writes
the `CourseCompletion` with its certificate number once. `course_certificate` is THE rule of showing a
certificate — the completion exists and the member may still open the course (a benefit exists only
while what funds it is paid; the record stays, so it shows again on renewal) — used by the page, its
image and the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import IntegerField, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core import posters as core_posters
from courses.catalog import selectors as catalog_selectors
from courses.member_actions import notify
from courses.member_facts import is_authenticated
from courses.models import (
    Course,
    CourseCompletion,
    Homework,
    HomeworkSubmission,
    Lesson,
    LessonProgress,
    Quiz,
    QuizAttempt,
)


@dataclass(frozen=True)
class CourseRule:
    """Where a member stands against a course's completion rule."""

    lessons_total: int
    lessons_done: int
    quizzes_total: int
    quizzes_passed: int
    homework_total: int
    homework_approved: int
    require_quizzes: bool
    require_homework: bool
    completion_id: int | None = None  # the member's CourseCompletion, once the rule was met

    @property
    def met(self) -> bool:
        if self.lessons_total == 0 or self.lessons_done < self.lessons_total:
            return False
        if self.require_quizzes and self.quizzes_passed < self.quizzes_total:
            return False
        return not (self.require_homework and self.homework_approved < self.homework_total)


class _Count(Subquery):
    """COUNT(*) of a queryset, as a scalar subquery of one statement."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _n)"
    output_field = IntegerField()


def course_rule(*, user, course: Course) -> CourseRule:
    """One statement: the course's published lessons, quizzes and homework, how many of each this
    member has learned, passed and had approved, and their completion if there is one."""
    published = Lesson.objects.filter(course_id=course.pk, is_published=True)
    quizzes = Quiz.objects.filter(lesson__in=published, is_published=True)
    homework = Homework.objects.filter(lesson__in=published, is_published=True)
    counts = (
        Course.objects.filter(pk=course.pk)
        .annotate(
            lessons_total=_Count(published.values("id")),
            lessons_done=_Count(
                LessonProgress.objects.filter(user_id=user.pk, completed=True, lesson__in=published).values(
                    "id"
                )
            ),
            quizzes_total=_Count(quizzes.values("id")),
            quizzes_passed=_Count(
                QuizAttempt.objects.filter(user_id=user.pk, passed=True, quiz__in=quizzes)
                .values("quiz_id")
                .distinct()
            ),
            homework_total=_Count(homework.values("id")),
            homework_approved=_Count(
                HomeworkSubmission.objects.filter(
                    user_id=user.pk, status=HomeworkSubmission.Status.APPROVED, homework__in=homework
                ).values("id")
            ),
            completion_id=Subquery(
                CourseCompletion.objects.filter(user_id=user.pk, course_id=course.pk).values("id")[:1]
            ),
        )
        .values(
            "lessons_total",
            "lessons_done",
            "quizzes_total",
            "quizzes_passed",
            "homework_total",
            "homework_approved",
            "completion_id",
        )
        .first()
    ) or dict.fromkeys(
        (
            "lessons_total",
            "lessons_done",
            "quizzes_total",
            "quizzes_passed",
            "homework_total",
            "homework_approved",
        ),
        0,
    )
    counts.setdefault("completion_id", None)
    return CourseRule(
        **counts, require_quizzes=course.require_quizzes, require_homework=course.require_homework
    )


def certificate_number(*, course: Course, user, now: datetime) -> str:
    return f"ZQK{timezone.localtime(now):%y%m}{course.pk:04d}{user.pk:07d}"


def course_completion_check(*, user, course: Course, now: datetime | None = None) -> CourseCompletion | None:
    """Write the member's completion (and certificate) the first time the rule is met; idempotent."""
    existing = CourseCompletion.objects.filter(user_id=user.pk, course_id=course.pk).first()
    if existing is not None:
        return existing
    if not course_rule(user=user, course=course).met:
        return None
    now = now or timezone.now()
    try:
        with transaction.atomic():
            done = CourseCompletion.objects.create(
                user=user,
                course=course,
                completed_at=now,
                certificate_no=certificate_number(course=course, user=user, now=now),
            )
    except IntegrityError:  # completed by a concurrent request a moment ago
        return CourseCompletion.objects.filter(user_id=user.pk, course_id=course.pk).first()
    transaction.on_commit(
        lambda: notify(
            user=user,
            kind="course_completed",
            title=_("恭喜结业：「%(course)s」") % {"course": course.title},
            body=_("你已完成课程的全部要求，结业证书已生成。"),
            url=reverse("courses:course_certificate", args=[course.pk]),
        )
    )
    return done


def course_certificate(*, user, course: Course) -> CourseCompletion | None:
    """THE rule of a course certificate (module docstring)."""
    if not is_authenticated(user):
        return None
    if not catalog_selectors.course_access(user, course).unlocked:
        return None
    return (
        CourseCompletion.objects.filter(user_id=user.pk, course_id=course.pk)
        .select_related("user", "course__teacher")
        .first()
    )


def certificate_png(*, done: CourseCompletion) -> bytes:
    """The course certificate (结业证书) as a PNG (core.posters draws it as camps' is drawn)."""
    course = done.course
    return core_posters.render_certificate(
        heading=str(_("结业证书")),
        name=done.user.display_name,
        lines=[str(_("完成了课程「%(course)s」的全部学习要求") % {"course": course.title})],
        signature=str(_("主讲老师：%(teacher)s")) % {"teacher": course.teacher.display_name},
        date=f"{timezone.localtime(done.completed_at):%Y-%m-%d}",
        number=str(_("证书编号 %(no)s")) % {"no": done.certificate_no},
    )

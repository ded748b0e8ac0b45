"""Lesson homework (课时作业): a member submits text and images, the course's teacher (or an operator)
approves it or sends it back for rework, as camp check-ins are reviewed (courses.camps.reviews).

Images go through the check-in photos' validation (`core.images.validate_images`: what Pillow finds
inside, the size and pixel limits, re-encoded without metadata), at most the homework's `max_images`.
One submission per member and homework: while it waits or once approved a second one is 409; a
returned one may be submitted again. Homework is seen only by the member and the reviewers, so it
does not pass WeChat's content check (which guards what other members see). An approval may
complete the course (courses.learning.completion).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from core.images import store_images, validate_images
from core.roles import OPERATOR, has_role
from courses.learning import completion
from courses.learning.playback import lesson_check
from courses.member_actions import notify
from courses.member_facts import is_authenticated
from courses.models import Course, Homework, HomeworkSubmission, Lesson

MAX_HOMEWORK_CHARS = 5000


def homework_for_lesson(lesson: Lesson) -> Homework | None:
    return Homework.objects.filter(lesson_id=lesson.pk, is_published=True).first()


def my_submission(*, user, homework: Homework) -> HomeworkSubmission | None:
    if not is_authenticated(user):
        return None
    return HomeworkSubmission.objects.filter(homework_id=homework.pk, user_id=user.pk).first()


def course_can_review(user, course: Course) -> bool:
    """The course's teacher, or operators."""
    if not is_authenticated(user):
        return False
    if user.is_superuser or course.teacher_id == user.pk:
        return True
    return has_role(user, OPERATOR)


def reviews_homework(user) -> bool:
    """Whether the user has a homework review queue at all (teaches a course, or operates)."""
    if not is_authenticated(user):
        return False
    if user.is_superuser or has_role(user, OPERATOR):
        return True
    return Course.objects.filter(teacher_id=user.pk).exists()


def homework_submit(*, user, lesson: Lesson, text: str, images=()) -> HomeworkSubmission:
    """Submit (or resubmit after a return) the member's homework for a lesson; nothing is stored when
    the text, the images or the state refuse it."""
    lesson_check(user, lesson)
    homework = homework_for_lesson(lesson)
    if homework is None:
        raise ApplicationError("no_homework", _("本课时没有作业"), status_code=404)
    text = (text or "").strip()
    if not text:
        raise ApplicationError("invalid", _("请写下作业内容"), fields={"text": [_("必填")]})
    if len(text) > MAX_HOMEWORK_CHARS:
        raise ApplicationError(
            "invalid", _("作业内容过长"), fields={"text": [_("最多 %(n)s 字") % {"n": MAX_HOMEWORK_CHARS}]}
        )
    checked = validate_images(images, max_count=homework.max_images)
    if homework.requires_image and not checked:
        raise ApplicationError("image_required", _("该作业需要上传图片"), fields={"images": [_("必填")]})
    existing = my_submission(user=user, homework=homework)
    if existing is not None and existing.status != HomeworkSubmission.Status.RETURNED:
        raise _already(existing)
    names = store_images(checked, folder="courses/homework")
    now = timezone.now()
    with transaction.atomic():
        locked = (
            HomeworkSubmission.objects.select_for_update(of=("self",))
            .filter(homework_id=homework.pk, user_id=user.pk)
            .first()
        )
        if locked is None:
            try:
                with transaction.atomic():
                    return HomeworkSubmission.objects.create(
                        homework=homework,
                        user=user,
                        course_id=lesson.course_id,
                        text=text,
                        images=names,
                        submitted_at=now,
                    )
            except IntegrityError:
                raise ApplicationError(
                    "homework_already_submitted", _("作业已提交，等待老师批改"), status_code=409
                ) from None
        if locked.status != HomeworkSubmission.Status.RETURNED:
            raise _already(locked)
        locked.text, locked.images, locked.submitted_at = text, names, now
        locked.status = HomeworkSubmission.Status.SUBMITTED
        locked.reviewed_by, locked.reviewed_at = None, None
        locked.save(
            update_fields=[
                "text",
                "images",
                "submitted_at",
                "status",
                "reviewed_by",
                "reviewed_at",
                "updated_at",
            ]
        )
    return locked


def _already(submission: HomeworkSubmission) -> ApplicationError:
    if submission.status == HomeworkSubmission.Status.APPROVED:
        return ApplicationError("homework_already_approved", _("作业已通过批改"), status_code=409)
    return ApplicationError("homework_already_submitted", _("作业已提交，等待老师批改"), status_code=409)


def homework_review(
    *, submission: HomeworkSubmission, reviewer, approve: bool, comment: str = ""
) -> HomeworkSubmission:
    """Approve a waiting submission or return it for rework, once; the member is told either way."""
    course = Course.objects.get(pk=submission.course_id)
    if not course_can_review(reviewer, course):
        raise ApplicationError("permission_denied", _("你不能批改该课程的作业"), status_code=403)
    comment = (comment or "").strip()
    if not approve and not comment:
        raise ApplicationError("invalid", _("退回修改时请写下原因"), fields={"comment": [_("必填")]})
    with transaction.atomic():
        locked = (
            HomeworkSubmission.objects.select_for_update(of=("self",))
            .select_related("homework__lesson", "user")
            .get(pk=submission.pk)
        )
        if locked.status != HomeworkSubmission.Status.SUBMITTED:
            raise ApplicationError("already_reviewed", _("该作业已经批改过了"), status_code=409)
        locked.status = HomeworkSubmission.Status.APPROVED if approve else HomeworkSubmission.Status.RETURNED
        locked.reviewed_by, locked.reviewed_at = reviewer, timezone.now()
        locked.review_comment = comment[:2000]
        locked.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_comment", "updated_at"])
        lesson = locked.homework.lesson
        notify(
            user=locked.user,
            kind="homework_reviewed",
            title=(_("你的作业已通过：%(lesson)s") if approve else _("你的作业被退回修改：%(lesson)s"))
            % {"lesson": lesson.title},
            body=comment[:100],
            url=reverse("courses:lesson", args=[lesson.pk]),
        )
        if approve:
            completion.course_completion_check(user=locked.user, course=course)
    return locked


def review_queue(*, user) -> QuerySet[HomeworkSubmission]:
    """Submissions waiting for review in the courses this user reviews, longest waiting first."""
    if not is_authenticated(user):
        return HomeworkSubmission.objects.none()
    queue = HomeworkSubmission.objects.filter(status=HomeworkSubmission.Status.SUBMITTED)
    if not (user.is_superuser or has_role(user, OPERATOR)):
        queue = queue.filter(Q(course__teacher_id=user.pk))
    return queue.select_related("user", "homework__lesson", "course").order_by("submitted_at", "id")

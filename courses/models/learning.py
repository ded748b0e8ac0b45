"""What a lesson asks of a member beyond watching it, and what completing a course earns: a `Quiz`
(questions, options, pass mark, retries; each `QuizAttempt` graded on the server), `Homework` (text and
images; each `HomeworkSubmission` reviewed by a teacher) and `CourseCompletion` (the certificate, issued
once the course's rule is met: courses.learning.completion).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel
from courses.models.catalog import Course, Lesson

__all__ = [
    "CourseCompletion",
    "Homework",
    "HomeworkSubmission",
    "Quiz",
    "QuizAttempt",
    "QuizOption",
    "QuizQuestion",
]


class Quiz(TimeStampedModel):
    """A lesson's quiz (课时测验), graded on the server: a question is right when exactly its correct
    options are chosen; the attempt passes at `pass_percent` of the questions right."""

    lesson = models.OneToOneField(
        Lesson, on_delete=models.CASCADE, related_name="quiz", verbose_name=_("课时")
    )
    title = models.CharField(_("测验标题"), max_length=120, blank=True, default="")
    pass_percent = models.PositiveSmallIntegerField(_("及格线（%）"), default=60)
    max_attempts = models.PositiveSmallIntegerField(
        _("最多作答次数"), null=True, blank=True, help_text=_("留空 = 不限次数")
    )
    is_published = models.BooleanField(_("已发布"), default=True)

    class Meta:
        verbose_name = _("课时测验")
        verbose_name_plural = _("课时测验")
        constraints = [
            models.CheckConstraint(
                condition=Q(pass_percent__gte=1, pass_percent__lte=100), name="quiz_pass_percent_1_100"
            ),
            models.CheckConstraint(
                condition=Q(max_attempts__isnull=True) | Q(max_attempts__gte=1), name="quiz_attempts_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.title or str(_("测验：%(lesson)s") % {"lesson": self.lesson})


class QuizQuestion(models.Model):
    class Kind(models.TextChoices):
        SINGLE = "single", _("单选")
        MULTIPLE = "multiple", _("多选")

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="questions", verbose_name=_("测验"))
    position = models.PositiveIntegerField(_("顺序"), default=0)
    text = models.TextField(_("题目"))
    kind = models.CharField(_("题型"), max_length=8, choices=Kind.choices, default=Kind.SINGLE)

    class Meta:
        verbose_name = _("测验题目")
        verbose_name_plural = _("测验题目")
        ordering = ["quiz", "position", "id"]

    def __str__(self) -> str:
        return self.text[:40]


class QuizOption(models.Model):
    question = models.ForeignKey(
        QuizQuestion, on_delete=models.CASCADE, related_name="options", verbose_name=_("题目")
    )
    position = models.PositiveIntegerField(_("顺序"), default=0)
    text = models.CharField(_("选项"), max_length=300)
    is_correct = models.BooleanField(_("正确答案"), default=False)

    class Meta:
        verbose_name = _("选项")
        verbose_name_plural = _("选项")
        ordering = ["question", "position", "id"]

    def __str__(self) -> str:
        return self.text[:40]


class QuizAttempt(models.Model):
    """One graded answer sheet. `number` counts a member's attempts at a quiz from 1: the unique
    constraint is what keeps two submissions at once from both using the last allowed attempt."""

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="attempts", verbose_name=_("测验"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="quiz_attempts",
        verbose_name=_("用户"),
    )
    number = models.PositiveSmallIntegerField(_("第几次作答"))
    answers = models.JSONField(_("作答"), default=dict, help_text=_("{题目 id: [选项 id]}"))
    correct_count = models.PositiveSmallIntegerField(_("答对题数"), default=0)
    question_count = models.PositiveSmallIntegerField(_("题目数"), default=0)
    score_percent = models.PositiveSmallIntegerField(_("得分（%）"), default=0)
    passed = models.BooleanField(_("通过"), default=False)
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("测验作答")
        verbose_name_plural = _("测验作答")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["quiz", "user", "number"], name="uniq_quiz_attempt_number")
        ]
        indexes = [models.Index(fields=["user", "quiz", "passed"], name="quiz_attempt_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.quiz_id} #{self.number}: {self.score_percent}%"


class Homework(TimeStampedModel):
    """A lesson's homework (课时作业): text and up to `max_images` images, reviewed by the course's
    teacher (or an operator) like a camp check-in."""

    lesson = models.OneToOneField(
        Lesson, on_delete=models.CASCADE, related_name="homework", verbose_name=_("课时")
    )
    prompt = models.TextField(_("作业要求"))
    max_images = models.PositiveSmallIntegerField(_("最多图片数"), default=3)
    requires_image = models.BooleanField(_("必须上传图片"), default=False)
    is_published = models.BooleanField(_("已发布"), default=True)

    class Meta:
        verbose_name = _("课时作业")
        verbose_name_plural = _("课时作业")
        constraints = [
            models.CheckConstraint(condition=Q(max_images__lte=9), name="homework_max_images_9"),
            models.CheckConstraint(
                condition=Q(requires_image=False) | Q(max_images__gte=1), name="homework_image_allowed"
            ),
        ]

    def __str__(self) -> str:
        return str(_("作业：%(lesson)s") % {"lesson": self.lesson})


class HomeworkSubmission(models.Model):
    """One member's homework for one lesson: submitted, then approved or sent back for rework (a
    returned one may be submitted again)."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("待批改")
        APPROVED = "approved", _("已通过")
        RETURNED = "returned", _("退回修改")

    homework = models.ForeignKey(
        Homework, on_delete=models.CASCADE, related_name="submissions", verbose_name=_("作业")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="homework_submissions",
        verbose_name=_("用户"),
    )
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="+", verbose_name=_("课程"))
    text = models.TextField(_("作业内容"))
    images = models.JSONField(_("图片"), default=list, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    submitted_at = models.DateTimeField(_("最近提交时间"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("批改老师"),
    )
    reviewed_at = models.DateTimeField(_("批改时间"), null=True, blank=True)
    review_comment = models.TextField(_("评语"), blank=True, default="")

    class Meta:
        verbose_name = _("作业提交")
        verbose_name_plural = _("作业提交")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["homework", "user"], name="uniq_homework_submission"),
            models.CheckConstraint(
                condition=Q(status="submitted") | Q(reviewed_at__isnull=False),
                name="homework_reviewed_has_time",
            ),
        ]
        indexes = [
            models.Index(
                fields=["submitted_at", "id"],
                name="homework_review_queue_idx",
                condition=Q(status="submitted"),
            ),
            models.Index(fields=["user", "course", "status"], name="homework_user_course_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.homework_id} ({self.status})"


class CourseCompletion(models.Model):
    """A member completed a course under its rule (结业): written once, with the certificate's number."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="course_completions",
        verbose_name=_("用户"),
    )
    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="completions", verbose_name=_("课程")
    )
    completed_at = models.DateTimeField(_("结业时间"))
    certificate_no = models.CharField(_("证书编号"), max_length=32, unique=True)

    class Meta:
        verbose_name = _("课程结业")
        verbose_name_plural = _("课程结业")
        ordering = ["-completed_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "course"], name="uniq_course_completion")]

    def __str__(self) -> str:
        return f"{self.user_id} ✓ {self.course_id} ({self.certificate_no})"

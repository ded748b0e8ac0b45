"""Courses and lessons (tier inclusion on the content side: `included_in_tiers`), `CourseEnrolment`
(one row per member and course; bought, redeemed with points, or granted) and `LessonProgress`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel
from courses.models.sources import Source

__all__ = [
    "Course",
    "CourseEnrolment",
    "Lesson",
    "LessonProgress",
]


class Course(TimeStampedModel):
    title = models.CharField(_("标题"), max_length=120)
    summary = models.CharField(_("一句话简介"), max_length=200, blank=True, default="")
    description = models.TextField(_("课程介绍"), blank=True, default="")
    cover = models.ImageField(_("封面"), upload_to="courses/covers/", blank=True)
    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="taught_courses",
        verbose_name=_("讲师"),
    )
    price_fen = models.PositiveBigIntegerField(
        _("单独购买价（分）"), default=0, help_text=_("0 = 不单独售卖（只通过会员等级获得）")
    )
    included_in_tiers = models.ManyToManyField(
        "members.MembershipTier", blank=True, related_name="courses", verbose_name=_("包含于会员等级")
    )
    is_published = models.BooleanField(_("已上架"), default=True)
    sort_order = models.IntegerField(_("排序"), default=0, help_text=_("小的在前"))
    # The completion rule (courses.learning.completion): a lesson is learned once this share of it
    # was really watched (server-side heartbeats); the course is completed, and its certificate
    # issued, once every published lesson is learned and, when required, every quiz passed and
    # every homework approved.
    complete_at_percent = models.PositiveSmallIntegerField(
        _("课时完成所需观看比例（%）"),
        default=90,
        help_text=_("音视频课时真实观看达到时长的这个比例才算学完"),
    )
    require_quizzes = models.BooleanField(
        _("结业须通过全部测验"), default=False, help_text=_("勾选后，课程内每个测验都通过才能结业领证书")
    )
    require_homework = models.BooleanField(
        _("结业须完成全部作业"),
        default=False,
        help_text=_("勾选后，课程内每份作业都经老师批改通过才能结业领证书"),
    )

    class Meta:
        verbose_name = _("课程")
        verbose_name_plural = _("课程")
        ordering = ["sort_order", "-created_at", "id"]
        indexes = [models.Index(fields=["is_published", "sort_order"], name="course_catalog_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(complete_at_percent__gte=1, complete_at_percent__lte=100),
                name="course_complete_at_percent_1_100",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def for_sale(self) -> bool:
        return self.price_fen > 0


class Lesson(TimeStampedModel):
    class Kind(models.TextChoices):
        TEXT = "text", _("图文")
        VIDEO = "video", _("视频")
        AUDIO = "audio", _("音频")

    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="lessons", verbose_name=_("课程")
    )
    title = models.CharField(_("标题"), max_length=120)
    position = models.PositiveIntegerField(_("顺序"), default=0)
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices, default=Kind.VIDEO)
    body = models.TextField(_("正文/讲义"), blank=True, default="")
    media_url = models.URLField(_("音视频地址"), max_length=500, blank=True, default="")
    # Set: the lesson plays this protected asset (signed HLS, courses.media) instead of `media_url`.
    media_asset = models.ForeignKey(
        "courses.MediaAsset",
        on_delete=models.PROTECT,
        related_name="lessons",
        verbose_name=_("加密音视频"),
        null=True,
        blank=True,
        help_text=_("上传到“加密音视频”并转码完成后，课时播放加密的 HLS 流（带水印），不再使用音视频地址"),
    )
    duration_seconds = models.PositiveIntegerField(_("时长（秒）"), default=0)
    is_preview = models.BooleanField(_("免费试看"), default=False)
    is_published = models.BooleanField(_("已发布"), default=True)
    # Drip (定时解锁): at most one of the two. Days count from the member's own start (enrolment or
    # membership), a date is the same for everyone; `courses.catalog.selectors.CourseAccess` decides.
    release_after_days = models.PositiveIntegerField(
        _("开通后第几天解锁"),
        null=True,
        blank=True,
        help_text=_("留空或 0 = 开通即可学；N = 开通后第 N 天的 0 点解锁（开通当天为第 0 天）"),
    )
    release_at = models.DateTimeField(
        _("定时解锁时间"), null=True, blank=True, help_text=_("到这个时间对所有学员解锁")
    )

    class Meta:
        verbose_name = _("课时")
        verbose_name_plural = _("课时")
        ordering = ["course", "position", "id"]
        indexes = [models.Index(fields=["course", "is_published", "position"], name="lesson_list_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind__in=["video", "audio"]) | ~Q(media_url="") | Q(media_asset__isnull=False),
                name="lesson_media_has_url",
            ),
            models.CheckConstraint(
                condition=Q(release_after_days__isnull=True) | Q(release_at__isnull=True),
                name="lesson_drip_one_rule",
                violation_error_message=_("“开通后第几天解锁”和“定时解锁时间”只能设置一个"),
            ),
            models.CheckConstraint(
                condition=Q(is_preview=False) | Q(release_after_days__isnull=True, release_at__isnull=True),
                name="lesson_preview_not_dripped",
                violation_error_message=_("免费试看的课时对所有人开放，不能设置解锁时间"),
            ),
        ]

    def __str__(self) -> str:
        return self.title


class CourseEnrolment(TimeStampedModel):
    """A member's right to a whole course that is not a tier benefit: bought, redeemed or granted.

    One row per (course, user); a refund of the order that created it revokes it (exactly once, keyed on
    `order_no`), buying again reactivates it with the new order.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("有效")
        REVOKED = "revoked", _("已收回")

    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="enrolments", verbose_name=_("课程")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="course_enrolments",
        verbose_name=_("用户"),
    )
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    order_no = models.CharField(_("订单号"), max_length=32, null=True, blank=True, unique=True)
    revoked_at = models.DateTimeField(_("收回时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("课程学员")
        verbose_name_plural = _("课程学员")
        constraints = [models.UniqueConstraint(fields=["user", "course"], name="uniq_course_enrolment")]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.course_id} ({self.status})"


class LessonProgress(models.Model):
    """Where a member is in one lesson and what the server vouches they watched. `course` is
    denormalised so completion % is one indexed count.

    `completed` is set only by courses.learning (heartbeats of the one current playback session, or a
    text lesson's reading rule), never from a client's say-so. `watched` is a bitmap of the lesson's
    seconds (bit n = second n was played in real time), `watched_seconds` its population count. The
    `playback_*` fields are the current session and its anchor: where the player was at the last
    accepted heartbeat and when; a heartbeat is credited against them (courses.learning.playback).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="lesson_progress",
        verbose_name=_("用户"),
    )
    lesson = models.ForeignKey(
        Lesson, on_delete=models.CASCADE, related_name="progress", verbose_name=_("课时")
    )
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="+", verbose_name=_("课程"))
    position_seconds = models.PositiveIntegerField(_("播放位置（秒）"), default=0)
    completed = models.BooleanField(_("已学完"), default=False)
    completed_at = models.DateTimeField(_("学完时间"), null=True, blank=True)
    watched = models.BinaryField(_("已观看秒位图"), default=b"", blank=True)
    watched_seconds = models.PositiveIntegerField(_("真实观看秒数"), default=0)
    playback_session = models.CharField(_("当前播放会话"), max_length=32, blank=True, default="")
    playback_position = models.PositiveIntegerField(_("会话锚点位置（秒）"), default=0)
    playback_at = models.DateTimeField(_("会话锚点时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("学习进度")
        verbose_name_plural = _("学习进度")
        constraints = [models.UniqueConstraint(fields=["user", "lesson"], name="uniq_lesson_progress")]
        indexes = [models.Index(fields=["user", "course"], name="progress_user_course_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.lesson_id}: {self.position_seconds}s"

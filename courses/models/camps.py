"""Training camps (训练营): `Camp` with its daily `CampTask`s, `Term`s (营期), `TermSeat` (a member's
place and score in one term), `CheckIn` (打卡 and make-up 补卡, with moderation and the teacher's review 点评)
and `CheckinReminder` (the DB-unique log that makes "at most one reminder per member, term and day" true).
"""

from __future__ import annotations

from datetime import time, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel
from courses.models.sources import Source

__all__ = [
    "Camp",
    "CampTask",
    "CheckIn",
    "CheckInModeration",
    "CheckinReminder",
    "Term",
    "TermSeat",
]


class Camp(TimeStampedModel):
    title = models.CharField(_("名称"), max_length=120)
    summary = models.CharField(_("一句话简介"), max_length=200, blank=True, default="")
    description = models.TextField(_("介绍"), blank=True, default="")
    cover = models.ImageField(_("封面"), upload_to="courses/camps/", blank=True)
    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="taught_camps",
        verbose_name=_("主讲老师"),
    )
    reviewers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="reviewed_camps", verbose_name=_("点评助教")
    )
    price_fen = models.PositiveBigIntegerField(_("报名费（分）"), default=0, help_text=_("0 = 免费参加"))
    included_in_tiers = models.ManyToManyField(
        "members.MembershipTier", blank=True, related_name="camps", verbose_name=_("包含于会员等级")
    )
    days = models.PositiveSmallIntegerField(_("天数"), default=21)
    reminder_time = models.TimeField(_("每日提醒时间"), default=time(20, 0), help_text=_("北京时间"))
    makeup_days = models.PositiveSmallIntegerField(
        _("补卡期限（天）"), default=2, help_text=_("可补最近几天的卡；0 = 不能补卡")
    )
    makeup_limit = models.PositiveSmallIntegerField(_("每期最多补卡次数"), default=3)
    points_per_checkin = models.PositiveIntegerField(_("按时打卡积分"), default=10)
    points_per_makeup = models.PositiveIntegerField(_("补卡积分"), default=5)
    points_per_review = models.PositiveIntegerField(_("作业获点评积分（×评分/5）"), default=10)
    certificate_days = models.PositiveSmallIntegerField(
        _("结营所需打卡天数"), null=True, blank=True, help_text=_("留空 = 每天都要打卡")
    )
    subscribe_template = models.CharField(
        _("提醒订阅消息模板键"), max_length=64, blank=True, default="checkin_reminder"
    )
    is_published = models.BooleanField(_("已上架"), default=True)

    class Meta:
        verbose_name = _("训练营")
        verbose_name_plural = _("训练营")
        ordering = ["-created_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(days__gt=0), name="camp_days_positive")]

    def __str__(self) -> str:
        return self.title


class CampTask(models.Model):
    """The task of day N of a camp; every term of the camp unlocks it on its own day N (Asia/Shanghai)."""

    camp = models.ForeignKey(Camp, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("训练营"))
    day = models.PositiveSmallIntegerField(_("第几天"))
    title = models.CharField(_("任务"), max_length=120)
    body = models.TextField(_("任务说明"), blank=True, default="")
    requires_image = models.BooleanField(_("必须上传图片"), default=False)

    class Meta:
        verbose_name = _("每日任务")
        verbose_name_plural = _("每日任务")
        ordering = ["camp", "day"]
        constraints = [
            models.UniqueConstraint(fields=["camp", "day"], name="uniq_camp_task_day"),
            models.CheckConstraint(condition=Q(day__gte=1), name="camp_task_day_positive"),
        ]

    def __str__(self) -> str:
        return f"D{self.day} {self.title}"


class Term(TimeStampedModel):
    """One run (营期) of a camp: day 1 is `start_date`, the last day is `end_date` (both Asia/Shanghai)."""

    camp = models.ForeignKey(Camp, on_delete=models.CASCADE, related_name="terms", verbose_name=_("训练营"))
    name = models.CharField(_("营期名称"), max_length=64)
    start_date = models.DateField(_("开营日期"))
    days = models.PositiveSmallIntegerField(_("天数"))
    # Derived from start_date + days (stored so the reminder sweep compares dates without arithmetic).
    end_date = models.DateField(_("结营日期"), editable=False)
    capacity = models.PositiveIntegerField(_("名额"), null=True, blank=True, help_text=_("留空 = 不限"))
    is_published = models.BooleanField(_("已发布"), default=True)

    class Meta:
        verbose_name = _("营期")
        verbose_name_plural = _("营期")
        ordering = ["camp", "-start_date", "id"]
        indexes = [models.Index(fields=["start_date", "end_date"], name="term_running_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(days__gt=0), name="term_days_positive"),
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")), name="term_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.camp} · {self.name}"

    def save(self, *args, **kwargs):
        self.end_date = self.start_date + timedelta(days=self.days - 1)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and ("start_date" in update_fields or "days" in update_fields):
            kwargs["update_fields"] = {*update_fields, "end_date"}
        super().save(*args, **kwargs)

    def date_of_day(self, day: int):
        return self.start_date + timedelta(days=day - 1)

    def day_number(self, on_date) -> int:
        """1 on the start date; may be ≤ 0 before it or > days after the end."""
        return (on_date - self.start_date).days + 1


class TermSeat(TimeStampedModel):
    """A member's place in one term and their score there (kept exact by the check-in services)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("在营")
        REVOKED = "revoked", _("已退出/退款")

    term = models.ForeignKey(Term, on_delete=models.CASCADE, related_name="seats", verbose_name=_("期次"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="camp_seats", verbose_name=_("用户")
    )
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    order_no = models.CharField(_("订单号"), max_length=32, null=True, blank=True, unique=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    points = models.PositiveIntegerField(_("本期积分"), default=0)
    checkin_days = models.PositiveSmallIntegerField(_("打卡天数"), default=0)
    streak = models.PositiveSmallIntegerField(_("连续打卡（截至最后一天）"), default=0)
    streak_last_day = models.DateField(_("连续打卡最后一天"), null=True, blank=True)
    best_streak = models.PositiveSmallIntegerField(_("最长连续打卡"), default=0)
    makeups_used = models.PositiveSmallIntegerField(_("已补卡次数"), default=0)
    completed_at = models.DateTimeField(_("结营时间"), null=True, blank=True)
    certificate_no = models.CharField(_("证书编号"), max_length=32, null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("营期学员")
        verbose_name_plural = _("营期学员")
        constraints = [models.UniqueConstraint(fields=["term", "user"], name="uniq_term_seat")]
        indexes = [
            models.Index(fields=["term", "status"], name="seat_term_status_idx"),
            models.Index(
                fields=["term", "-points", "-checkin_days", "-best_streak", "id"],
                name="seat_leaderboard_idx",
                condition=Q(status="active"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.term_id}"

    def current_streak(self, today) -> int:
        """The streak still alive today: it ends today, or yesterday (today's task may still be done)."""
        if self.streak_last_day is None or (today - self.streak_last_day).days > 1:
            return 0
        return self.streak


class CheckIn(models.Model):
    """One member's work for one day's task. Visible, held for moderation, or rejected."""

    class Status(models.TextChoices):
        VISIBLE = "visible", _("已发布")
        REVIEW = "review", _("待审核")
        REJECTED = "rejected", _("未通过")

    seat = models.ForeignKey(
        TermSeat, on_delete=models.CASCADE, related_name="checkins", verbose_name=_("学员名额")
    )
    term = models.ForeignKey(Term, on_delete=models.CASCADE, related_name="checkins", verbose_name=_("期次"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="camp_checkins",
        verbose_name=_("用户"),
    )
    task = models.ForeignKey(
        CampTask, on_delete=models.PROTECT, related_name="checkins", verbose_name=_("打卡任务")
    )
    day = models.DateField(_("打卡日期"))
    text = models.TextField(_("打卡内容"))
    images = models.JSONField(_("图片"), default=list, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.VISIBLE)
    is_makeup = models.BooleanField(_("补卡"), default=False)
    points_awarded = models.PositiveIntegerField(_("打卡积分"), default=0)
    moderation_note = models.CharField(_("审核说明"), max_length=200, blank=True, default="")
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("点评老师"),
    )
    reviewed_at = models.DateTimeField(_("点评时间"), null=True, blank=True)
    review_comment = models.TextField(_("点评"), blank=True, default="")
    review_score = models.PositiveSmallIntegerField(_("评分（1-5）"), null=True, blank=True)
    review_points = models.PositiveIntegerField(_("点评积分"), default=0)

    class Meta:
        verbose_name = _("打卡")
        verbose_name_plural = _("打卡")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["seat", "day"], name="uniq_checkin_seat_day"),
            models.UniqueConstraint(fields=["seat", "task"], name="uniq_checkin_seat_task"),
            models.CheckConstraint(
                condition=Q(review_score__isnull=True) | Q(review_score__gte=1, review_score__lte=5),
                name="checkin_review_score_1_5",
            ),
            models.CheckConstraint(
                condition=Q(reviewed_at__isnull=True) | Q(status="visible"),
                name="checkin_reviewed_is_visible",
            ),
        ]
        indexes = [
            models.Index(
                fields=["created_at", "id"],
                name="checkin_review_queue_idx",
                condition=Q(status="visible", reviewed_at__isnull=True),
            ),
            models.Index(fields=["term", "status", "-created_at"], name="checkin_term_feed_idx"),
            models.Index(fields=["status", "created_at"], name="checkin_moderation_idx"),
            # The reminder sweep reads today's check-ins of every running term.
            models.Index(fields=["day", "seat"], name="checkin_day_seat_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.day} ({self.status})"

    @property
    def waited(self) -> timedelta | None:
        return (self.reviewed_at - self.created_at) if self.reviewed_at else None


class CheckinReminder(models.Model):
    """One reminder claimed for (member, term, day) by a sweep worker, and how it went out.

    The unique constraint is the at-most-once guarantee: claiming is INSERT … ON CONFLICT DO NOTHING.
    """

    class Channel(models.TextChoices):
        PENDING = "", _("待发送")
        SUBSCRIBE = "subscribe", _("订阅消息")
        INSITE = "insite", _("站内通知")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("用户")
    )
    term = models.ForeignKey(Term, on_delete=models.CASCADE, related_name="reminders", verbose_name=_("期次"))
    seat = models.ForeignKey(
        TermSeat, on_delete=models.CASCADE, related_name="reminders", verbose_name=_("学员名额")
    )
    day = models.DateField(_("日期"))
    channel = models.CharField(_("提醒渠道"), max_length=16, choices=Channel.choices, blank=True, default="")
    notification_id = models.BigIntegerField(_("通知编号"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"))
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("打卡提醒")
        verbose_name_plural = _("打卡提醒")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["term", "day", "user"], name="uniq_checkin_reminder_day")
        ]
        # The sweep excludes the seats already reminded today.
        indexes = [models.Index(fields=["day", "seat"], name="reminder_day_seat_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.term_id} {self.day}"


class CheckInModeration(CheckIn):
    """Check-ins held by the content check: the operators' moderation queue in admin."""

    class Meta:
        proxy = True
        verbose_name = _("待审核打卡")
        verbose_name_plural = _("待审核打卡（内容安全）")

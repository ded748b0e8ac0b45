"""Circles: the operators' settings for every circle, a circle (price, period or window, renewal
bands, trial, Q&A), and its versioned rules (社群公约) with each member's acceptance.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel

__all__ = [
    "CircleSettings",
    "Circle",
    "CircleRules",
    "RulesAcceptance",
]


class CircleSettings(models.Model):
    """Operator settings for every circle (a single row, pk=1): tip limits and platform fees."""

    tip_min_fen = models.PositiveBigIntegerField(_("打赏最低金额（分）"), default=100)
    tip_max_fen = models.PositiveBigIntegerField(_("打赏最高金额（分）"), default=50_000)
    tip_presets = models.CharField(_("打赏预设金额（元，逗号分隔）"), max_length=100, default="1,5,10,50,100")
    tip_platform_fee_bp = models.PositiveIntegerField(
        _("打赏平台服务费（基点）"), default=1000, help_text=_("1000 = 10%；向下取整，余数归平台")
    )
    qa_platform_fee_bp = models.PositiveIntegerField(_("付费问答平台服务费（基点）"), default=1000)
    expiring_soon_days = models.PositiveIntegerField(_("即将到期提醒天数"), default=30)

    class Meta:
        verbose_name = _("圈子设置")
        verbose_name_plural = _("圈子设置")
        constraints = [
            models.CheckConstraint(
                condition=Q(tip_platform_fee_bp__lte=10000) & Q(qa_platform_fee_bp__lte=10000),
                name="circle_settings_fees_at_most_100pct",
            ),
            models.CheckConstraint(
                condition=Q(tip_min_fen__lte=models.F("tip_max_fen")), name="tip_min_le_max"
            ),
        ]

    def __str__(self) -> str:
        return str(_("圈子设置"))

    @classmethod
    def current(cls) -> CircleSettings:
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj

    @property
    def preset_fen(self) -> list[int]:
        values = []
        for part in self.tip_presets.replace("，", ",").split(","):
            part = part.strip()
            if part.isdigit():
                values.append(int(part) * 100)
        return [v for v in values if self.tip_min_fen <= v <= self.tip_max_fen]


class Circle(TimeStampedModel):
    class PricingMode(models.TextChoices):
        DURATION = "duration", _("固定时长（自加入起）")
        WINDOW = "window", _("固定周期（日历区间）")

    class LateJoin(models.TextChoices):
        FULL = "full", _("晚加入按全价")
        PRORATED = "prorated", _("晚加入按剩余天数折算")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_circles",
        verbose_name=_("圈主"),
    )
    name = models.CharField(_("名称"), max_length=80)
    intro = models.TextField(_("简介"), blank=True, default="")
    cover = models.ImageField(_("封面"), upload_to="circles/covers/", blank=True)
    is_published = models.BooleanField(_("已上架"), default=True)
    pricing_mode = models.CharField(
        _("定价方式"), max_length=16, choices=PricingMode.choices, default=PricingMode.DURATION
    )
    price_fen = models.PositiveBigIntegerField(_("价格（分）"), default=0)
    duration_days = models.PositiveIntegerField(_("有效天数"), default=365)
    window_starts_at = models.DateTimeField(_("周期开始"), null=True, blank=True)
    window_ends_at = models.DateTimeField(_("周期结束"), null=True, blank=True)
    late_join = models.CharField(
        _("晚加入定价"), max_length=16, choices=LateJoin.choices, default=LateJoin.FULL
    )
    renew_early_bp = models.PositiveIntegerField(
        _("提前续费价（基点）"), default=8000, help_text=_("距到期超过续费窗口时续费：基础价 × 比例")
    )
    renew_window_bp = models.PositiveIntegerField(_("到期前续费价（基点）"), default=9000)
    renew_late_bp = models.PositiveIntegerField(
        _("过期后续费价（基点）"), default=10000, help_text=_("10000 = 原价；续费价不高于原价")
    )
    renew_window_days = models.PositiveIntegerField(_("续费窗口（到期前天数）"), default=30)
    trial_days = models.PositiveIntegerField(_("免费试用天数"), default=0)
    included_in_tiers = models.ManyToManyField(
        "members.MembershipTier", blank=True, related_name="circles", verbose_name=_("包含于会员等级")
    )
    qa_enabled = models.BooleanField(_("开启付费问答"), default=True)
    qa_price_fen = models.PositiveBigIntegerField(_("提问价格（分）"), default=990)
    qa_answer_days = models.PositiveIntegerField(_("嘉宾回答期限（天）"), default=3)
    rules_version = models.PositiveIntegerField(_("当前公约版本"), default=0)
    # Counters kept exact with F() updates (see services).
    visible_post_count = models.PositiveIntegerField(_("帖子数"), default=0, editable=False)
    featured_post_count = models.PositiveIntegerField(_("精华帖数"), default=0, editable=False)

    class Meta:
        verbose_name = _("圈子")
        verbose_name_plural = _("圈子")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(renew_early_bp__lte=10000)
                & Q(renew_window_bp__lte=10000)
                & Q(renew_late_bp__lte=10000),
                name="circle_renew_bands_sane",
            ),
            models.CheckConstraint(
                condition=~Q(pricing_mode="window")
                | (
                    Q(window_starts_at__isnull=False)
                    & Q(window_ends_at__isnull=False)
                    & Q(window_ends_at__gt=models.F("window_starts_at"))
                ),
                name="circle_window_complete",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CircleRules(models.Model):
    """One version of a circle's rules (社群公约). Versions only grow; members re-accept on change."""

    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="rules", verbose_name=_("圈子"))
    version = models.PositiveIntegerField(_("版本"))
    body = models.TextField(_("公约内容"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("发布人"),
    )
    created_at = models.DateTimeField(_("发布时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("社群公约")
        verbose_name_plural = _("社群公约")
        ordering = ["circle", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["circle", "version"], name="uniq_circle_rules_version")
        ]

    def __str__(self) -> str:
        return f"{self.circle} v{self.version}"


class RulesAcceptance(models.Model):
    """A user accepted one rules version of one circle (every acceptance is kept)."""

    circle = models.ForeignKey(
        Circle, on_delete=models.CASCADE, related_name="rules_acceptances", verbose_name=_("圈子")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("用户")
    )
    version = models.PositiveIntegerField(_("公约版本"))
    accepted_at = models.DateTimeField(_("同意时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("公约确认")
        verbose_name_plural = _("公约确认")
        constraints = [
            models.UniqueConstraint(fields=["circle", "user", "version"], name="uniq_rules_acceptance")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} accepted {self.circle_id} v{self.version}"

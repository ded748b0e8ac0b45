"""referrals: who brought whom — bindings, refused bindings, and the per-channel link counters.

Compliance in the schema: a binding never points at oneself (CHECK) and a user has at most one open
binding (partial UNIQUE). A binding creates no reward: commission is paid on real sales only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = [
    "BindingRefusal",
    "LinkChannel",
    "ReferralBinding",
    "ReferralLinkStat",
]


class ReferralBinding(models.Model):
    """`user` was brought by `referrer`. One active binding per user; history is kept (ended rows)."""

    class Source(models.TextChoices):
        SIGNUP = "signup", _("注册时")
        PURCHASE = "purchase", _("首次购买时")
        OPERATOR = "operator", _("运营调整")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="referral_bindings",
        verbose_name=_("被推荐人"),
    )
    referrer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="referred_bindings",
        verbose_name=_("推荐人"),
    )
    code = models.CharField(_("使用的推荐码"), max_length=16, blank=True, default="")
    channel = models.CharField(_("渠道"), max_length=20, blank=True, default="")
    source = models.CharField(_("绑定方式"), max_length=16, choices=Source.choices)
    bound_at = models.DateTimeField(_("绑定时间"), default=timezone.now, db_index=True)
    expires_at = models.DateTimeField(_("有效期至"), null=True, blank=True, help_text=_("空 = 永久"))
    protected_until = models.DateTimeField(_("保护期至"))
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    end_reason = models.CharField(_("结束原因"), max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("推荐关系")
        verbose_name_plural = _("推荐关系")
        ordering = ["-bound_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(user=F("referrer")), name="binding_not_self"),
            models.UniqueConstraint(
                fields=["user"], condition=Q(ended_at__isnull=True), name="one_open_binding_per_user"
            ),
        ]
        indexes = [models.Index(fields=["referrer", "ended_at"])]

    def __str__(self) -> str:
        return f"{self.referrer_id} → {self.user_id}"

    def is_active(self, now=None) -> bool:
        now = now or timezone.now()
        return self.ended_at is None and (self.expires_at is None or self.expires_at > now)

    def is_protected(self, now=None) -> bool:
        return self.is_active(now) and (now or timezone.now()) < self.protected_until


class BindingRefusal(models.Model):
    """A binding that was refused (self, cycle, same WeChat/phone…): evidence for operators."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("用户")
    )
    referrer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("推荐人"),
    )
    code = models.CharField(_("推荐码"), max_length=64, blank=True, default="")
    reason = models.CharField(_("原因"), max_length=32, db_index=True)
    context = models.CharField(_("场景"), max_length=16, blank=True, default="")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("被拒绝的绑定")
        verbose_name_plural = _("被拒绝的绑定")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user_id} ← {self.code}: {self.reason}"


class LinkChannel(models.TextChoices):
    LINK = "link", _("分享链接")
    POSTER = "poster", _("海报")
    MOMENTS = "moments", _("朋友圈")
    CHAT = "chat", _("微信聊天")
    MINIPROGRAM = "miniprogram", _("小程序")
    GROUP_BUY = "group_buy", _("拼团")
    OTHER = "other", _("其他")


class ReferralLinkStat(models.Model):
    """Visits and sign-ups that came through one promoter's link, per channel."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="link_stats",
        verbose_name=_("推广员"),
    )
    channel = models.CharField(_("渠道"), max_length=20, choices=LinkChannel.choices)
    visits = models.PositiveIntegerField(_("访问"), default=0)
    signups = models.PositiveIntegerField(_("注册"), default=0)
    last_visit_at = models.DateTimeField(_("最近访问"), null=True, blank=True)

    class Meta:
        verbose_name = _("推广链接统计")
        verbose_name_plural = _("推广链接统计")
        constraints = [models.UniqueConstraint(fields=["user", "channel"], name="uniq_link_stat_channel")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.channel} {self.visits}/{self.signups}"

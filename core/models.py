"""Shared primitives: the timestamped base model and WeChat identities.

WeChat identities live here (not in members) because payments needs the payer's openid and
members creates identities at login; both sit above core.
"""

from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from core import brand
from core.crypto import EncryptedTextField


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True


class WeChatIdentity(TimeStampedModel):
    """One (appid, openid) pair: a person as seen by one WeChat app (mini-program, 公众号, website).

    The unionid links the same person across apps bound to one Open Platform account.
    """

    class Kind(models.TextChoices):
        MINIPROGRAM = "miniprogram", _("小程序")
        OFFICIAL_ACCOUNT = "mp", _("公众号")
        WEBSITE = "web", _("网站扫码")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="wechat_identities",
        verbose_name=_("用户"),
    )
    kind = models.CharField(_("身份类型"), max_length=16, choices=Kind.choices)
    appid = models.CharField(_("AppID（应用）"), max_length=64)
    openid = models.CharField(_("微信 OpenID"), max_length=128)
    unionid = models.CharField(_("微信 UnionID"), max_length=128, blank=True, default="", db_index=True)
    # Never sent to any client: it signs data the mini-program decrypts on our side only.
    session_key = EncryptedTextField(_("会话密钥"), blank=True, default="")

    class Meta:
        verbose_name = _("微信身份")
        verbose_name_plural = _("微信身份")
        constraints = [
            models.UniqueConstraint(fields=["appid", "openid"], name="uniq_wechat_identity_app_openid")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.openid[:6]}…"


class AuditLog(models.Model):
    """Who did what to money or memberships, from admin or any operator tool. Append-only."""

    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("操作人"),
    )
    action = models.CharField(_("操作"), max_length=64, db_index=True)
    target_type = models.CharField(_("对象类型"), max_length=64)
    target_id = models.CharField(_("对象编号"), max_length=64)
    summary = models.CharField(_("摘要"), max_length=255, blank=True, default="")
    details = models.JSONField(_("详情"), default=dict, blank=True)

    class Meta:
        verbose_name = _("操作日志")
        verbose_name_plural = _("操作日志")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.target_type}#{self.target_id}"


class AttemptCounter(models.Model):
    """How many times something happened per key and fixed time window: failed logins per account and
    per address (core/lockout.py), rejected WeChat Pay notifications per minute (core/rejects.py).

    In PostgreSQL, not Redis, so the limits on guessing hold while Redis is down, and operators can see
    the counts in admin. Old windows are worthless after a day; `core.rejects.prune` deletes them."""

    key = models.CharField(_("键"), max_length=128)
    window_start = models.DateTimeField(_("时间窗口"))
    count = models.PositiveIntegerField(_("次数"), default=0)

    class Meta:
        verbose_name = _("尝试计数")
        verbose_name_plural = _("尝试计数")
        ordering = ["-window_start"]
        constraints = [
            models.UniqueConstraint(fields=["key", "window_start"], name="uniq_attempt_counter_key_window")
        ]

    def __str__(self) -> str:
        return f"{self.key} @ {self.window_start:%Y-%m-%d %H:%M}: {self.count}"


_hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("请填写 #RRGGBB 形式的颜色，例如 #1aad19"))


class Brand(models.Model):
    """The creator's brand: one row (pk 1) that every page, e-mail, notification and poster reads
    through `core.brand.current()` (cached). Without a row the defaults below apply — "知圈" is only
    the default name."""

    site_name = models.CharField(_("站点名称"), max_length=40, default="知圈")
    short_name = models.CharField(
        _("简称"), max_length=12, default="知圈", help_text=_("页头、海报角标和网站图标用，建议 2–4 个字")
    )
    tagline = models.CharField(_("一句话介绍"), max_length=80, default="知识付费会员社群")
    description = models.TextField(
        _("社群介绍"),
        blank=True,
        default="一次开通，课程、线下课、训练营和付费圈子全部解锁。",
        help_text=_("首页给访客看的介绍：这是什么社群、能得到什么"),
    )
    logo = models.ImageField(_("标志图片"), upload_to="brand/", blank=True)
    poster_background = models.ImageField(
        _("海报背景图"),
        upload_to="brand/",
        blank=True,
        help_text=_("分享海报顶部的背景图，建议 750×400 像素；会叠加一层主色以保证文字清晰。留空则用主色"),
    )
    primary_color = models.CharField(_("主色"), max_length=7, default="#1aad19", validators=[_hex_colour])
    accent_color = models.CharField(_("强调色"), max_length=7, default="#d93026", validators=[_hex_colour])
    share_title = models.CharField(
        _("分享标题"),
        max_length=60,
        blank=True,
        default="",
        help_text=_("海报和分享链接的标题；留空则用站点名称与一句话介绍"),
    )
    footer_text = models.CharField(_("页脚文字"), max_length=120, blank=True, default="")
    terms_url = models.CharField(_("用户协议链接"), max_length=200, blank=True, default="")
    privacy_url = models.CharField(_("隐私政策链接"), max_length=200, blank=True, default="")
    icp_text = models.CharField(
        _("备案号"), max_length=60, blank=True, default="", help_text=_("例如 沪ICP备00000000号")
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("品牌设置")
        verbose_name_plural = _("品牌设置")

    def __str__(self) -> str:
        return self.site_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.pk = 1  # a singleton
        super().save(*args, **kwargs)
        brand.forget()

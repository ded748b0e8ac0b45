"""In-site notifications, the WeChat subscribe-message templates and each member's opt-ins."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel
from members.models.users import User

__all__ = ["Notification", "SubscribeOptIn", "SubscribeTemplate"]


class SubscribeTemplate(TimeStampedModel):
    """A WeChat subscribe-message template the operator configured in the mini-program console.

    Code refers to templates by `key` (e.g. "renewal_reminder"); the operator pastes WeChat's
    template id. A key without an active row with a template id means "in-site only".
    """

    key = models.SlugField(_("代码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    template_id = models.CharField(_("微信模板ID"), max_length=128, blank=True, default="")
    page = models.CharField(
        _("点击跳转的小程序页面"), max_length=200, blank=True, default="", help_text=_("如 pages/index/index")
    )
    # The template's keyword fields in order (e.g. "thing1,time2"); plain strings sent by callers
    # are mapped onto them in this order.
    fields = models.CharField(_("模板字段"), max_length=200, blank=True, default="")
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("订阅消息模板")
        verbose_name_plural = _("订阅消息模板")
        ordering = ["key"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"

    @property
    def field_names(self) -> list[str]:
        return [name.strip() for name in self.fields.split(",") if name.strip()]


class SubscribeOptIn(models.Model):
    """How many more subscribe messages of one template a member accepted (one per accepted prompt)."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="subscribe_optins", verbose_name=_("用户")
    )
    template_key = models.SlugField(_("消息模板"), max_length=64)
    remaining = models.PositiveIntegerField(_("剩余次数"), default=0)
    accepted_total = models.PositiveIntegerField(_("累计同意"), default=0)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("订阅授权次数")
        verbose_name_plural = _("订阅授权次数")
        constraints = [
            models.UniqueConstraint(fields=["user", "template_key"], name="uniq_optin_user_template"),
            models.CheckConstraint(condition=models.Q(remaining__gte=0), name="optin_remaining_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.template_key}={self.remaining}"


class Notification(models.Model):
    """An in-site notification; optionally mirrored as one WeChat subscribe message."""

    class Push(models.TextChoices):
        NONE = "", _("仅站内")
        QUEUED = "queued", _("待推送")
        SENDING = "sending", _("推送中")
        SENT = "sent", _("已推送")
        FAILED = "failed", _("推送失败")
        SKIPPED = "skipped", _("无订阅次数，仅站内")

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("用户")
    )
    kind = models.CharField(_("类型"), max_length=40, db_index=True)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True, default="")
    url = models.CharField(_("链接"), max_length=500, blank=True, default="")
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    subscribe_template = models.SlugField(_("订阅消息模板"), max_length=64, blank=True, default="")
    subscribe_data = models.JSONField(_("订阅消息内容"), default=dict, blank=True)
    push_status = models.CharField(
        _("订阅消息"), max_length=16, choices=Push.choices, blank=True, default=Push.NONE, db_index=True
    )
    push_error = models.CharField(_("推送错误"), max_length=255, blank=True, default="")
    pushed_at = models.DateTimeField(_("推送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            models.Index(
                fields=["user"], condition=models.Q(read_at__isnull=True), name="notification_unread_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: {self.title}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

"""Campaigns (群发活动): one message sent to a segment's members through in-site notifications, WeChat
subscribe messages and SMS, once per member (`CampaignDelivery`, unique per campaign and member), and
each member's marketing preferences (SMS consent, unsubscribe) that every campaign honours."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from growth.models.segments import Segment

__all__ = ["Campaign", "CampaignDelivery", "ChannelStatus", "MarketingPreference"]


class Campaign(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SCHEDULED = "scheduled", _("已安排")
        SENDING = "sending", _("发送中")
        DONE = "done", _("已完成")
        CANCELLED = "cancelled", _("已取消")

    name = models.CharField(_("活动名称"), max_length=64)
    segment = models.ForeignKey(
        Segment, verbose_name=_("发送人群"), on_delete=models.PROTECT, related_name="campaigns"
    )
    title = models.CharField(_("消息标题"), max_length=60)
    body = models.TextField(_("消息内容"), max_length=1000)
    link = models.CharField(
        _("点击跳转"), max_length=300, blank=True, default="", help_text=_("站内路径，如 /membership/VIP/")
    )
    send_insite = models.BooleanField(_("站内通知"), default=True)
    send_subscribe = models.BooleanField(
        _("微信订阅消息"), default=False, help_text=_("随站内通知发出，只发给该模板还有订阅次数的会员")
    )
    subscribe_template = models.SlugField(_("订阅消息模板"), max_length=64, blank=True, default="")
    send_sms = models.BooleanField(_("短信"), default=False, help_text=_("只发给同意接收营销短信的会员"))
    sms_text = models.CharField(
        _("短信内容"), max_length=200, blank=True, default="", help_text=_("留空则用消息标题")
    )
    coupon = models.ForeignKey(
        "growth.Coupon",
        verbose_name=_("随消息发放的优惠券"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("送达时发给每位收件人一张（同一活动每人最多一张）；消息未填跳转时打开“我的优惠券”"),
    )
    scheduled_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    rate_per_minute = models.PositiveIntegerField(_("每分钟最多发送"), default=600)
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, default=State.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("创建人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("安排人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    started_at = models.DateTimeField(_("开始发送"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    recipients = models.PositiveIntegerField(_("收件人数"), default=0)

    class Meta:
        verbose_name = _("群发活动")
        verbose_name_plural = _("群发活动")
        ordering = ["-created_at", "-id"]
        permissions = [("send_campaign", _("可以安排发送群发活动"))]
        constraints = [
            models.CheckConstraint(condition=Q(rate_per_minute__gte=1), name="campaign_rate_positive"),
            models.CheckConstraint(
                condition=Q(send_insite=True) | Q(send_sms=True), name="campaign_has_a_channel"
            ),
            # A scheduled or later campaign records who scheduled it and when it goes.
            models.CheckConstraint(
                condition=Q(state__in=["draft", "cancelled"])
                | Q(scheduled_by__isnull=False, scheduled_at__isnull=False),
                name="campaign_scheduled_by_someone",
            ),
        ]
        indexes = [
            models.Index(
                fields=["scheduled_at"],
                name="campaign_due_idx",
                condition=Q(state__in=["scheduled", "sending"]),
            )
        ]

    def __str__(self) -> str:
        return self.name


class ChannelStatus(models.TextChoices):
    NONE = "", _("不发送")
    QUEUED = "queued", _("排队推送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    NO_OPTIN = "no_optin", _("跳过：无订阅次数")
    NO_CONSENT = "no_consent", _("跳过：未同意营销短信")
    NO_PHONE = "no_phone", _("跳过：无手机号")
    FAILED = "failed", _("失败")


class CampaignDelivery(models.Model):
    """One member of a campaign's audience, snapshot when sending starts. The unique (campaign, member)
    row is what makes a member get a campaign at most once, however often or wherever the job runs."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        DONE = "done", _("已处理")
        UNSUBSCRIBED = "unsubscribed", _("跳过：已退订")

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("群发活动"), on_delete=models.CASCADE, related_name="deliveries"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("会员"), on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.PENDING)
    claimed_at = models.DateTimeField(_("领取时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    notification = models.ForeignKey(
        "members.Notification",
        verbose_name=_("站内通知"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    insite_status = models.CharField(
        _("站内通知"), max_length=16, choices=ChannelStatus.choices, blank=True, default=ChannelStatus.NONE
    )
    subscribe_status = models.CharField(
        _("订阅消息"), max_length=16, choices=ChannelStatus.choices, blank=True, default=ChannelStatus.NONE
    )
    sms_status = models.CharField(
        _("短信"), max_length=16, choices=ChannelStatus.choices, blank=True, default=ChannelStatus.NONE
    )
    error = models.CharField(_("错误"), max_length=255, blank=True, default="")

    class Meta:
        verbose_name = _("群发记录")
        verbose_name_plural = _("群发记录")
        ordering = ["campaign_id", "id"]
        constraints = [models.UniqueConstraint(fields=["campaign", "user"], name="campaign_delivery_once")]
        indexes = [
            models.Index(fields=["campaign", "status"], name="delivery_campaign_status"),
            models.Index(fields=["user", "delivered_at"], name="delivery_user_delivered"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} → {self.user_id}"


class MarketingPreference(models.Model):
    """What a member allows of marketing: SMS (off until they tick it) and marketing messages at all
    (unsubscribe). Each change keeps its time; no row means the defaults (no SMS, subscribed)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("会员"),
        on_delete=models.CASCADE,
        related_name="marketing_preference",
    )
    sms_consent = models.BooleanField(_("同意接收营销短信"), default=False)
    sms_consent_changed_at = models.DateTimeField(_("短信同意变更时间"), null=True, blank=True)
    unsubscribed = models.BooleanField(_("已退订营销消息"), default=False)
    unsubscribed_changed_at = models.DateTimeField(_("退订变更时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("营销消息设置")
        verbose_name_plural = _("营销消息设置")

    def __str__(self) -> str:
        return str(self.user)

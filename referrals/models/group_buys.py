"""referrals: group buying (拼团) — offers, groups and the places (seats) members hold in them.

A group's status moves only through `referrals.group_buys.group_buy_transition` (one table of legal
moves, `GROUP_BUY_TRANSITIONS`).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = [
    "GroupBuy",
    "GroupBuyMember",
    "GroupBuyOffer",
]


class GroupBuyOffer(models.Model):
    """An operator's group-buy offer: an item at a group price when `group_size` people pay in time."""

    item_type = models.CharField(_("商品类型"), max_length=32)
    item_id = models.CharField(_("商品ID"), max_length=64)
    title = models.CharField(_("标题"), max_length=100)
    description = models.TextField(_("说明"), blank=True, default="")
    group_size = models.PositiveSmallIntegerField(_("成团人数"))
    group_price_fen = models.PositiveBigIntegerField(_("拼团价（分）"))
    time_limit_hours = models.PositiveIntegerField(_("成团时限（小时）"), default=24)
    starts_at = models.DateTimeField(_("开始时间"), default=timezone.now)
    ends_at = models.DateTimeField(_("结束时间"), null=True, blank=True, help_text=_("空 = 长期"))
    is_active = models.BooleanField(_("上架"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("拼团活动")
        verbose_name_plural = _("拼团活动")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(group_size__gte=2) & Q(group_size__lte=100), name="group_size_2_to_100"
            ),
            models.CheckConstraint(condition=Q(group_price_fen__gt=0), name="group_price_positive"),
            models.CheckConstraint(condition=Q(time_limit_hours__gte=1), name="group_time_limit_positive"),
            models.CheckConstraint(condition=~Q(item_type="group_buy"), name="group_offer_not_nested"),
        ]

    def __str__(self) -> str:
        return self.title

    def is_open_for_new_groups(self, now=None) -> bool:
        now = now or timezone.now()
        return self.is_active and self.starts_at <= now and (self.ends_at is None or now < self.ends_at)

    @property
    def time_limit(self) -> timedelta:
        return timedelta(hours=self.time_limit_hours)


class GroupBuy(models.Model):
    """One group opened by an initiator. Forming → succeeded (N paid) or expired (everyone refunded)."""

    class Status(models.TextChoices):
        AWAITING_INITIATOR = "awaiting", _("待团长付款")
        FORMING = "forming", _("拼团中")
        SUCCEEDED = "succeeded", _("拼团成功")
        EXPIRED = "expired", _("未成团（已退款）")
        CANCELLED = "cancelled", _("已取消（团长未付款）")

    offer = models.ForeignKey(
        GroupBuyOffer, on_delete=models.PROTECT, related_name="groups", verbose_name=_("拼团活动")
    )
    initiator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="group_buys_started",
        verbose_name=_("团长"),
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.AWAITING_INITIATOR, db_index=True
    )
    size = models.PositiveSmallIntegerField(_("成团人数"))
    price_fen = models.PositiveBigIntegerField(_("拼团价（分）"))
    paid_count = models.PositiveSmallIntegerField(_("已付款人数"), default=0)
    opened_at = models.DateTimeField(_("开团时间"), null=True, blank=True)
    expires_at = models.DateTimeField(_("截止时间"), null=True, blank=True, db_index=True)
    succeeded_at = models.DateTimeField(_("成团时间"), null=True, blank=True)
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("拼团")
        verbose_name_plural = _("拼团")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(paid_count__lte=F("size")), name="group_paid_le_size"),
            models.CheckConstraint(
                condition=~Q(status="succeeded") | Q(paid_count=F("size")), name="group_success_means_full"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.offer}"

    @property
    def places_left(self) -> int:
        return max(0, self.size - self.paid_count)


class GroupBuyMember(models.Model):
    """A place in a group. `item_id` of a `group_buy` order is this row's id (a reserved seat)."""

    class Status(models.TextChoices):
        RESERVED = "reserved", _("已占位，待付款")
        PAID = "paid", _("已付款")
        CANCELLED = "cancelled", _("未付款，已释放")
        REFUNDING = "refunding", _("退款中")
        REFUNDED = "refunded", _("已退款")

    ACTIVE = (Status.RESERVED, Status.PAID)

    group = models.ForeignKey(
        GroupBuy, on_delete=models.CASCADE, related_name="members", verbose_name=_("拼团")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="group_buy_seats",
        verbose_name=_("用户"),
    )
    is_initiator = models.BooleanField(_("团长"), default=False)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.RESERVED, db_index=True
    )
    reserved_until = models.DateTimeField(_("占位有效期"))
    order = models.OneToOneField(
        "payments.Order",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="group_buy_seat",
        verbose_name=_("支付订单"),
    )
    paid_at = models.DateTimeField(_("支付时间"), null=True, blank=True)
    # The zero-amount order that granted the underlying item once the group succeeded (exactly once).
    granted_order = models.OneToOneField(
        "payments.Order",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("赠送订单"),
    )
    grant_error = models.CharField(_("发放失败原因"), max_length=255, blank=True, default="")
    needs_refund = models.BooleanField(
        _("待自动退款"), default=False, help_text=_("未成团、或付款时名额已满/已过期")
    )
    joined_at = models.DateTimeField(_("参团时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("拼团成员")
        verbose_name_plural = _("拼团成员")
        ordering = ["joined_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "user"],
                condition=Q(status__in=["reserved", "paid"]),
                name="one_active_seat_per_user_per_group",
            ),
            models.UniqueConstraint(
                fields=["group"], condition=Q(is_initiator=True), name="one_initiator_per_group"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group_id}:{self.user_id} {self.status}"

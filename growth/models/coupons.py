"""Coupons (优惠券): a definition an operator makes (`Coupon`), the copies members hold (`MemberCoupon`,
one use each) and the paid orders they discounted (`CouponRedemption`, what reports read).

The rules live in `growth.coupons` (pricing, holding, issuing); the models keep what the database
can: one copy per (coupon, member, source key), a held copy names its order, one redemption per order.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

__all__ = ["Coupon", "CouponRedemption", "MemberCoupon"]


def new_claim_token() -> str:
    """The secret part of a coupon's claim link (/growth/coupons/claim/<token>/): not guessable."""
    return secrets.token_urlsafe(12)


class Coupon(models.Model):
    """What a coupon gives, on what, to whom and for how long. Its copies are `MemberCoupon` rows."""

    class Kind(models.TextChoices):
        AMOUNT = "amount", _("满减（减固定金额）")
        PERCENT = "percent", _("折扣（按比例减）")

    class AutoIssue(models.TextChoices):
        NONE = "", _("不自动发放")
        CAMP_COMPLETED = "camp_completed", _("训练营结营时")

    name = models.CharField(_("名称"), max_length=64, help_text=_("会员看到的名称，如 新春 50 元券"))
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.AMOUNT)
    amount_off_fen = models.PositiveBigIntegerField(_("减免金额（分）"), default=0)
    percent_off_bp = models.PositiveIntegerField(
        _("减免比例（基点）"), default=0, help_text=_("2000 = 减 20%（即八折）")
    )
    cap_fen = models.PositiveBigIntegerField(
        _("最多减（分）"), default=0, help_text=_("折扣券的减免上限，0 为不封顶")
    )
    min_spend_fen = models.PositiveBigIntegerField(
        _("最低消费（分）"), default=0, help_text=_("用券前的应付金额须达到，0 为无门槛")
    )
    item_types = models.JSONField(_("适用商品类型"), default=list, blank=True, help_text=_("空为全部"))
    items = models.JSONField(
        _("适用商品"), default=list, blank=True, help_text=_("如 course:12、membership:VIP；空为全部")
    )
    tiers = models.JSONField(
        _("适用会员等级"), default=list, blank=True, help_text=_("下单人当前的会员等级；空为所有人")
    )
    starts_at = models.DateTimeField(_("生效时间"), null=True, blank=True)
    ends_at = models.DateTimeField(_("失效时间"), null=True, blank=True)
    valid_days = models.PositiveIntegerField(
        _("领取后有效天数"), null=True, blank=True, help_text=_("填写后，每张券自发放起 N 天内有效")
    )
    total_limit = models.PositiveIntegerField(
        _("使用总量"), null=True, blank=True, help_text=_("最多被使用（含待支付占用）多少张；空为不限")
    )
    issue_limit = models.PositiveIntegerField(_("发放总量"), null=True, blank=True, help_text=_("空为不限"))
    per_member_limit = models.PositiveIntegerField(_("每人限领/限用"), default=1)
    stackable = models.BooleanField(
        _("可与其他优惠同享"), default=True, help_text=_("不勾选时，已有会员折扣、推广价等优惠的订单不能用")
    )
    code = models.CharField(
        _("公开券码"),
        max_length=32,
        null=True,
        blank=True,
        unique=True,
        help_text=_("如 SPRING50，会员在下单时输入即可领用；留空为仅发放"),
    )
    claim_token = models.CharField(_("领取链接标识"), max_length=32, unique=True, default=new_claim_token)
    claim_enabled = models.BooleanField(_("开放领取链接"), default=False)
    auto_issue_on = models.CharField(
        _("自动发放"), max_length=32, choices=AutoIssue.choices, blank=True, default=AutoIssue.NONE
    )
    is_active = models.BooleanField(_("启用"), default=True, help_text=_("停用后未使用的券都不能再用"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("优惠券")
        verbose_name_plural = _("优惠券")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="amount", amount_off_fen__gt=0) | Q(kind="percent", percent_off_bp__gt=0)),
                name="coupon_gives_something",
            ),
            models.CheckConstraint(
                condition=Q(percent_off_bp__lte=10_000), name="coupon_percent_at_most_all"
            ),
            models.CheckConstraint(condition=Q(per_member_limit__gt=0), name="coupon_per_member_positive"),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True)
                | Q(ends_at__isnull=True)
                | Q(starts_at__lt=models.F("ends_at")),
                name="coupon_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class MemberCoupon(models.Model):
    """One coupon a member holds: one use. `available` → `held` (by a pending order) → `used`, or back
    to `available` when that order closes unpaid (or is fully refunded inside the validity window);
    `revoked` by an operator. `expired` is never stored: it is `available` past `valid_until`."""

    class State(models.TextChoices):
        AVAILABLE = "available", _("可使用")
        HELD = "held", _("待支付占用")
        USED = "used", _("已使用")
        EXPIRED = "expired", _("已过期")
        REVOKED = "revoked", _("已作废")

    class Source(models.TextChoices):
        CLAIM = "claim", _("领取链接")
        PUBLIC_CODE = "public_code", _("输入券码")
        OPERATOR = "operator", _("运营发放")
        SEGMENT = "segment", _("人群发放")
        CAMPAIGN = "campaign", _("营销活动")
        EVENT = "event", _("自动发放")

    coupon = models.ForeignKey(
        Coupon, verbose_name=_("优惠券"), on_delete=models.PROTECT, related_name="copies"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("会员"), on_delete=models.PROTECT, related_name="coupons"
    )
    code = models.CharField(_("券号"), max_length=16, unique=True)
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices)
    # What made this copy, so issuing twice for the same reason gives one (a campaign run twice,
    # the same claim replayed, one camp term's graduation).
    source_key = models.CharField(_("来源标识"), max_length=64)
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, default=State.AVAILABLE)
    valid_from = models.DateTimeField(_("可用起"), null=True, blank=True)
    valid_until = models.DateTimeField(_("可用至"), null=True, blank=True)
    held_by = models.ForeignKey(
        "payments.Order",
        verbose_name=_("占用订单"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发放人"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    issued_at = models.DateTimeField(_("发放时间"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("作废时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("作废人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("会员优惠券")
        verbose_name_plural = _("会员优惠券")
        ordering = ["-issued_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["coupon", "user", "source_key"], name="member_coupon_one_per_source"
            ),
            # Held means held by an order; nothing else names one.
            models.CheckConstraint(
                condition=Q(state="held", held_by__isnull=False)
                | (~Q(state="held") & Q(held_by__isnull=True)),
                name="member_coupon_held_by_order",
            ),
            models.CheckConstraint(condition=~Q(state="expired"), name="member_coupon_expired_not_stored"),
        ]
        indexes = [models.Index(fields=["coupon", "state"]), models.Index(fields=["user", "state"])]

    def __str__(self) -> str:
        return f"{self.coupon.name} · {self.code}"

    def state_at(self, now: datetime) -> str:
        """The state a member sees: an available copy past its window (or of a stopped coupon) is expired."""
        if self.state == self.State.AVAILABLE and (
            (self.valid_until is not None and now >= self.valid_until) or not self.coupon.is_active
        ):
            return self.State.EXPIRED
        return self.state


class CouponRedemption(models.Model):
    """A paid order a member coupon discounted: one per order (the idempotency key of `on_paid`).
    `returned_at` is set when a full refund inside the validity window gave the coupon back."""

    order = models.OneToOneField(
        "payments.Order", verbose_name=_("订单"), on_delete=models.PROTECT, related_name="coupon_redemption"
    )
    member_coupon = models.ForeignKey(
        MemberCoupon, verbose_name=_("会员优惠券"), on_delete=models.PROTECT, related_name="redemptions"
    )
    coupon = models.ForeignKey(
        Coupon, verbose_name=_("优惠券"), on_delete=models.PROTECT, related_name="redemptions"
    )
    discount_fen = models.PositiveBigIntegerField(_("券抵扣（分）"))
    created_at = models.DateTimeField(_("使用时间"), auto_now_add=True)
    returned_at = models.DateTimeField(_("退回时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("优惠券使用记录")
        verbose_name_plural = _("优惠券使用记录")
        ordering = ["-created_at"]
        constraints = [
            # A copy is used by one paid order at a time; a returned copy may be used again.
            models.UniqueConstraint(
                fields=["member_coupon"],
                condition=Q(returned_at__isnull=True),
                name="coupon_redemption_one_live",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.coupon.name} → {self.order_id}"

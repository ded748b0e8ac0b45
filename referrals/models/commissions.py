"""referrals: commission rules and the commission earned on one paid order at one level.

- a commission is tied to a paid order (`Commission.order`), never to a sign-up;
- levels are 1 or 2 (CHECK against `MAX_COMMISSION_LEVEL`) and each row is unique per (order, level) —
  the idempotency key of the accrual;
- a commission's status moves only through `referrals.commissions.commission_transition` (one table of
  legal moves, `COMMISSION_TRANSITIONS`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from referrals.models.programme import MAX_COMMISSION_LEVEL
from referrals.models.promoters import PromoterLevel

__all__ = [
    "Commission",
    "CommissionRule",
    "RewardKind",
]


class RewardKind(models.TextChoices):
    CASH = "cash", _("现金佣金")
    POINTS = "points", _("积分奖励")


class CommissionRule(models.Model):
    """Rate for one item type (optionally one item), commission level and promoter level.

    The most specific active rule wins: item + promoter level, type + promoter level, the promoter
    level's own rate, item, type. Level 2 rules only apply while the operator enables level 2.
    """

    item_type = models.CharField(_("商品类型"), max_length=32, db_index=True)
    item_id = models.CharField(
        _("商品ID"), max_length=64, blank=True, default="", help_text=_("留空 = 该类型全部商品")
    )
    promoter_level = models.ForeignKey(
        PromoterLevel,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="rules",
        verbose_name=_("推广员级别"),
        help_text=_("留空 = 所有级别"),
    )
    level = models.PositiveSmallIntegerField(
        _("分佣层级"), default=1, choices=[(1, _("一级（直接推荐人）")), (2, _("二级"))]
    )
    rate_bp = models.PositiveIntegerField(
        _("比例（基点）"), help_text=_("1000 = 10%，按实付金额向下取整到分")
    )
    reward_kind = models.CharField(
        _("奖励方式"), max_length=8, choices=RewardKind.choices, default=RewardKind.CASH
    )
    points_per_yuan = models.PositiveIntegerField(
        _("每 1 元奖励折合积分"), default=10, help_text=_("奖励方式为积分时使用")
    )
    is_active = models.BooleanField(_("启用"), default=True)
    note = models.CharField(_("备注"), max_length=200, blank=True, default="")
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("佣金规则")
        verbose_name_plural = _("佣金规则")
        ordering = ["item_type", "item_id", "level"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level__gte=1) & Q(level__lte=MAX_COMMISSION_LEVEL), name="rule_level_1_or_2"
            ),
            models.CheckConstraint(condition=Q(rate_bp__lte=10000), name="rule_rate_at_most_100pct"),
            models.UniqueConstraint(
                fields=["item_type", "item_id", "level"],
                condition=Q(promoter_level__isnull=True),
                name="uniq_rule_any_level",
            ),
            models.UniqueConstraint(
                fields=["item_type", "item_id", "level", "promoter_level"],
                condition=Q(promoter_level__isnull=False),
                name="uniq_rule_per_promoter_level",
            ),
        ]

    def __str__(self) -> str:
        target = f"{self.item_type}:{self.item_id}" if self.item_id else self.item_type
        return f"{target} L{self.level} {self.rate_bp}bp"


class Commission(models.Model):
    """What one beneficiary earns on one paid order at one level. Unique per (order, level).

    Cash rewards live in the ledger (`earning_id`, held until the refund window passes); point
    rewards are awarded once the same window has passed. Reversals follow refunds proportionally:
    the beneficiary keeps floor(rate × net paid amount), the rounding remainder stays with the platform.
    """

    class Status(models.TextChoices):
        ACCRUED = "accrued", _("已计提")
        PARTIALLY_REVERSED = "partially_reversed", _("部分冲回")
        REVERSED = "reversed", _("已冲回")
        SKIPPED = "skipped", _("未发放")

    class SkipReason(models.TextChoices):
        NONE = "", _("—")
        AGREEMENT = "agreement", _("未同意推广员协议")
        BLOCKED = "blocked", _("推广资格已停止")
        MEMBERSHIP = "membership", _("非会员（运营要求会员才可获得佣金）")
        SAME_PERSON = "same_person", _("疑似同一人（微信或手机号相同）")

    order = models.ForeignKey(
        "payments.Order", on_delete=models.PROTECT, related_name="commissions", verbose_name=_("订单")
    )
    level = models.PositiveSmallIntegerField(_("层级"))
    beneficiary = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="commissions",
        verbose_name=_("推广员"),
    )
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("购买人")
    )
    item_type = models.CharField(_("商品类型"), max_length=32)
    base_fen = models.PositiveBigIntegerField(_("计佣金额（分）"))
    rate_bp = models.PositiveIntegerField(_("比例（基点）"))
    amount_fen = models.PositiveBigIntegerField(_("佣金（分）"))
    reversed_fen = models.PositiveBigIntegerField(_("已冲回（分）"), default=0)
    reward_kind = models.CharField(_("奖励方式"), max_length=8, choices=RewardKind.choices)
    points_per_yuan = models.PositiveIntegerField(_("每元积分"), default=0)
    points_awarded = models.PositiveBigIntegerField(_("已发积分"), default=0)
    points_clawed_back = models.PositiveBigIntegerField(_("已扣回积分"), default=0)
    points_awarded_at = models.DateTimeField(_("积分发放时间"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=24, choices=Status.choices, db_index=True)
    skip_reason = models.CharField(
        _("未发放原因"), max_length=16, choices=SkipReason.choices, blank=True, default=""
    )
    rule = models.ForeignKey(
        CommissionRule,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("分佣规则"),
    )
    promoter_level = models.ForeignKey(
        PromoterLevel,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("推广员等级"),
    )
    earning = models.ForeignKey(
        "payments.Earning",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="commissions",
        verbose_name=_("收益记录"),
    )
    hold_until = models.DateTimeField(_("结算时间"))
    idempotency_key = models.CharField(_("幂等键"), max_length=80, unique=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("佣金")
        verbose_name_plural = _("佣金")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level__gte=1) & Q(level__lte=MAX_COMMISSION_LEVEL), name="commission_level_1_or_2"
            ),
            models.UniqueConstraint(fields=["order", "level"], name="uniq_commission_order_level"),
            models.CheckConstraint(condition=~Q(beneficiary=F("buyer")), name="commission_not_self"),
            models.CheckConstraint(
                condition=Q(reversed_fen__lte=F("amount_fen")), name="commission_reversed_le_amount"
            ),
            models.CheckConstraint(condition=Q(rate_bp__lte=10000), name="commission_rate_at_most_100pct"),
        ]
        indexes = [models.Index(fields=["beneficiary", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.order_id} L{self.level} {self.amount_fen}"

    @property
    def net_fen(self) -> int:
        return self.amount_fen - self.reversed_fen

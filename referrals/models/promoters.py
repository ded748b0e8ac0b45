"""referrals: promoters, their levels (普通 / KOL / 核心) and the promoter prices each level gets.

Every user may promote without buying; a level raises the commission rate or lowers prices, it is never
a condition to earn.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

__all__ = [
    "Promoter",
    "PromoterLevel",
    "PromoterPrice",
]


class PromoterLevel(models.Model):
    """A promoter level (普通 / KOL / 核心): its commission rate and promoter prices.

    Levels are granted by operators or automatically on real sales (never on recruiting: the
    thresholds count paid, non-refunded orders the promoter referred).
    """

    code = models.SlugField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=32)
    rank = models.PositiveSmallIntegerField(_("级别"), unique=True, help_text=_("数字越大级别越高"))
    commission_rate_bp = models.PositiveIntegerField(
        _("直推佣金比例（基点）"),
        null=True,
        blank=True,
        help_text=_(
            "1000 = 10%。留空则按佣金规则；填写后，参与分佣的商品对该级别推广员按此比例（指定该级别的规则优先）。"
        ),
    )
    is_default = models.BooleanField(_("默认级别"), default=False, help_text=_("所有人默认的级别，无需购买"))
    auto_min_sales_fen = models.PositiveBigIntegerField(
        _("自动升级：推广实收金额（分）"),
        null=True,
        blank=True,
        help_text=_("推广成交（扣除退款）累计达到即升级"),
    )
    auto_min_orders = models.PositiveIntegerField(_("自动升级：推广成交单数"), null=True, blank=True)
    grant_tier = models.ForeignKey(
        "members.MembershipTier",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("会员自动享有"),
        help_text=_(
            "持有该会员等级（或更高）的会员至少按此级别计佣：会员可提高佣金比例，但推广资格本身不要求购买。"
        ),
    )
    description = models.CharField(_("说明"), max_length=200, blank=True, default="")

    class Meta:
        verbose_name = _("推广员级别")
        verbose_name_plural = _("推广员级别")
        ordering = ["rank"]
        constraints = [
            models.CheckConstraint(
                condition=Q(commission_rate_bp__isnull=True) | Q(commission_rate_bp__lte=10000),
                name="promoter_level_rate_at_most_100pct",
            ),
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_promoter_level"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_auto_rule(self) -> bool:
        return self.auto_min_sales_fen is not None or self.auto_min_orders is not None


class Promoter(models.Model):
    """A user's promoter profile, created on first need (every user may promote without buying)."""

    class LevelSource(models.TextChoices):
        DEFAULT = "default", _("默认")
        OPERATOR = "operator", _("运营设置")
        AUTO = "auto", _("业绩自动升级")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="promoter", verbose_name=_("用户")
    )
    level = models.ForeignKey(
        PromoterLevel,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="promoters",
        verbose_name=_("级别"),
    )
    level_source = models.CharField(
        _("级别来源"), max_length=16, choices=LevelSource.choices, default=LevelSource.DEFAULT
    )
    level_changed_at = models.DateTimeField(_("级别变更时间"), null=True, blank=True)
    is_blocked = models.BooleanField(_("停止推广资格"), default=False)
    blocked_reason = models.CharField(_("停止原因"), max_length=200, blank=True, default="")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("推广员")
        verbose_name_plural = _("推广员")

    def __str__(self) -> str:
        return str(self.user)


class PromoterPrice(models.Model):
    """A price for one item at one promoter level (retail ¥5,000 → KOL ¥4,000 → 核心 ¥3,000)."""

    class AppliesTo(models.TextChoices):
        SELF = "self", _("推广员本人购买（自购价）")
        REFERRED = "referred", _("推广员的客户购买（专享价）")

    level = models.ForeignKey(
        PromoterLevel, on_delete=models.CASCADE, related_name="prices", verbose_name=_("推广员等级")
    )
    item_type = models.CharField(_("商品类型"), max_length=32)
    item_id = models.CharField(
        _("商品ID"), max_length=64, help_text=_("会员为等级代码（如 VIP），其余为数字ID")
    )
    price_fen = models.PositiveBigIntegerField(_("价格（分）"))
    applies_to = models.CharField(
        _("适用于"), max_length=16, choices=AppliesTo.choices, default=AppliesTo.SELF
    )

    class Meta:
        verbose_name = _("推广价")
        verbose_name_plural = _("推广价")
        constraints = [
            models.UniqueConstraint(
                fields=["level", "item_type", "item_id", "applies_to"], name="uniq_promoter_price"
            )
        ]

    def __str__(self) -> str:
        return f"{self.level} {self.item_type}:{self.item_id} {self.price_fen}"

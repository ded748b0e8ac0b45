"""Flash sales (限时特价): a lower price for one item during a window, for a limited stock of units
(`growth.flash_sales`). A pending order at the sale price holds a unit (`FlashSaleHold`) until it is
paid (sold) or closes unpaid (released), so the last unit goes to exactly one buyer."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["FlashSale", "FlashSaleHold"]


class FlashSale(models.Model):
    """One item at `sale_price_fen` from `starts_at` to `ends_at`, `stock` units in all.

    `held` and `sold` count the units taken by pending and paid orders; they move only with a hold
    (`growth.flash_sales.holds`, the row locked), and the database refuses more than `stock` of them,
    so no race can sell a unit twice."""

    name = models.CharField(_("活动名称"), max_length=64, help_text=_("例如 双十一 VIP 限时特价"))
    item_type = models.CharField(_("商品类型"), max_length=32)
    item_id = models.CharField(_("商品ID"), max_length=64)
    item_title = models.CharField(_("商品"), max_length=200, help_text=_("保存活动时的商品名称"))
    list_price_fen = models.PositiveIntegerField(_("原价（分）"), help_text=_("保存活动时的商品原价"))
    sale_price_fen = models.PositiveIntegerField(_("特价（分）"), help_text=_("须低于原价，至少 1 分"))
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    stock = models.PositiveIntegerField(_("库存（件）"))
    per_member_limit = models.PositiveIntegerField(_("每人限购"), default=1)
    is_active = models.BooleanField(_("启用"), default=True, help_text=_("停用后立即不再按特价出售"))
    held = models.PositiveIntegerField(_("待支付占用"), default=0, editable=False)
    sold = models.PositiveIntegerField(_("已售"), default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("限时特价")
        verbose_name_plural = _("限时特价")
        ordering = ["-starts_at", "-pk"]
        indexes = [models.Index(fields=["item_type", "item_id", "ends_at"], name="flash_sale_item_ends")]
        constraints = [
            models.CheckConstraint(condition=Q(sale_price_fen__gte=1), name="flash_sale_price_min_1_fen"),
            models.CheckConstraint(
                condition=Q(sale_price_fen__lt=F("list_price_fen")), name="flash_sale_price_below_list"
            ),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="flash_sale_window"),
            models.CheckConstraint(condition=Q(stock__gte=1), name="flash_sale_stock_positive"),
            models.CheckConstraint(condition=Q(per_member_limit__gte=1), name="flash_sale_limit_positive"),
            # The last line against overselling: held and sold units never exceed the stock.
            models.CheckConstraint(
                condition=Q(stock__gte=F("held") + F("sold")), name="flash_sale_units_within_stock"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def left(self) -> int:
        return max(0, self.stock - self.held - self.sold)

    def running_at(self, now) -> bool:
        return self.is_active and self.starts_at <= now < self.ends_at

    @property
    def is_running(self) -> bool:
        return self.running_at(timezone.now())


class FlashSaleHold(models.Model):
    """The unit one order took: `held` while it can be paid, then `sold` (paid) or `released` (closed
    unpaid, back in stock). One per order (unique), so an order never takes two units."""

    class State(models.TextChoices):
        HELD = "held", _("待支付占用")
        SOLD = "sold", _("已售")
        RELEASED = "released", _("已释放")

    sale = models.ForeignKey(
        FlashSale, verbose_name=_("限时特价"), on_delete=models.PROTECT, related_name="holds"
    )
    order = models.OneToOneField(
        "payments.Order", verbose_name=_("订单"), on_delete=models.PROTECT, related_name="flash_sale_hold"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("会员"), on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, default=State.HELD)
    created_at = models.DateTimeField(_("占用时间"), auto_now_add=True)
    ended_at = models.DateTimeField(_("售出或释放时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("限时特价占用")
        verbose_name_plural = _("限时特价占用")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["sale", "user", "state"], name="flash_hold_sale_user_state")]
        constraints = [
            models.CheckConstraint(
                condition=Q(state="held", ended_at__isnull=True)
                | Q(~Q(state="held"), ended_at__isnull=False),
                name="flash_hold_ended_when_not_held",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sale} · {self.order_id}"

"""referrals: the staff progressive profit share (分润递进) — brackets, closed months, each rep's
statement and the orders it counted, each supervisor's team override, and the deductions later refunds
roll forward into a later month (`referrals.staff_share` closes months and posts them to the ledger).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from referrals.models.sales import SalesTeam

__all__ = [
    "StaffShareAdjustment",
    "StaffShareBracket",
    "StaffShareLine",
    "StaffShareMonth",
    "StaffShareOverride",
    "StaffShareOverrideAdjustment",
    "StaffShareStatement",
]


class StaffShareBracket(models.Model):
    """A progressive bracket: volume above `lower_fen` (up to the next bracket) earns `rate_bp`."""

    lower_fen = models.PositiveBigIntegerField(_("起点（分）"), unique=True)
    rate_bp = models.PositiveIntegerField(_("比例（基点）"))

    class Meta:
        verbose_name = _("分润阶梯")
        verbose_name_plural = _("分润阶梯")
        ordering = ["lower_fen"]
        constraints = [
            models.CheckConstraint(condition=Q(rate_bp__lte=10000), name="bracket_rate_at_most_100pct")
        ]

    def __str__(self) -> str:
        return f"≥{self.lower_fen} {self.rate_bp}bp"


class StaffShareMonth(models.Model):
    """A closed month (Asia/Shanghai calendar month). Its statements never change after closing."""

    month = models.DateField(_("月份"), unique=True, help_text=_("当月 1 日"))
    closed_at = models.DateTimeField(_("结算时间"), auto_now_add=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("月结操作人"),
    )
    brackets = models.JSONField(_("使用的阶梯"), default=list)
    volume_fen = models.BigIntegerField(_("总业绩（分）"), default=0)
    share_fen = models.BigIntegerField(_("总分润（分）"), default=0)
    adjustment_fen = models.BigIntegerField(_("总扣回（分）"), default=0)
    override_fen = models.BigIntegerField(_("团队管理分润（分）"), default=0)

    class Meta:
        verbose_name = _("分润月结")
        verbose_name_plural = _("分润月结")
        ordering = ["-month"]

    def __str__(self) -> str:
        return self.month.strftime("%Y-%m")


class StaffShareStatement(models.Model):
    """One rep's month: net volume, progressive share, and deductions for earlier months' refunds."""

    month = models.ForeignKey(
        StaffShareMonth, on_delete=models.PROTECT, related_name="statements", verbose_name=_("分润月")
    )
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="share_statements",
        verbose_name=_("销售"),
    )
    gross_fen = models.BigIntegerField(_("当月成交（分）"), default=0)
    refunded_fen = models.BigIntegerField(_("当月退款（分）"), default=0)
    net_fen = models.BigIntegerField(_("净业绩（分）"), default=0)
    share_fen = models.BigIntegerField(_("分润（分）"), default=0)
    adjustment_fen = models.BigIntegerField(_("往月退款扣回（分）"), default=0)
    orders_count = models.PositiveIntegerField(_("订单数"), default=0)
    earning = models.ForeignKey(
        "payments.Earning",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("收益记录"),
    )
    # The supervisor's override that counted this statement's volume (the rep's team at the close).
    override = models.ForeignKey(
        "StaffShareOverride",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="statements",
        verbose_name=_("团队管理分润"),
    )

    class Meta:
        verbose_name = _("分润对账单")
        verbose_name_plural = _("分润对账单")
        ordering = ["-month__month", "rep_id"]
        constraints = [models.UniqueConstraint(fields=["month", "rep"], name="uniq_statement_month_rep")]

    def __str__(self) -> str:
        return f"{self.month} {self.rep_id}"


class StaffShareLine(models.Model):
    """An order counted in a statement (so later refunds of exactly these orders can be traced)."""

    statement = models.ForeignKey(
        StaffShareStatement, on_delete=models.CASCADE, related_name="lines", verbose_name=_("分润对账单")
    )
    order = models.OneToOneField(
        "payments.Order", on_delete=models.PROTECT, related_name="staff_share_line", verbose_name=_("订单")
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("会员")
    )
    amount_fen = models.BigIntegerField(_("业绩（分）"))
    refunded_at_close_fen = models.BigIntegerField(_("月结时已退款（分）"), default=0)

    class Meta:
        verbose_name = _("分润订单")
        verbose_name_plural = _("分润订单")

    def __str__(self) -> str:
        return f"{self.statement_id}:{self.order_id}"


class StaffShareAdjustment(models.Model):
    """A deduction posted in `statement`'s month for refunds of orders counted in `source`."""

    statement = models.ForeignKey(
        StaffShareStatement,
        on_delete=models.CASCADE,
        related_name="adjustments",
        verbose_name=_("扣回到的对账单"),
    )
    source = models.ForeignKey(
        StaffShareStatement, on_delete=models.PROTECT, related_name="adjusted_by", verbose_name=_("原对账单")
    )
    refunded_fen = models.BigIntegerField(_("新增退款（分）"))
    amount_fen = models.BigIntegerField(_("扣回分润（分）"))

    class Meta:
        verbose_name = _("分润扣回")
        verbose_name_plural = _("分润扣回")
        constraints = [
            models.UniqueConstraint(fields=["statement", "source"], name="uniq_adjustment_source"),
            models.CheckConstraint(condition=Q(amount_fen__gte=0), name="adjustment_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.statement_id}←{self.source_id} {self.amount_fen}"


class StaffShareOverride(models.Model):
    """A supervisor's month: the team's net volume at the close × the override rate, and deductions
    for refunds (completed this month) of orders counted in earlier months' overrides."""

    month = models.ForeignKey(
        StaffShareMonth, on_delete=models.PROTECT, related_name="overrides", verbose_name=_("分润月")
    )
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="share_overrides",
        verbose_name=_("主管"),
    )
    team = models.ForeignKey(
        SalesTeam, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("团队")
    )
    team_name = models.CharField(_("团队"), max_length=64, blank=True, default="")
    rate_bp = models.PositiveIntegerField(_("管理分润（基点）"), default=0)
    volume_fen = models.BigIntegerField(_("团队净业绩（分）"), default=0)
    share_fen = models.BigIntegerField(_("管理分润（分）"), default=0)
    adjustment_fen = models.BigIntegerField(_("往月退款扣回（分）"), default=0)
    earning = models.ForeignKey(
        "payments.Earning",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("收益记录"),
    )

    class Meta:
        verbose_name = _("团队管理分润")
        verbose_name_plural = _("团队管理分润")
        ordering = ["-month__month", "supervisor_id"]
        constraints = [
            models.UniqueConstraint(fields=["month", "supervisor"], name="uniq_override_month_supervisor")
        ]

    def __str__(self) -> str:
        return f"{self.month} {self.team_name or self.supervisor_id}"


class StaffShareOverrideAdjustment(models.Model):
    """A deduction posted in `override`'s month for refunds of orders counted in `source`."""

    override = models.ForeignKey(
        StaffShareOverride,
        on_delete=models.CASCADE,
        related_name="adjustments",
        verbose_name=_("扣回到的管理分润"),
    )
    source = models.ForeignKey(
        StaffShareOverride, on_delete=models.PROTECT, related_name="adjusted_by", verbose_name=_("原管理分润")
    )
    refunded_fen = models.BigIntegerField(_("新增退款（分）"))
    amount_fen = models.BigIntegerField(_("扣回分润（分）"))

    class Meta:
        verbose_name = _("管理分润扣回")
        verbose_name_plural = _("管理分润扣回")
        constraints = [
            models.UniqueConstraint(fields=["override", "source"], name="uniq_override_adjustment_source"),
            models.CheckConstraint(condition=Q(amount_fen__gte=0), name="override_adjustment_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.override_id}←{self.source_id} {self.amount_fen}"

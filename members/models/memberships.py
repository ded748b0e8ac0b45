"""Membership tiers, each member's membership, what every order or grant did to it, renewal reminders
and the member-number sequences."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel
from members.models.users import User

__all__ = ["MemberNumberSequence", "Membership", "MembershipGrant", "MembershipReminder", "MembershipTier"]


class MembershipTier(TimeStampedModel):
    """A membership level (VIP, KA…). A higher rank includes everything lower ranks include."""

    code = models.CharField(_("代码"), max_length=16, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    price_fen = models.PositiveBigIntegerField(_("价格（分）"))
    duration_days = models.PositiveIntegerField(_("有效天数"), default=365)
    rank = models.PositiveSmallIntegerField(_("等级"), unique=True)
    benefits = models.TextField(_("权益（每行一条）"), blank=True, default="")
    single_purchase_discount_bp = models.PositiveIntegerField(
        _("单品购买折扣（基点）"), default=0, help_text=_("1000 = 减 10%")
    )
    member_no_prefix = models.CharField(_("会员编号前缀"), max_length=8)
    is_active = models.BooleanField(_("在售"), default=True)

    class Meta:
        verbose_name = _("会员等级")
        verbose_name_plural = _("会员等级")
        ordering = ["rank"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(single_purchase_discount_bp__lte=10000),
                name="tier_discount_at_most_100pct",
            ),
            # A tier of 0 days would take the money and grant nothing (the grant refuses 0 days after
            # payment): the tier editor must refuse it before anything is sold.
            models.CheckConstraint(
                condition=models.Q(duration_days__gt=0),
                name="tier_duration_positive",
                violation_error_message=_("天数须大于 0"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def benefit_list(self) -> list[str]:
        return [line.strip() for line in self.benefits.splitlines() if line.strip()]


class Membership(TimeStampedModel):
    """A member's current membership: one row per user, its tier and window change with orders.

    History (which order granted which days) lives in MembershipGrant so a refund can take back
    exactly what one order gave.
    """

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="membership", verbose_name=_("会员")
    )
    tier = models.ForeignKey(
        MembershipTier, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("会员等级")
    )
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("到期时间"), db_index=True)

    class Meta:
        verbose_name = _("会员资格")
        verbose_name_plural = _("会员资格")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gte=models.F("starts_at")), name="membership_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.tier.code} → {self.ends_at:%Y-%m-%d}"


class MembershipGrant(models.Model):
    """What one order (or operator grant) did to a membership, so a refund can undo exactly that.

    The window before and after is recorded; revoking shifts the end back by what this grant added
    and, for an upgrade, restores the previous tier.
    """

    class Kind(models.TextChoices):
        START = "start", _("开通")
        RENEW = "renew", _("续费")
        UPGRADE = "upgrade", _("升级")
        CONVERT = "convert", _("折算为当前等级天数")

    class Source(models.TextChoices):
        PURCHASE = "purchase", _("购买")
        POINTS = "points", _("积分兑换")
        GRANT = "grant", _("运营赠送")
        FREE = "free", _("免费领取")

    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="grants", verbose_name=_("会员资格")
    )
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="membership_grants", verbose_name=_("用户")
    )
    order = models.OneToOneField(
        "payments.Order",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="membership_grant",
        verbose_name=_("订单"),
    )
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices, default=Source.PURCHASE)
    tier = models.ForeignKey(
        MembershipTier, on_delete=models.PROTECT, related_name="+", verbose_name=_("等级")
    )
    tier_before = models.ForeignKey(
        MembershipTier,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("变更前等级"),
    )
    starts_before = models.DateTimeField(_("变更前开始时间"), null=True, blank=True)
    ends_before = models.DateTimeField(_("变更前到期时间"), null=True, blank=True)
    starts_after = models.DateTimeField(_("开始"))
    ends_after = models.DateTimeField(_("到期"))
    days = models.PositiveIntegerField(_("天数"))
    # Cash value this grant adds to the membership (what was paid plus upgrade credit); the basis of
    # a later upgrade's pro-rata credit. Operator gifts and points have no cash value.
    value_fen = models.PositiveBigIntegerField(_("价值（分）"), default=0)
    credit_fen = models.PositiveBigIntegerField(_("升级抵扣（分）"), default=0)
    operator = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("操作人")
    )
    reason = models.CharField(_("原因"), max_length=200, blank=True, default="")
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoke_reason = models.CharField(_("撤销原因"), max_length=200, blank=True, default="")
    # The upgrade whose credit this grant's unused value became (members.funding): while that upgrade
    # stands, refunding this grant's order would pay the same value out twice, so it is refused.
    credit_consumed_by = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="credit_from",
        verbose_name=_("已折抵至升级"),
    )
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("会员变动记录")
        verbose_name_plural = _("会员变动记录")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_after__gte=models.F("starts_after")), name="grant_window_ordered"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.tier_id} +{self.days}d"

    @property
    def ends_shift(self):
        """How far this grant moved the membership's end (a START counts its whole window)."""
        if self.kind == self.Kind.START or self.ends_before is None:
            return self.ends_after - self.starts_after
        return self.ends_after - self.ends_before


class MembershipReminder(models.Model):
    """One renewal reminder (30/7/1 days) or expiry notice per membership end date: the unique row is
    what makes the daily sweep send each exactly once, and again after a renewal moves the end."""

    class Kind(models.TextChoices):
        DAYS_30 = "30", _("到期前30天")
        DAYS_7 = "7", _("到期前7天")
        DAYS_1 = "1", _("到期前1天")
        EXPIRED = "expired", _("已到期")

    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="reminders", verbose_name=_("会员资格")
    )
    kind = models.CharField(_("提醒类型"), max_length=8, choices=Kind.choices)
    ends_at = models.DateTimeField(_("到期时间"))
    sent_at = models.DateTimeField(_("发送时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("续费提醒")
        verbose_name_plural = _("续费提醒")
        constraints = [
            models.UniqueConstraint(fields=["membership", "kind", "ends_at"], name="uniq_reminder_per_end")
        ]

    def __str__(self) -> str:
        return f"{self.membership_id} {self.kind} {self.ends_at:%Y-%m-%d}"


class MemberNumberSequence(models.Model):
    """Gap-free member numbers per prefix: incremented under a row lock inside the paid transaction,
    so a rolled-back payment gives its number back and a committed one is never reused."""

    prefix = models.CharField(_("前缀"), max_length=8, unique=True)
    last_value = models.PositiveIntegerField(_("当前序号"), default=0)

    class Meta:
        verbose_name = _("会员编号序列")
        verbose_name_plural = _("会员编号序列")

    def __str__(self) -> str:
        return f"{self.prefix}-{self.last_value:06d}"

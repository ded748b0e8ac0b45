"""Points (积分): each member's balance and its append-only history, and the points mall (积分商城):
rewards and redemptions."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel
from members.models.users import User

__all__ = ["PointsAccount", "PointsEntry", "Redemption", "Reward"]


class PointsAccount(models.Model):
    """A member's points balance. The CHECK constraint makes overdrawing impossible in the database."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="points_account", verbose_name=_("用户")
    )
    balance = models.BigIntegerField(_("积分余额"), default=0)
    earned_total = models.BigIntegerField(_("累计获得"), default=0)
    spent_total = models.BigIntegerField(_("累计使用"), default=0)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("积分账户")
        verbose_name_plural = _("积分账户")
        constraints = [
            models.CheckConstraint(condition=models.Q(balance__gte=0), name="points_balance_not_negative"),
            models.CheckConstraint(
                condition=models.Q(balance=models.F("earned_total") - models.F("spent_total")),
                name="points_balance_is_earned_minus_spent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.balance}"


class PointsEntry(models.Model):
    """One line of points history. Append-only: corrections are new entries."""

    account = models.ForeignKey(
        PointsAccount, on_delete=models.CASCADE, related_name="entries", verbose_name=_("积分账户")
    )
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="points_entries", verbose_name=_("用户")
    )
    amount = models.BigIntegerField(_("积分变动"))
    balance_after = models.BigIntegerField(_("变动后余额"))
    reason = models.CharField(_("原因"), max_length=200)
    idempotency_key = models.CharField(_("幂等键"), max_length=128, unique=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("积分明细")
        verbose_name_plural = _("积分明细")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"])]
        constraints = [
            models.CheckConstraint(condition=~models.Q(amount=0), name="points_entry_nonzero"),
            models.CheckConstraint(condition=models.Q(balance_after__gte=0), name="points_entry_balance_ok"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.amount:+d} {self.reason}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("points entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("points entries are append-only")


class Reward(TimeStampedModel):
    """Something members redeem with points: any registered item (course, circle, event seat,
    membership days…) named by `item_type` + `item_id`, fulfilled by that item type itself."""

    title = models.CharField(_("名称"), max_length=100)
    description = models.TextField(_("说明"), blank=True, default="")
    item_type = models.CharField(_("商品类型"), max_length=32)
    item_id = models.CharField(
        _("商品ID"), max_length=64, help_text=_("课程/圈子等为数字ID；会员天数为 等级代码:天数，如 VIP:30")
    )
    points_price = models.PositiveIntegerField(_("所需积分"))
    stock = models.PositiveIntegerField(_("库存"), null=True, blank=True, help_text=_("留空表示不限"))
    per_member_limit = models.PositiveSmallIntegerField(_("每人限兑"), default=1, help_text=_("0 表示不限"))
    redeemed_count = models.PositiveIntegerField(_("已兑换"), default=0)
    is_active = models.BooleanField(_("上架"), default=True)
    sort_order = models.IntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("积分商城奖品")
        verbose_name_plural = _("积分商城奖品")
        ordering = ["sort_order", "points_price", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(points_price__gt=0), name="reward_price_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.points_price})"

    @property
    def in_stock(self) -> bool:
        return self.stock is None or self.stock > 0


class Redemption(models.Model):
    """One redemption: the points entry that paid for it and the free order that granted it."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="redemptions", verbose_name=_("用户")
    )
    reward = models.ForeignKey(
        Reward, on_delete=models.PROTECT, related_name="redemptions", verbose_name=_("兑换商品")
    )
    points = models.PositiveIntegerField(_("积分"))
    points_entry = models.OneToOneField(
        PointsEntry, on_delete=models.PROTECT, related_name="redemption", verbose_name=_("积分流水")
    )
    order = models.OneToOneField(
        "payments.Order", on_delete=models.PROTECT, related_name="redemption", verbose_name=_("订单")
    )
    idempotency_key = models.CharField(_("幂等键"), max_length=128, unique=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("积分兑换记录")
        verbose_name_plural = _("积分兑换记录")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user} ← {self.reward}"

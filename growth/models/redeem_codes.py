"""Redeem codes (兑换码): batches of single-use codes for one item, sold offline (a company buying
memberships for its staff) and redeemed by members through a zero-amount order
(`growth.redeem_codes.services`)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["RedeemCode", "RedeemCodeBatch"]


class RedeemCodeBatch(models.Model):
    """N codes for one item, with one expiry. Made by `batch_create` (admin or the
    `redeem_codes_create` command), never edited after: its codes were handed to a buyer."""

    name = models.CharField(_("批次名称"), max_length=64, help_text=_("例如 某某公司 2027 年 VIP 团购"))
    item_type = models.CharField(_("商品类型"), max_length=32)
    item_id = models.CharField(_("商品ID"), max_length=64)
    item_title = models.CharField(_("商品"), max_length=200, help_text=_("建批次时的商品名称"))
    size = models.PositiveIntegerField(_("数量"))
    expires_at = models.DateTimeField(_("兑换截止"))
    note = models.CharField(_("备注"), max_length=200, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
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
        verbose_name = _("兑换码批次")
        verbose_name_plural = _("兑换码批次")
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(size__gt=0), name="redeem_batch_size_positive")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.revoked_at is None and timezone.now() < self.expires_at


class RedeemCode(models.Model):
    """One single-use code. Redeemed once, by one member, through one order (the row is locked while it
    is redeemed, so the same code sent by many members at once makes exactly one order)."""

    class State(models.TextChoices):
        UNUSED = "unused", _("未兑换")
        REDEEMED = "redeemed", _("已兑换")
        REVOKED = "revoked", _("已作废")
        EXPIRED = "expired", _("已过期")

    batch = models.ForeignKey(
        RedeemCodeBatch, verbose_name=_("批次"), on_delete=models.PROTECT, related_name="codes"
    )
    code = models.CharField(_("兑换码"), max_length=16, unique=True)
    redeemed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("兑换人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="redeem_codes",
    )
    redeemed_at = models.DateTimeField(_("兑换时间"), null=True, blank=True)
    order = models.OneToOneField(
        "payments.Order",
        verbose_name=_("订单"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="redeem_code",
    )
    revoked_at = models.DateTimeField(_("作废时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("兑换码")
        verbose_name_plural = _("兑换码")
        ordering = ["batch_id", "id"]
        constraints = [
            # A company's batch is one per person: the second code of a batch stays for a colleague.
            models.UniqueConstraint(
                fields=["batch", "redeemed_by"],
                condition=Q(redeemed_by__isnull=False),
                name="redeem_code_one_per_member_per_batch",
            ),
            # Redeemed means all three, or none of them.
            models.CheckConstraint(
                condition=(
                    Q(redeemed_by__isnull=True, redeemed_at__isnull=True, order__isnull=True)
                    | Q(redeemed_by__isnull=False, redeemed_at__isnull=False, order__isnull=False)
                ),
                name="redeem_code_redeemed_whole",
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | Q(redeemed_by__isnull=True),
                name="redeem_code_revoked_only_unused",
            ),
        ]

    def __str__(self) -> str:
        return self.display

    @property
    def display(self) -> str:
        """The code as printed for people: groups of four (XXXX-XXXX-XXXX)."""
        return "-".join(self.code[i : i + 4] for i in range(0, len(self.code), 4))

    def state_at(self, now) -> str:
        if self.redeemed_by_id is not None:
            return self.State.REDEEMED
        if self.revoked_at is not None or self.batch.revoked_at is not None:
            return self.State.REVOKED
        if now >= self.batch.expires_at:
            return self.State.EXPIRED
        return self.State.UNUSED

"""referrals: sales credit (销售归属) — leads operators give to reps, and supervisors' teams (团队)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.crypto import EncryptedTextField, mask_phone

__all__ = [
    "SalesLead",
    "SalesTeam",
    "SalesTeamMember",
]


class SalesLead(models.Model):
    """A prospective member (a user, or a phone number not yet signed up) an operator gave to a rep.

    While open, the lead's orders carry that rep as their rep of record (the rep who closes the sale),
    and the first membership makes them the member's sales rep. At most one open lead per person.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sales_leads",
        verbose_name=_("客户"),
    )
    phone = EncryptedTextField(_("手机号"), blank=True, default="", help_text=_("加密存储"))
    phone_hash = models.CharField(
        _("手机号摘要"), max_length=64, blank=True, default="", editable=False, db_index=True
    )
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="assigned_leads",
        verbose_name=_("销售顾问"),
    )
    note = models.CharField(_("备注"), max_length=200, blank=True, default="")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("分配人"),
    )
    assigned_at = models.DateTimeField(_("分配时间"))
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("结束人"),
    )
    end_reason = models.CharField(_("结束原因"), max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("销售线索")
        verbose_name_plural = _("销售线索")
        ordering = ["-assigned_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False) | ~Q(phone_hash=""), name="lead_user_or_phone"
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(ended_at__isnull=True, user__isnull=False),
                name="uniq_open_lead_user",
            ),
            models.UniqueConstraint(
                fields=["phone_hash"],
                condition=Q(ended_at__isnull=True) & ~Q(phone_hash=""),
                name="uniq_open_lead_phone",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user or mask_phone(self.phone)} → {self.rep_id}"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)


class SalesTeam(models.Model):
    """A supervisor's team (团队): the supervisor earns `override_bp` of the team's monthly net volume."""

    name = models.CharField(_("团队名称"), max_length=64)
    supervisor = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="supervised_team",
        verbose_name=_("主管"),
    )
    override_bp = models.PositiveIntegerField(
        _("管理分润（基点）"), default=0, help_text=_("按团队当月净业绩计提，100 基点 = 1%")
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("销售团队")
        verbose_name_plural = _("销售团队")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(override_bp__lte=10000), name="team_override_at_most_100pct")
        ]

    def __str__(self) -> str:
        return self.name


class SalesTeamMember(models.Model):
    """A rep in a team; a rep belongs to at most one team (so a sale is overridden once)."""

    team = models.ForeignKey(
        SalesTeam, on_delete=models.CASCADE, related_name="members", verbose_name=_("团队")
    )
    rep = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="sales_team_membership",
        verbose_name=_("销售顾问"),
    )

    class Meta:
        verbose_name = _("团队成员")
        verbose_name_plural = _("团队成员")

    def __str__(self) -> str:
        return f"{self.team_id}:{self.rep_id}"

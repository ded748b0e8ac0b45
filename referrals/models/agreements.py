"""referrals: the versioned promoter agreement (推广员协议) and each recorded acceptance.

Published versions are never edited; a promoter earns only after accepting the version that is
required (`referrals.agreements.agreement_accepted`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = [
    "AgreementAcceptance",
    "PromoterAgreement",
]


class PromoterAgreement(models.Model):
    """A version of the promoter agreement (推广员协议). Published versions are never edited."""

    version = models.PositiveIntegerField(_("版本号"), unique=True)
    title = models.CharField(_("标题"), max_length=100)
    body = models.TextField(_("正文"))
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True, db_index=True)
    requires_reacceptance = models.BooleanField(
        _("需重新确认"), default=True, help_text=_("发布后，推广员须同意此版本才能继续获得佣金")
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("推广员协议")
        verbose_name_plural = _("推广员协议")
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"v{self.version} {self.title}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None and self.published_at <= timezone.now()


class AgreementAcceptance(models.Model):
    """A promoter accepted one version of the agreement (append-only record)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="promoter_agreement_acceptances",
        verbose_name=_("用户"),
    )
    agreement = models.ForeignKey(
        PromoterAgreement, on_delete=models.PROTECT, related_name="acceptances", verbose_name=_("协议版本")
    )
    accepted_at = models.DateTimeField(_("同意时间"), auto_now_add=True)
    ip = models.CharField(_("IP 地址"), max_length=64, blank=True, default="")
    user_agent = models.CharField(_("浏览器标识"), max_length=255, blank=True, default="")

    class Meta:
        verbose_name = _("协议确认记录")
        verbose_name_plural = _("协议确认记录")
        constraints = [
            models.UniqueConstraint(fields=["user", "agreement"], name="uniq_agreement_acceptance")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} v{self.agreement_id}"
